"""M4 Weekly: lstmkit's default global forecaster against the statistical baselines.

    .venv/bin/python benchmarks/panel_accuracy.py [--seeds N] [--forecast FILE.csv]

Trains ``GlobalForecaster(horizon=13, season=52)`` with its defaults on the 359 training
series of M4 Weekly (the copy inside the package, ``m4-weekly``), forecasts the 13 weeks
after each, and scores it beside naive, seasonal naive (m = 52), Naive2, and statsforecast's
AutoETS and AutoTheta, all forecasting from the same histories. Scoring is M4's: sMAPE, MASE
with m = 1 (the competition's period for weekly data) and OWA relative to Naive2; the
published Naive2 figures (9.161 / 2.777) are what the naive row must show. ``--forecast``
writes lstmkit's forecast as ``unique_id, ds, forecast`` for an independent scorer.

Targets (issue 12): OWA <= 0.85 (Smyl's ES-RNN, the M4 winner, published 0.851), better than
AutoTheta, and lstmkit's fit + predict <= 5 minutes on the 2-core CI machine.
"""

from __future__ import annotations

import argparse
import sys
import time

from _checks import finish

from lstmkit.core.table import format_table
from lstmkit.forecast.panel.model import GlobalForecaster

PUBLISHED = {"Smyl's ES-RNN (published)": 0.851, "best M4 Weekly entry (published)": 0.739}
TARGET_OWA, TARGET_SECONDS = 0.85, 300.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, help="ensemble size (default: the forecaster's)")
    ap.add_argument("--forecast", metavar="FILE.csv", help="write lstmkit's forecast here")
    args = ap.parse_args()
    extra = {} if args.seeds is None else {"seeds": args.seeds}
    model = GlobalForecaster(13, season=52, progress=False, **extra)
    t0 = time.perf_counter()
    model.fit("m4-weekly", test=0)
    t1 = time.perf_counter()
    forecast = model.predict()
    t2 = time.perf_counter()
    report = model.evaluate("m4-weekly:part=test", period=1)
    own = model.label
    seconds = {**report["seconds"], own: t2 - t0}
    rows = [[name, f"{m['smape']:.3f}", f"{m['mase']:.3f}", f"{m['owa']:.3f}",
             f"{seconds[name]:.1f}"] for name, m in report["overall"].items()]
    rows += [[name, "", "", f"{owa:.3f}", ""] for name, owa in PUBLISHED.items()]
    print(format_table(["method", "sMAPE", "MASE", "OWA", "fit+predict s"], rows,
                       f"M4 Weekly, 359 series, horizon 13 ({own}: {model.get_params()['cell']}"
                       f" {model.hidden_size}, {len(model.seed_list)} seeds, fit "
                       f"{t1 - t0:.1f} s, predict {t2 - t1:.2f} s)", "<>>>>"))
    o = report["overall"]
    checks = [(f"OWA <= {TARGET_OWA}", o[own]["owa"] <= TARGET_OWA),
              ("better than AutoTheta", o[own]["owa"] < o["AutoTheta"]["owa"]),
              (f"fit + predict <= {TARGET_SECONDS:.0f} s", seconds[own] <= TARGET_SECONDS)]
    return finish(checks, forecast, args.forecast)


if __name__ == "__main__":
    sys.exit(main())
