"""Long-format panels from the command line: what ``fit``, ``predict`` and ``evaluate`` do when
``--data`` has an id or a time column (``unique_id``, ``ds``), or is ``m4-weekly``.

Options the single-series forecaster shares (``--lookback``, ``--hidden-size``, ``--epochs``,
...) keep their meaning; only those typed on the command line are passed, so the global
forecaster's own defaults (measured on M4 Weekly) apply to the rest.
"""

from __future__ import annotations

import argparse
import sys
import time

from lstmkit.core.errors import expected

_UNSET = object()


def add_column_options(g) -> None:
    """Which columns are the id, the time and the covariates (``fit`` and ``backtest``)."""
    from lstmkit.core.validate import columns

    g.add_argument("--id-col", default="unique_id", metavar="COL",
                   help="the series id column")
    g.add_argument("--time-col", default="ds", metavar="COL",
                   help="the timestamp column (dates or integers)")
    g.add_argument("--futr-exog", type=columns, default=[], metavar="COLS",
                   help="future-known covariates, comma-separated (given for the horizon too)")
    g.add_argument("--hist-exog", type=columns, default=[], metavar="COLS",
                   help="past-only covariates, comma-separated")
    g.add_argument("--static", type=columns, default=[], metavar="COLS",
                   help="per-series constant columns, comma-separated")
    g.add_argument("--freq", metavar="FREQ",
                   help="the frequency (pandas alias such as W-SUN, D, MS, h; or an integer "
                        "step); default: inferred")


def add_panel_args(p) -> None:
    """The ``fit`` options of long-format panels (the model's own: ``--season``, ...)."""
    from lstmkit.cli.options import add_estimator_options
    from lstmkit.forecast.panel.config import GLOBAL_FORECASTER

    g = p.add_argument_group("many series (long format: unique_id, ds, y)")
    add_column_options(g)
    g.add_argument("--static-data", metavar="FILE",
                   help="a table of the static columns, one row per series id")
    g.add_argument("--test-data", metavar="FILE|NAME",
                   help="the test points in a separate long-format table (then --data is all "
                        "training)")
    g.add_argument("--level", type=levels_arg, default=[], metavar="L,L",
                   help="also score prediction intervals at these levels, in percent "
                        "(needs --conformal-windows)")
    add_estimator_options(g, GLOBAL_FORECASTER, sections=("panel",))
    add_estimator_options(g, GLOBAL_FORECASTER, sections=("train",),
                          skip=tuple(f for f in GLOBAL_FORECASTER.names()
                                     if f not in ("steps_per_epoch", "max_windows")))


PANEL_ONLY = ("id_col", "time_col", "futr_exog", "hist_exog", "static", "static_data", "freq",
              "test_data", "level")


def _flags(names) -> str:
    return ", ".join("--" + n.replace("_", "-") for n in sorted(names))


def refuse_panel_options(args) -> None:
    """A single-series fit given options of long-format panels: say what is missing."""
    from lstmkit.forecast.panel.config import GLOBAL_FORECASTER

    own = set(PANEL_ONLY) | {n for n, sec in GLOBAL_FORECASTER.names().items()
                             if sec == "panel" or n in ("steps_per_epoch", "max_windows")}
    wrong = given_options(args) & own
    if wrong:
        raise expected("fit", f"long-format data (a '{args.id_col}' or '{args.time_col}' "
                       f"column) for {_flags(wrong)}", f"'{args.data}' without them")


def is_panel_run(args, frame) -> bool:
    from lstmkit.forecast.panel.frame import Columns, is_panel

    return is_panel(frame, Columns(args.id_col, args.time_col))


def given_options(args) -> set[str]:
    """The ``dest`` of every option typed on the command line (parsed again over a namespace
    holding a sentinel, which argparse leaves where nothing was given)."""
    argv = args.argv
    tokens = argv[argv.index(args.command) + 1:]
    parser = args.parser
    ns = argparse.Namespace(**{a.dest: _UNSET for a in parser._actions
                               if a.dest != argparse.SUPPRESS})
    parser.parse_args(tokens, ns)
    return {k for k, v in vars(ns).items() if v is not _UNSET}


def fit(args, frame) -> int:
    from lstmkit.forecast.data import load_frame
    from lstmkit.forecast.neural import NeuralForecaster
    from lstmkit.forecast.panel.evaluation import check_same_series
    from lstmkit.forecast.panel.frame import Columns, make_panel
    from lstmkit.forecast.panel.model import GlobalForecaster

    given = given_options(args)
    single = (given & (set(NeuralForecaster._fields) | {"features"})) \
        - set(GlobalForecaster._fields)
    if single:
        raise expected("fit", "options of the panel forecaster (long-format data; covariates "
                       "with --futr-exog / --hist-exog / --static)",
                       f"{_flags(single)}, for one series only")
    target = args.target or ["y"]
    if len(target) != 1:
        raise expected("fit", "one --target column for a long-format panel",
                       ", ".join(target))
    kwargs = {k: getattr(args, k) for k in given if k in GlobalForecaster._fields}
    model = GlobalForecaster(**kwargs)
    K = model.horizon
    test = args.test if "test" in given else (0 if args.test_data else K)
    val = args.val if "val" in given else 0
    if args.patience and not val:
        raise expected("fit", "--val > 0 with --patience (early stopping needs a val split)",
                       "--val 0")
    if args.test_data and test:
        raise expected("fit", "--test 0 with --test-data (the test points are in that file)",
                       f"--test {test}")
    cols = Columns(args.id_col, args.time_col, target[0], tuple(args.futr_exog),
                   tuple(args.hist_exog), tuple(args.static))
    test_frame = None  # the --test-data table, read once (as --data: --sep, --decimal)
    if args.test_data:  # refuse a test table of other series before training
        test_frame = load_frame(args.test_data, sep=args.sep, decimal=args.decimal)
        check_same_series(frame, make_panel(test_frame, cols, freq=args.freq,
                                            fillna=args.fillna), cols)
    from lstmkit.cli.options import checkpointed

    if not checkpointed(args.out, lambda folder: model.fit(
            frame, id_col=args.id_col, time_col=args.time_col, target=target[0],
            futr_exog=args.futr_exog, hist_exog=args.hist_exog, static=args.static,
            static_df=args.static_data, freq=args.freq, fillna=args.fillna, test=test,
            val=val, checkpoint=folder, resume=args.resume)):
        return 130
    if args.level and not model.conformal_windows:
        raise expected("fit", "--conformal-windows >= 1 with --level", "0")
    from lstmkit.core.distributed import is_main

    if not is_main():  # torchrun: the other ranks trained their share; rank 0 writes
        return 0
    report = model.evaluate(test_frame, period=args.period, level=args.level) \
        if (test or args.test_data) else None
    from lstmkit.core.report_page import page_writers
    from lstmkit.forecast.report import history_csv

    n = len(model.ids_)
    summary = (report_table(report, f"{model.label} on {args.data}: {n} series, horizon {K}")
               if report is not None else f"{model.label} on {args.data}: {n} series, horizon "
               f"{K}, trained on every point (--test 0): nothing held out to score")
    extra = writers(model, report) | {"history.csv": lambda p: p.write_text(
        history_csv(model.histories_, model.seed_list))} | page_writers(summary, args.out)
    out = model.save(args.out, overwrite=args.overwrite, extra=extra)
    print(summary)
    print(f"\nwrote {out}/")
    return 0


def writers(model, report) -> dict:
    from lstmkit.core.persistence import json_writer

    if report is None:
        return {}
    out = {"forecast.csv": lambda p: report["forecast"].to_csv(p, index=False),
           "metrics.json": json_writer({"overall": report["overall"],
                                        "intervals": report["intervals"],
                                        "quantiles": report["quantiles"],
                                        "seconds": report["seconds"],
                                        "period": report["period"]}),
           "metrics_per_series.csv": lambda p: report["per_series"].to_csv(p, index=False),
           "metrics_per_step.csv": lambda p: report["per_step"].to_csv(p, index=False)}
    if report.get("interval_per_step") is not None:  # coverage, MSIS, pinball per step
        out["intervals_per_step.csv"] = lambda p: report["interval_per_step"].to_csv(
            p, index=False)

    def plot(p):
        from lstmkit.forecast.panel.plots import plot_panel_forecast

        plot_panel_forecast(model, report).savefig(p, dpi=110)

    out["forecast.png"] = plot
    return out


def report_table(report: dict, title: str) -> str:
    from lstmkit.core.table import format_table

    rows = [[name, f"{m['smape']:.3f}", f"{m['mase']:.3f}", f"{m['owa']:.3f}",
             f"{report['seconds'].get(name, 0):.1f}"] for name, m in report["overall"].items()]
    best = min(report["overall"].items(), key=lambda kv: kv[1]["owa"])[0]
    model = next(iter(report["overall"]))
    verdict = (f"verdict: {model} is the most accurate (lowest OWA)" if best == model else
               f"verdict: {model} does NOT beat {best} (OWA {report['overall'][best]['owa']:.3f})")
    head = ["method", "sMAPE", f"MASE (m={report.get('period', '?')})", "OWA", "fit+predict s"]
    text = format_table(head, rows, title, "<>>>>") + "\n" + verdict
    if report.get("intervals"):
        names = list(next(iter(report["intervals"].values())))
        rows = [[name, *(f"{m[k]:.3f}" for k in names)]
                for name, m in report["intervals"].items()]
        text += "\n\n" + format_table(["intervals", *names], rows, "", "<" + ">" * len(names))
    return text


def predict(args, model) -> int:
    from lstmkit.core.persistence import atomic_write_text

    forecast = model.predict(args.data, futr_df=args.futr, level=args.level)
    if args.out:
        atomic_write_text(args.out, forecast.to_csv(index=False))
        print(f"wrote {args.out}")
    else:
        forecast.to_csv(sys.stdout, index=False)
    return 0


def evaluate(args, model) -> int:
    import json

    if not args.test_data:
        raise expected("evaluate", "--test-data for a panel model (the points after --data)",
                       "none")
    from lstmkit.forecast.data import load_frame

    def read(source):  # both tables as --data is read everywhere: --sep, --decimal
        return load_frame(source, sep=args.sep, decimal=args.decimal)

    report = model.evaluate(read(args.test_data), read(args.data), period=args.period,
                            level=args.level)
    if args.json:
        print(json.dumps({k: report[k] for k in ("overall", "intervals", "seconds", "period")},
                         indent=2))
        return 0
    print(report_table(report, f"{model.label} on {args.test_data}: "
                               f"{len(report['per_series']) // len(report['overall'])} series"))
    return 0


ORDER = 11


def register(sub) -> None:
    """``lstmkit backtest``: rolling-origin evaluation of the global forecaster."""
    from lstmkit.cli.options import add_data_args, add_estimator_groups, add_out_args, option_type
    from lstmkit.core.validate import positive_int
    from lstmkit.forecast.panel.config import GLOBAL_FORECASTER

    count = option_type(positive_int.parse, "positive_int")
    p = sub.add_parser("backtest", help="rolling-origin backtest of the global forecaster",
                       description="Forecast the horizon after each of --n-windows cut-offs "
                       "(--step apart, the newest one horizon before the end of each series), "
                       "refitting on each fold's history only (or one model, --no-refit), "
                       "and score every fold beside naive, seasonal naive and Naive2.")
    add_data_args(p)
    g = p.add_argument_group("columns (long format)")
    g.add_argument("--target", default="y", metavar="COL", help="the target column")
    add_column_options(g)
    g = p.add_argument_group("backtest")
    g.add_argument("--n-windows", type=count, default=3, metavar="K", help="cut-offs")
    g.add_argument("--step", type=count, metavar="S",
                   help="points between cut-offs (default: the horizon)")
    g.add_argument("--refit", action=argparse.BooleanOptionalAction, default=True,
                   help="train a model per fold on its history (--no-refit: one model "
                        "trained before the oldest cut-off forecasts every fold at once)")
    g.add_argument("--level", type=levels_arg, default=[], metavar="L,L",
                   help="interval levels in percent (needs --conformal-windows)")
    g.add_argument("--skip-short", action="store_true",
                   help="a fold leaves out the series too short for it (default: refuse "
                        "more windows than the shortest series allows)")
    g.add_argument("--period", type=count, metavar="N",
                   help="the period of MASE's scale and Naive2 (default --season)")
    add_estimator_groups(p, GLOBAL_FORECASTER, ("window", "panel", "network"), "model")
    add_out_args(p)
    p.set_defaults(func=backtest)


def levels_arg(text: str) -> list[float]:
    """``80,95`` -> [80.0, 95.0], each in (0, 100), distinct."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected levels in (0, 100) such as 80,95, got "
                                         f"{text!r}") from None
    if not values or any(not 0 < v < 100 for v in values) or len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"expected distinct levels in (0, 100) such as 80,95, "
                                         f"got {text!r}")
    return values


def backtest(args) -> int:
    from lstmkit.cli.options import estimator_kwargs
    from lstmkit.core.distributed import refuse
    from lstmkit.core.persistence import check_out_dir, json_writer, write_run_dir
    from lstmkit.forecast.data import load_frame
    from lstmkit.forecast.panel.evaluation import backtest_report
    from lstmkit.forecast.panel.frame import Columns, make_panel
    from lstmkit.forecast.panel.intervals import backtest_folds, backtest_table
    from lstmkit.forecast.panel.model import GlobalForecaster

    refuse("backtest", "a backtest (it trains one model per fold: run it without torchrun)")
    check_out_dir(args.out, args.overwrite)
    model = GlobalForecaster(**estimator_kwargs(args, GlobalForecaster))
    if args.level and not model.conformal_windows:
        raise expected("backtest", "--conformal-windows >= 1 with --level", "0")
    cols = Columns(args.id_col, args.time_col, args.target, tuple(args.futr_exog),
                   tuple(args.hist_exog), tuple(args.static))
    frame = load_frame(args.data, sep=args.sep, decimal=args.decimal)
    if not is_panel_run(args, frame):  # one plain series: its rows are its time steps
        frame = frame.assign(**{cols.time_col: range(len(frame))})
    panel = make_panel(frame, cols, freq=args.freq, fillna=args.fillna)
    step = args.step or model.horizon
    t0 = time.perf_counter()
    folds = backtest_folds(model, panel, args.n_windows, step, args.refit,
                           calibrated=bool(args.level), skip_short=args.skip_short)
    seconds = time.perf_counter() - t0
    model.columns_ = cols
    table = backtest_table(model, panel, folds, args.level)
    report = backtest_report(model, folds, args.period or model.season)
    report["seconds"], report["period"] = {model.label: seconds}, args.period or model.season
    scored = "/".join(str(len(h.ids)) for _, h, _, _, _ in folds)

    def plot(p):
        from lstmkit.forecast.panel.plots import plot_error_by_step

        plot_error_by_step(report["per_step"]).savefig(p, dpi=110)

    from lstmkit.core.report_page import page_writers

    summary = report_table(report, f"{model.label} backtest on {args.data}: {len(panel.ids)} "
                           f"series ({scored} scored per fold), {args.n_windows} folds of "
                           f"horizon {model.horizon}, step {step}, "
                           f"{'refit' if args.refit else 'no refit'}")
    out = write_run_dir(args.out, {
        "backtest.csv": lambda p: table.to_csv(p, index=False),
        "metrics.json": json_writer({"overall": report["overall"],
                                     "per_fold": report["per_fold"],
                                     "seconds": report["seconds"]}),
        "metrics_per_step.csv": lambda p: report["per_step"].to_csv(p, index=False),
        "error_by_step.png": plot, **page_writers(summary, args.out)}, overwrite=args.overwrite)
    print(summary)
    print(f"\nwrote {out}/")
    return 0
