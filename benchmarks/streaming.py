"""Streaming inference: the cost of one update against calling ``predict``, and what carrying
the state does to accuracy.

    .venv/bin/python benchmarks/streaming.py

1. One series, LSTM(64), lookback 168, horizon 24 (one torch thread: one small update is
   latency-bound, threads only add synchronisation): median latency of ``s.update`` (a
   row in, the state stepped), of ``s.update`` + ``s.forecast_array``, and of
   ``predict`` on the 168-row window, over 2,000 calls after a warm-up.
2. 10,000 series updated together (the same model, one state per series, default threads):
   median latency of one ``update`` of all of them, and of ``forecast_array``, against
   forecasting the same 10,000 windows at once (the batched predict behind ``evaluate``).
3. The global forecaster's stream (``GlobalForecaster.stream``: a lookback-long window per
   series, shifted by each update; see ``lstmkit/forecast/panel/stream.py``): 1,000 weekly
   series of 300 points, LSTM(64), lookback 52, horizon 13. Median latency of one
   ``update`` of every series, of ``forecast`` (long format with dates), and of
   ``predict`` on the whole history (reading the 300,000-row table included), which is what
   a user without the stream would call after each new week.
4. Accuracy on the gas furnace (the ``make demo`` protocol: lookback 10, early stopping on
   30 rows, the last 100 rows as test, LSTM(64), 3 seeds; with the linear skip, the
   default, and without it): test MSE of ``predict`` (the state re-started on each 10-row
   window, as in training) against the stream (the state warmed up over the whole history
   and carried through the test rows).

Targets (issue 15): update <= 50 µs median, 10,000-series update <= 10 ms, update >= 20x
faster than ``predict`` at lookback 168. About a minute on 2 cores.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
import torch
from _checks import finish

from lstmkit.core.table import format_table
from lstmkit.forecast import LSTMForecaster
from lstmkit.forecast.data import load_frame


def median_us(fn, n: int, warm: int = 50) -> float:
    for _ in range(warm):
        fn()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) * 1e6


def synthetic(n: int, rng) -> pd.DataFrame:
    t = np.arange(n)
    return pd.DataFrame({"y": 10 + np.sin(2 * np.pi * t / 24) + 0.2 * rng.standard_normal(n)})


def one_series(rng) -> dict:
    frame = synthetic(3000, rng)
    f = LSTMForecaster(lookback=168, horizon=24, hidden_size=64, epochs=1,
                       progress=False).fit(frame, test=0.1)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    s = f.stream(frame.iloc[:1000])
    values = iter(np.tile(frame["y"].to_numpy(), 10))
    update = median_us(lambda: s.update(next(values)), 2000)

    def both():
        s.update(next(values))
        s.forecast_array()

    together = median_us(both, 2000)
    window = frame.iloc[:168]
    predict = median_us(lambda: f.predict(window), 300, warm=20)
    torch.set_num_threads(threads)
    return {"model": f, "update": update, "update+forecast": together, "predict": predict}


def many_series(f, rng, n: int = 10_000) -> dict:
    L = f.lookback
    base = synthetic(L + 100, rng)["y"].to_numpy()
    shifts = rng.integers(0, 24, n)
    rows = np.stack([np.roll(base, k) for k in shifts])  # (n, L + 100)
    t0 = time.perf_counter()
    s = f.stream([pd.DataFrame({"y": r[:L]}) for r in rows])
    warm = time.perf_counter() - t0
    col = iter(range(L, L + 100))
    update = median_us(lambda: s.update(rows[:, next(col), None]), 60, warm=5)
    forecast = median_us(s.forecast_array, 20, warm=2)
    X = f.x_scaler_.transform(rows[:, -L:, None].reshape(-1, 1)).reshape(n, L, 1)  # (n, L, 1)
    predict = median_us(lambda: f._predict_scaled(X, X), 5, warm=1)
    return {"warm-up": warm, "update": update, "forecast": forecast, "predict": predict}


def global_stream(rng, S: int = 1000, n: int = 300) -> dict:
    from lstmkit.forecast.panel.model import GlobalForecaster

    t = np.arange(n)
    level = 100 + 10 * rng.random((S, 1))  # (S, 1)
    y = level + 5 * np.sin(2 * np.pi * t / 52)[None] + rng.standard_normal((S, n))  # (S, n)
    frame = pd.DataFrame({"unique_id": np.repeat([f"s{i}" for i in range(S)], n),
                          "ds": np.tile(pd.date_range("2015-01-04", periods=n, freq="W-SUN"),
                                        S),
                          "y": y.ravel()})
    f = GlobalForecaster(lookback=52, horizon=13, hidden_size=64, epochs=1, steps_per_epoch=5,
                         seeds=1, workers=1, progress=False).fit(frame, test=0)
    s = f.stream(frame)
    week = iter(range(10**6))
    update = median_us(lambda: s.update(y[:, next(week) % n]), 30, warm=3)
    forecast = median_us(s.forecast, 10, warm=2)
    predict = median_us(lambda: f.predict(frame), 5, warm=1)
    return {"update": update, "forecast": forecast, "predict": predict}


def accuracy() -> list[list[str]]:
    gas = load_frame("gas-furnace")
    rows = []
    for name, kw in (("LSTM(64), linear skip (the default)", {}),
                     ("LSTM(64), no skip", dict(linear_skip=False))):
        f = LSTMForecaster(lookback=10, horizon=1, hidden_size=64, epochs=200, patience=20,
                           seeds=3, progress=False, **kw).fit(gas, target="CO2", test=100,
                                                              val=30)
        w = f.predict_windows()
        origins = w["start"]  # (M,) the first forecast row of each test window
        s = f.stream(gas.iloc[:origins[0]])
        stream = []
        for r in origins:
            while s.rows_seen[0] < r:
                i = int(s.rows_seen[0])
                s.update(gas["CO2"].iloc[i], [gas["GR"].iloc[i]])
            stream.append(s.forecast_array()[0])
        stream = np.stack(stream)  # (M, K, D)
        scale = f.y_scaler_.std ** 2  # MSE on the normalized scale, as the demo reports it
        mse = lambda p, w=w, scale=scale: float(np.mean((p - w["y_true"]) ** 2 / scale))
        rows.append([name, ",".join(map(str, f.best_epochs_)), f"{mse(w['y_pred']):.5f}",
                     f"{mse(stream):.5f}"])
    return rows


def main() -> int:
    rng = np.random.default_rng(0)
    one = one_series(rng)
    many = many_series(one["model"], rng)
    ratio = one["predict"] / one["update"]
    print(format_table(["one series, LSTM(64), lookback 168", "median µs"], [
        ["stream update", f"{one['update']:.1f}"],
        ["stream update + forecast", f"{one['update+forecast']:.1f}"],
        ["predict on the 168-row window", f"{one['predict']:.1f}"],
        ["predict / update", f"{ratio:.1f}x"],
        ["predict / (update + forecast)", f"{one['predict'] / one['update+forecast']:.1f}x"],
    ]))
    print()
    print(format_table(["10,000 series together", "median ms"], [
        ["stream update (all series)", f"{many['update'] / 1e3:.2f}"],
        ["stream forecast (all series)", f"{many['forecast'] / 1e3:.2f}"],
        ["predict on the 10,000 windows (batched)", f"{many['predict'] / 1e3:.2f}"],
        ["warm-up over 168 rows each (once)", f"{many['warm-up'] * 1e3:.0f}"],
    ]))
    print()
    glob = global_stream(rng)
    print(format_table(["global forecaster, 1,000 weekly series", "median ms"], [
        ["stream update (all series)", f"{glob['update'] / 1e3:.2f}"],
        ["stream forecast (all series, long format)", f"{glob['forecast'] / 1e3:.1f}"],
        ["predict on the whole history (300 weeks each)", f"{glob['predict'] / 1e3:.0f}"],
        ["predict / (update + forecast)",
         f"{glob['predict'] / (glob['update'] + glob['forecast']):.1f}x"],
    ]))
    print()
    print(format_table(["gas furnace, 3 seeds", "best epochs", "predict (window)",
                        "stream (history)"], accuracy()))
    print("(test MSE, normalized; the window context is what the networks were trained on)")
    return finish([
        (f"one-series update {one['update']:.1f} µs <= 50 µs", one["update"] <= 50),
        (f"10,000-series update {many['update'] / 1e3:.2f} ms <= 10 ms",
         many["update"] <= 10_000),
        (f"update {ratio:.1f}x faster than predict at lookback 168 (>= 20x)", ratio >= 20),
    ])


if __name__ == "__main__":
    sys.exit(main())
