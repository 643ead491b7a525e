"""Training throughput on the CPU and, where torch sees one, on a CUDA GPU.

    .venv/bin/python benchmarks/gpu.py [--skip-m4]

1. The recurrent layer's training step at (B 256, T 100, F 8, H 256): ``lstmkit.nn.Recurrent``
   (one LSTM layer) + a linear head, MSE, Adam; sequences per second over 20 steps after 3
   warm-up steps (on CUDA: cuDNN through ``torch.nn.LSTM``, synchronised before timing).
2. The global forecaster on M4 Weekly (359 series, its defaults, ``test=0``): fit seconds
   (``--skip-m4`` leaves it out; about a minute on the CPU).

Each row runs once per device; without a GPU the CUDA rows say so. No target: the issue
asks for the figures (README, "Devices").
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
from torch import nn

from lstmkit.core.table import format_table
from lstmkit.nn import Recurrent


def layer_throughput(device: str, B=256, T=100, F=8, H=256, steps=20, warm=3) -> float:
    torch.manual_seed(0)
    enc = Recurrent("lstm", F, H).to(device)
    head = nn.Linear(H, 1).to(device)
    params = [*enc.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, lr=1e-3)
    x = torch.randn(B, T, F, device=device)
    y = torch.randn(B, 1, device=device)

    def step():
        out, _ = enc(x)  # (B, T, H)
        loss = nn.functional.mse_loss(head(out[:, -1]), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(warm):
        step()
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    return B * steps / (time.perf_counter() - t0)


def m4_fit_seconds(device: str) -> float:
    from lstmkit.forecast.panel.model import GlobalForecaster

    model = GlobalForecaster(13, season=52, progress=False, device=device)
    t0 = time.perf_counter()
    model.fit("m4-weekly", test=0)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-m4", action="store_true", help="only the layer's training step")
    args = ap.parse_args()
    gpu = torch.cuda.is_available()
    devices = ["cpu"] + (["cuda"] if gpu else [])
    where = torch.cuda.get_device_name(0) if gpu else (
        f"none: torch {torch.__version__} sees no CUDA GPU")
    print(f"CPU: {torch.get_num_threads()} torch threads; GPU: {where}\n")
    rows = []
    speed = {d: layer_throughput(d) for d in devices}
    rows.append(["LSTM layer step, B 256 T 100 F 8 H 256 (sequences/s)",
                 *[f"{speed[d]:,.0f}" if d in speed else "no GPU" for d in ("cpu", "cuda")]])
    if not args.skip_m4:
        secs = {d: m4_fit_seconds(d) for d in devices}
        rows.append(["global forecaster, M4 Weekly fit (s)",
                     *[f"{secs[d]:.1f}" if d in secs else "no GPU" for d in ("cpu", "cuda")]])
    print(format_table(["", "CPU", "CUDA"], rows, "", "<>>"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
