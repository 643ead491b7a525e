"""Course training loop vs lstmkit on the gas-furnace protocol: time and test MSE.

    .venv/bin/python benchmarks/gas_furnace_speed.py [--seeds 3]

Protocol (both sides): Box-Jenkins gas furnace, inputs and targets GR and CO2,
lookback 10, the last 100 rows as test (90 windows), standard scaling fitted on
the training rows, LSTM(64) -> Linear(64, 2), Adam lr 1e-3, MSE, batch 32,
200 epochs, no early stopping.

* course loop: the notebook's way — ``TensorDataset`` + ``DataLoader(shuffle=True)``,
  torch's default thread count, test loss computed after every epoch for the loss plot.
* lstmkit: ``NeuralForecaster`` — tensors sliced by a per-epoch permutation, one
  thread for small models, default ``residual=True`` (the head predicts the change
  from the last value; same parameters). The ``residual=False`` row is exactly the
  course's network, to show where the speed and where the accuracy come from.

Times are training seconds only (data preparation excluded on both sides), median
over seeds; MSE is the normalized test MSE, mean over seeds. Target: >= 3x faster at
equal or better MSE.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from lstmkit.data import load_frame, prepare
from lstmkit.models import NeuralForecaster


class CourseLSTM(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(2, 64, batch_first=True)
        self.fc = torch.nn.Linear(64, 2)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])


def course_loop(p, seed: int, threads: int | None) -> tuple[float, float]:
    old = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    f32 = lambda a: torch.tensor(a, dtype=torch.float32)
    xtr, ytr = f32(p.train.X), f32(p.train.Y[:, 0])
    xte, yte = f32(p.test.X), f32(p.test.Y[:, 0])
    model = CourseLSTM()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    crit = torch.nn.MSELoss()
    loader = DataLoader(TensorDataset(xtr, ytr), batch_size=32, shuffle=True)
    t0 = time.perf_counter()
    for _ in range(200):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss = crit(model(xb), yb)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            test_loss = crit(model(xte), yte).item()
    seconds = time.perf_counter() - t0
    torch.set_num_threads(old)
    return seconds, test_loss


def lstmkit_fit(frame, seed: int, residual: bool) -> tuple[float, float]:
    f = NeuralForecaster(10, 1, cell="lstm", hidden_size=64, epochs=200, batch_size=32,
                         lr=1e-3, residual=residual, seed=seed, progress=False)
    f.fit(frame, targets=["GR", "CO2"], features=["GR", "CO2"], test=100)
    mse = f.evaluate()["aggregate"]["normalized"]["overall"]["mse"]["mean"]
    return f.train_seconds_[0], mse


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    frame = load_frame("gas-furnace")
    p = prepare(frame, ["GR", "CO2"], ["GR", "CO2"], 10, 1, test=100)
    naive = float(np.mean((p.test.H[:, -1:, :] - p.test.Y) ** 2))
    seeds = range(args.seeds)
    rows = {
        f"course loop (DataLoader, {torch.get_num_threads()} threads = torch default)":
            [course_loop(p, s, None) for s in seeds],
        "course loop pinned to 1 thread": [course_loop(p, s, 1) for s in seeds],
        "lstmkit LSTM(64), residual=False (course network)":
            [lstmkit_fit(frame, s, False) for s in seeds],
        "lstmkit LSTM(64), default (residual=True)": [lstmkit_fit(frame, s, True) for s in seeds],
    }
    base = statistics.median(t for t, _ in rows[next(iter(rows))])
    print(f"gas furnace, LSTM(64), 200 epochs, batch 32, {args.seeds} seeds; "
          f"naive test MSE {naive:.4f}")
    print(f"{'run':58s} {'train s (median)':>16s} {'speed-up':>9s} {'test MSE (mean)':>16s}")
    for name, res in rows.items():
        t = statistics.median(s for s, _ in res)
        mse = statistics.mean(m for _, m in res)
        print(f"{name:58s} {t:16.2f} {base / t:8.2f}x {mse:16.4f}")
    t_kit = statistics.median(s for s, _ in rows["lstmkit LSTM(64), default (residual=True)"])
    mse_kit = statistics.mean(m for _, m in rows["lstmkit LSTM(64), default (residual=True)"])
    mse_course = statistics.mean(m for _, m in rows[next(iter(rows))])
    ok = base / t_kit >= 3 and mse_kit <= mse_course
    print(f"target >= 3x faster at equal or better MSE: {'PASS' if ok else 'FAIL'} "
          f"({base / t_kit:.2f}x, MSE {mse_kit:.4f} vs {mse_course:.4f})")


if __name__ == "__main__":
    main()
