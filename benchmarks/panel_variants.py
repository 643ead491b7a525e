"""How the global forecaster's default was chosen: M4 Weekly OWA of its variants.

    .venv/bin/python benchmarks/panel_variants.py [--only N ...]

Each row fits ``GlobalForecaster(13, season=52, **variant)`` on the 359 training series of
M4 Weekly (test=0) and scores the 13 test weeks with M4's OWA (m = 1); the table in README
("The default model, and why") was printed by this script, run on the 2-core VM (about 15
minutes for every row; the fit seconds are only comparable within one quiet run).
"""

from __future__ import annotations

import argparse
import time

from lstmkit.core.table import format_table
from lstmkit.forecast.panel.model import GlobalForecaster

VARIANTS = [
    {"lookback": 52},
    {"lookback": 52, "seeds": 4},
    {"lookback": 52, "epochs": 20},
    {"lookback": 52, "hidden_size": 128},
    {"lookback": 52, "num_layers": 2},
    {"lookback": 52, "cell": "gru"},
    {"lookback": 52, "normalize": "window"},
    {"lookback": 39},
    {},  # the default: lookback 65, log windows, 10 epochs, 2 seeds
    {"normalize": "window"},
    {"normalize": "window", "seed": 10},
    {"epochs": 20},
    {"normalize": "window", "epochs": 20},
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", type=int, nargs="*", help="row numbers to run (default: all)")
    args = ap.parse_args()
    rows = []
    for i, v in enumerate(VARIANTS):
        if args.only and i not in args.only:
            continue
        t0 = time.perf_counter()
        f = GlobalForecaster(13, season=52, progress=False, **v).fit("m4-weekly", test=0)
        fit_s = time.perf_counter() - t0
        o = f.evaluate("m4-weekly:part=test", period=1, statistical=False)["overall"][f.label]
        rows.append([i, ", ".join(f"{k}={x}" for k, x in v.items()) or "default",
                     f"{o['smape']:.3f}", f"{o['mase']:.3f}", f"{o['owa']:.3f}", f"{fit_s:.0f}"])
        print(rows[-1], flush=True)
    print(format_table(["#", "variant", "sMAPE", "MASE", "OWA", "fit s"], rows,
                       "M4 Weekly, global forecaster variants", "><>>>>"))


if __name__ == "__main__":
    main()
