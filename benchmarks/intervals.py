"""M4 Weekly 95% and 80% prediction intervals: lstmkit's conformal intervals against the
baselines' intervals.

    .venv/bin/python benchmarks/intervals.py [--windows W] [--forecast FILE.csv]

Fits ``GlobalForecaster(horizon=13, season=52, conformal_windows=W)`` on the 359 training
series (W rolling-origin refits on the training part calibrate the intervals, then the final
fit), forecasts the 13 test weeks with ``lo_95/hi_95`` and ``lo_80/hi_80``, and scores them
as M4 did: coverage, MSIS (alpha = 0.05, scaled like MASE with m = 1) and ACD
(``|coverage - 0.95|``), beside the naive and seasonal-naive intervals (residual quantiles)
and statsforecast's AutoETS intervals. ``--forecast`` writes lstmkit's forecast with its
95% interval for an independent scorer.

``--method quantile`` trains the quantile head instead (pinball loss; the intervals are its
0.025/0.975 and 0.1/0.9 quantiles; no calibration refits).

Targets (issue 13): MSIS <= 20.4 (better than ETS and ES-RNN), ACD <= 0.02, coverage at 80%
within 0.03 of 0.80; stretch MSIS <= 17.
"""

from __future__ import annotations

import argparse
import sys
import time

from _checks import finish

from lstmkit.core.table import format_table
from lstmkit.forecast.panel.model import GlobalForecaster

PUBLISHED = {"Naive (published)": (26.36, 0.001), "ETS (published)": (20.39, 0.014),
             "ARIMA (published)": (19.58, 0.005), "Smyl's ES-RNN (published)": (22.03, 0.021),
             "best Weekly entry (published)": (16.20, 0.012)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--windows", type=int, default=3, help="conformal_windows (default 3)")
    ap.add_argument("--method", choices=["conformal", "quantile"], default="conformal",
                    help="conformal calibration (default) or the quantile head (pinball loss, "
                         "quantiles 0.025, 0.1, 0.5, 0.9, 0.975)")
    ap.add_argument("--forecast", metavar="FILE.csv", help="write lstmkit's forecast here")
    args = ap.parse_args()
    if args.method == "quantile":
        model = GlobalForecaster(13, season=52, quantiles=(0.025, 0.1, 0.5, 0.9, 0.975),
                                 progress=False)
    else:
        model = GlobalForecaster(13, season=52, conformal_windows=args.windows, progress=False)
    t0 = time.perf_counter()
    model.fit("m4-weekly", test=0)
    forecast = model.predict(level=(80, 95))
    seconds = time.perf_counter() - t0
    report = model.evaluate("m4-weekly:part=test", period=1, level=(80, 95))
    rows = []
    for name, m in report["intervals"].items():
        secs = seconds if name == model.label else report["seconds"].get(name, 0.0)
        rows.append([name, f"{m['coverage_95']:.3f}", f"{m['msis_95']:.2f}",
                     f"{m['acd_95']:.3f}", f"{m['coverage_80']:.3f}", f"{secs:.1f}"])
    rows += [[name, "", f"{msis:.2f}", f"{acd:.3f}", "", ""]
             for name, (msis, acd) in PUBLISHED.items()]
    print(format_table(["method", "coverage 95", "MSIS 95", "ACD 95", "coverage 80",
                        "fit+predict s"], rows,
                       f"M4 Weekly intervals, 359 series, horizon 13 ({model.label}: "
                       + (f"conformal, {args.windows} calibration refits)"
                          if args.method == "conformal" else "quantile head)"), "<>>>>>"))
    m = report["intervals"][model.label]
    checks = [("MSIS 95 <= 20.4", m["msis_95"] <= 20.4), ("ACD 95 <= 0.02", m["acd_95"] <= 0.02),
              ("coverage 80 within 0.03 of 0.80", abs(m["coverage_80"] - 0.80) <= 0.03)]
    print(f"point forecast: OWA {report['overall'][model.label]['owa']:.3f}")
    return finish(checks, forecast, args.forecast)


if __name__ == "__main__":
    sys.exit(main())
