"""``lstmkit report DIR``: (re)write a run directory's ``report.html`` from its files."""

from __future__ import annotations

ORDER = 17


def register(sub) -> None:
    p = sub.add_parser("report", help="regenerate a run directory's report.html (one "
                                      "self-contained page: metrics, plots, config, timings)")
    p.add_argument("run", metavar="DIR", help="a run directory (of fit, classify fit, text "
                   "fit, text classify fit or backtest)")
    p.set_defaults(func=run)


def run(args) -> int:
    from lstmkit.core.report_page import write_report

    print(f"wrote {write_report(args.run)}")
    return 0
