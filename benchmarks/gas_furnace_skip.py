"""Why the single-series forecaster has a linear skip: the gas furnace with and without it.

    .venv/bin/python benchmarks/gas_furnace_skip.py [--horizon 5]

The protocol of ``lstmkit demo`` (GR and CO2 in and out, lookback 10, the last 100 rows as
test, 5 seeds, LSTM(64), Adam 1e-3, batch 32, up to 200 epochs). Rows: the LSTM without the
skip, with the skip and no early stopping, with the skip and early stopping on the 30 rows
before the test (patience 20, the demo's setting), the fixed skip alone (a ridge AR), and
linear AR (ordinary least squares) fitted on the same training rows. Test MSE on the
normalized scale, the mean over seeds (min-max). README's tables ("Forecasting from
Python") were printed by this script (horizon 1 and 5); each takes about a minute on 2
cores.
"""

from __future__ import annotations

import argparse

from lstmkit.core.table import format_table
from lstmkit.forecast import BaselineForecaster, NeuralForecaster
from lstmkit.forecast.data import load_frame

COLS = ["GR", "CO2"]
COMMON = dict(lookback=10, horizon=1, hidden_size=64, epochs=200, batch_size=32, lr=1e-3,
              seeds=5, progress=False)
ROWS = [
    ("the skip alone (lr 1e-12: the head stays at zero)", dict(lr=1e-12, epochs=1), 0),
    ("LSTM(64), no skip", dict(linear_skip=False), 0),
    ("LSTM(64), skip, 200 epochs", {}, 0),
    ("LSTM(64), no skip, early stopping", dict(linear_skip=False, patience=20), 30),
    ("LSTM(64), skip, early stopping (the demo)", dict(patience=20), 30),
]


def mse_cell(model) -> str:
    m = model.evaluate()["aggregate"]["normalized"]["overall"]["mse"]
    if isinstance(m, dict):
        return f"{m['mean']:.5f} [{m['min']:.5f}-{m['max']:.5f}]"
    return f"{m:.5f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--horizon", type=int, default=1, help="steps forecast (direct)")
    K = ap.parse_args().horizon
    frame = load_frame("gas-furnace")
    rows = []
    for label, change, val in ROWS:
        f = NeuralForecaster(**{**COMMON, "horizon": K, **change}).fit(frame, COLS, COLS,
                                                                         test=100, val=val)
        rows.append([label, str(val), mse_cell(f), f"{sum(f.train_seconds_):.1f}"])
    for val in (0, 30):
        ar = BaselineForecaster(10, K, kind="linear").fit(frame, COLS, COLS, test=100, val=val)
        rows.append([f"linear AR (train rows: val {val} held out)", str(val), mse_cell(ar), "-"])
    print(f"Gas furnace, lookback 10, horizon {K}, last 100 rows test, 5 seeds")
    print(format_table(["model", "val rows", "test MSE mean [min-max]", "train s"], rows))


if __name__ == "__main__":
    main()
