"""The course's forecasting experiments, re-run with its own hyperparameters.

Each report gives the setting, the figure the course printed, lstmkit's figure
(mean [min–max] over seeds, plus the median where one run can dominate the
mean), the naive baseline on the same windows and a one-line verdict.
"""

from __future__ import annotations

import time

from lstmkit.core.aggregate import format_mmm
from lstmkit.experiments import Experiment
from lstmkit.forecast import BaselineForecaster, NeuralForecaster
from lstmkit.forecast.data import load_frame


def _fit(frame, targets, features, test, val=0, **kw):
    t0 = time.perf_counter()
    model = NeuralForecaster(progress=False, **kw)
    model.fit(frame, target=targets, features=features, test=test, val=val)
    rep = model.evaluate()
    rep["seconds"] = time.perf_counter() - t0
    return model, rep


def _agg(rep, metric, units="normalized"):
    return rep["aggregate"][units]["overall"][metric]


def _pct(d) -> str:
    scaled = {k: d[k] * 100 for k in ("mean", "min", "max")}
    return format_mmm(scaled, "{:.2f}%") + f", median {d['median'] * 100:.2f}%"


# --------------------------------------------------------------------------- fibonacci
def fibonacci(quick: bool = False) -> str:
    seeds, epochs = (3, 10) if quick else (20, 100)
    frame = load_frame("fibonacci")
    course = dict(lookback=3, horizon=1, hidden_size=4, activation="relu", loss="mae", lr=0.01,
                  epochs=epochs, batch_size=10, seeds=seeds)
    runs = {
        "course model, no scaling": dict(scaler="none", residual=False, linear_skip=False),
        "course model, log scaling": dict(scaler="log", residual=False, linear_skip=False),
        "lstmkit default (log, residual, linear skip)": dict(scaler="log"),
    }
    lines = [f"Fibonacci (n=30; rows 10 train / 5 val / 15 test -> 12 test windows): "
             f"LSTM(4, relu), window 3, MAE loss, Adam 0.01, {epochs} epochs, batch 10, "
             f"{seeds} seeds",
             "course figure: 2.75% mean relative error (one run)"]
    dead = 0
    for name, kw in runs.items():
        _, rep = _fit(frame, "fib", "fib", test=15, val=5, **course, **kw)
        mre = _agg(rep, "mre", "original")
        if name.startswith("course model, no"):
            dead = sum(v >= 0.99 for v in mre["values"])
            first = mre
        lines.append(f"  {name:42s} rel. error {_pct(mre)}")
    naive = rep["naive"]["original"]["overall"]["mre"]
    lin = BaselineForecaster(3, 1, kind="linear", scaler="none").fit(frame, test=15, val=5)
    lin_mre = lin.evaluate()["aggregate"]["original"]["overall"]["mre"]["mean"]
    lines.append(f"  {'naive (last value)':42s} rel. error {naive * 100:.2f}%")
    lines.append(f"  {'linear AR (least squares on the window)':42s} rel. error "
                 f"{lin_mre * 100:.2f}%  (F_n = F_(n-1) + F_(n-2) is linear)")
    lucky = sum(v <= 0.0275 for v in first["values"])
    lines.append(f"verdict: 2.75% is a lucky seed ({lucky}/{seeds} runs reach it); with the "
                 f"course's settings the median is {first['median'] * 100:.1f}% and the mean "
                 f"{first['mean'] * 100:.1f}% because {dead} run(s) die (ReLU outputs stuck at 0).")
    return "\n".join(lines)


# --------------------------------------------------------------------------- sine
def _sine_run(lookback: int, quick: bool):
    """2-layer LSTM(50), Adam 0.001, MSE, batch 32, plain head; last 200 rows as test."""
    seeds, epochs = (2, 3) if quick else (3, 100)
    _, rep = _fit(load_frame("sine"), "sine", "sine", test=200, lookback=lookback,
                  hidden_size=50, num_layers=2, epochs=epochs, lr=1e-3, loss="mse",
                  batch_size=32, seeds=seeds, residual=False, linear_skip=False)
    mse, naive = _agg(rep, "mse", "original"), rep["naive"]["original"]["overall"]["mse"]
    verdict = (f"{'beats' if mse['max'] < naive else 'does not beat'} the naive forecast on "
               f"every seed (skill {format_mmm(rep['aggregate']['skill']['overall'], '{:+.3f}')})")
    return seeds, epochs, rep, mse, naive, verdict


def sine(quick: bool = False) -> str:
    seeds, epochs, rep, mse, naive, verdict = _sine_run(20, quick)
    return "\n".join([
        f"Sine sin(linspace(0, 100, 1000)): 2-layer LSTM(50), Adam 0.001, MSE, {epochs} epochs, "
        f"batch 32, {seeds} seeds; lookback 20, one step ahead, last 200 rows as test",
        "course figure: none for held-out data — the course's PyTorch script fits one window "
        "spanning the whole series and reports its training loss; here the model forecasts "
        "unseen rows",
        f"lstmkit test MSE {format_mmm(mse, '{:.2e}')}   naive {naive:.2e}   "
        f"({time.strftime('%M:%S', time.gmtime(rep['seconds']))} min:s)",
        f"verdict: {verdict}.",
    ])


def keras_stacked(quick: bool = False) -> str:
    seeds, epochs, _, mse, naive, verdict = _sine_run(50, quick)
    return "\n".join([
        f"Keras stacked: LSTM(50, return_sequences=True) -> LSTM(50) -> Dense(1), Adam, MSE, "
        f"{epochs} epochs, batch 32, {seeds} seeds, on the sine; lookback 50, last 200 rows test",
        "course figure: none printed for held-out data (training loss curve only)",
        "note: Keras initialises the forget-gate bias to 1 and uses Glorot/orthogonal weights; "
        "lstmkit uses torch's uniform(±1/√H) (ref.lstm.init(forget_bias=1.0) gives Keras' bias)",
        f"lstmkit test MSE {format_mmm(mse, '{:.2e}')}   naive {naive:.2e}",
        f"verdict: the stacked LSTM {verdict}.",
    ])


# --------------------------------------------------------------------------- gas furnace
def _gas(cell: str, quick: bool) -> str:
    seeds, epochs = (2, 5) if quick else (5, 200)
    frame = load_frame("gas-furnace")
    cols = ["GR", "CO2"]
    label = cell.upper()
    course_fig = {"lstm": "LSTM 0.5830, MLP 0.8090", "gru": "(exercise; no figure printed)"}
    raw, raw_fast = {}, {}
    for name, c in ((label, cell), ("MLP", "mlp")):
        _, raw[name] = _fit(frame, cols, cols, test=100, cell=c, hidden_size=64, epochs=epochs,
                            seeds=seeds, scaler="none", residual=False, linear_skip=False)
        _, raw_fast[name] = _fit(frame, cols, cols, test=100, cell=c, hidden_size=64,
                                 epochs=epochs, seeds=seeds, scaler="none", residual=False,
                                 linear_skip=False, lr=1e-2)
    _, norm = _fit(frame, cols, cols, test=100, val=30, cell=cell, hidden_size=64,
                   epochs=epochs, seeds=seeds, patience=20)
    raw_naive = raw[label]["naive"]["original"]["overall"]["mse"]
    norm_naive = norm["naive"]["normalized"]["overall"]["mse"]
    mse = _agg(norm, "mse")
    lines = [
        f"Gas furnace (GR, CO2 in and out), lookback 10, last 100 rows test, {label}(64) and "
        f"MLP, {epochs} epochs, batch 32, Adam 0.001, {seeds} seeds",
        f"course figure (test MSE, raw units, trained on raw data): {course_fig[cell]}",
        "1) as the notebook executed it: raw data, plain network (no scaling, no residual; "
        "Adam 0.001 and batch 32 assumed)",
    ]
    for name, rep in raw.items():
        lines.append(f"  {name:6s} raw test MSE {format_mmm(_agg(rep, 'mse', 'original'))}")
    lines.append("  the notebook does not show its optimiser settings; on raw data the figure "
                 "hangs on them. With Adam lr 0.01:")
    for name, rep in raw_fast.items():
        lines.append(f"  {name:6s} raw test MSE {format_mmm(_agg(rep, 'mse', 'original'))}")
    lines += [f"  naive  raw test MSE {raw_naive:.4f}",
              "2) lstmkit's protocol (as lstmkit demo): standard scaling fitted on train rows, "
              "residual head, linear skip, the 30 rows before the test as validation "
              "(patience 20)",
              f"  {label:6s} normalized test MSE {format_mmm(mse)}  "
              f"skill {format_mmm(norm['aggregate']['skill']['overall'], '{:+.3f}')}",
              f"  naive  normalized test MSE {norm_naive:.4f}"]
    mlp_raw = _agg(raw["MLP"], "mse", "original")["mean"]
    lines.append(
        f"verdict: the notebook's figures are raw-unit MSEs; on raw data the MLP "
        f"({mlp_raw:.3f}) {'loses to' if mlp_raw > raw_naive else 'beats'} naive "
        f"({raw_naive:.3f}); normalized, {label}(64) beats naive on "
        f"{sum(v < norm_naive for v in mse['values'])}/{seeds} seeds.")
    return "\n".join(lines)


def gas_furnace(quick: bool = False) -> str:
    return _gas("lstm", quick)


def gas_furnace_gru(quick: bool = False) -> str:
    return _gas("gru", quick)


VARIANTS = {
    "LSTM": dict(cell="lstm"),
    "GRU": dict(cell="gru"),
    "RNN": dict(cell="rnn"),
    "BiLSTM": dict(cell="lstm", bidirectional=True),
    "LN-LSTM": dict(cell="lnlstm"),
    "2-layer LSTM": dict(cell="lstm", num_layers=2),
    "LSTM direct (K=5)": dict(cell="lstm", horizon=5),
    "seq2seq+attention (K=5)": dict(cell="lstm", horizon=5, strategy="seq2seq",
                                    attention="additive"),
}


def gas_furnace_variants(quick: bool = False) -> str:
    seeds, epochs = (1, 3) if quick else (3, 200)
    frame = load_frame("gas-furnace")
    cols = ["GR", "CO2"]
    head = f"{'model':26s} {'K':>2s}  {'test MSE (normalized)':28s} {'naive':>7s}  " \
           f"{'skill':24s} {'seconds':>7s}"
    lines = [f"Gas furnace, normalized protocol (lookback 10, last 100 rows test, hidden 64, "
             f"{epochs} epochs, batch 32, Adam 0.001), {seeds} seeds each", head,
             "-" * len(head)]
    t0 = time.perf_counter()
    best = None
    for name, kw in VARIANTS.items():
        kw = dict(kw)
        K = kw.pop("horizon", 1)
        _, rep = _fit(frame, cols, cols, test=100, lookback=10, horizon=K, hidden_size=64,
                      epochs=epochs, seeds=seeds, **kw)
        mse = _agg(rep, "mse")
        naive = rep["naive"]["normalized"]["overall"]["mse"]
        if K == 1 and (best is None or mse["mean"] < best[1]):
            best = (name, mse["mean"])
        lines.append(f"{name:26s} {K:2d}  {format_mmm(mse):28s} {naive:7.4f}  "
                     f"{format_mmm(rep['aggregate']['skill']['overall'], '{:+.3f}'):24s} "
                     f"{rep['seconds']:7.1f}")
    lines.append(f"verdict: best one-step model {best[0]} ({best[1]:.4f}); every row is "
                 f"compared with the naive forecast on its own windows "
                 f"(total {time.perf_counter() - t0:.0f} s).")
    return "\n".join(lines)


EXPERIMENTS = {
    e.name: e for e in [
        Experiment("fibonacci", "LSTM(4, relu) on Fibonacci vs the article's 2.75% (20 seeds)",
                   fibonacci),
        Experiment("sine", "2-layer LSTM(50) one-step forecast of the sine", sine),
        Experiment("keras-stacked", "Keras LSTM(50, return_sequences) -> LSTM(50) -> Dense(1)",
                   keras_stacked),
        Experiment("gas-furnace", "the notebook as executed (raw) and normalized, LSTM + MLP",
                   gas_furnace),
        Experiment("gas-furnace-gru", "the course's exercise: the same with a GRU",
                   gas_furnace_gru),
        Experiment("gas-furnace-variants", "LSTM, GRU, RNN, BiLSTM, LN-LSTM, 2-layer, seq2seq",
                   gas_furnace_variants),
    ]
}
