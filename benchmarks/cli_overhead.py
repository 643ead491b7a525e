"""Start-up cost of the CLI: a one-epoch ``lstmkit fit`` on the gas furnace, wall time.

    .venv/bin/python benchmarks/cli_overhead.py [--runs 5]

Runs ``lstmkit fit --data gas-furnace --epochs 1 --seeds 1 --out DIR --quiet`` ``--runs``
times in fresh processes and prints the median wall time beside

* the floor no lstmkit code can go under: a Python process that imports only the
  third-party packages this command needs (torch, pandas, matplotlib's Figure, safetensors);
* the training itself (``train_seconds`` in the run's ``config.json``);
* ``lstmkit --help``: the parser, built from the config dataclasses without importing torch.

What the redesign removed from this command (measured on the 2-core VM, December 2026;
before: 7.6 s): scikit-learn's metrics (2.0 s: they import SciPy; the three formulas are
NumPy now, tested equal to scikit-learn's), matplotlib when nothing is drawn, building the
parser from the estimators (it imported torch before parsing), the build tool when a fused
kernel is already built (0.34 s: setuptools), and ``tight_layout`` (0.37 s per figure).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 2.5
ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
FLOOR = "import torch, pandas, safetensors.torch; from matplotlib.figure import Figure"


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="runs of each command (default 5)")
    args = ap.parse_args()
    lstmkit = str(BIN / "lstmkit")
    fits, trains = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.runs):
            out = Path(tmp) / f"run{k}"
            fits.append(timed([lstmkit, "fit", "--data", "gas-furnace", "--epochs", "1",
                               "--seeds", "1", "--out", str(out), "--quiet"]))
            config = json.loads((out / "config.json").read_text())
            trains.append(sum(config["train_seconds"]))
    floor = [timed([sys.executable, "-c", FLOOR]) for _ in range(args.runs)]
    helps = [timed([lstmkit, "--help"]) for _ in range(args.runs)]
    med = statistics.median
    fit_s, floor_s, train_s, help_s = med(fits), med(floor), med(trains), med(helps)
    print(f"lstmkit fit --data gas-furnace --epochs 1 --seeds 1 (median of {args.runs} runs, "
          f"wall)")
    print(f"  whole command                         {fit_s:5.2f} s   "
          f"[{min(fits):.2f}-{max(fits):.2f}]")
    print(f"  of which training (1 epoch)           {train_s:5.2f} s")
    print(f"  outside training                      {fit_s - train_s:5.2f} s")
    print("  floor: python importing torch, pandas,")
    print(f"         safetensors, matplotlib only   {floor_s:5.2f} s   "
          f"[{min(floor):.2f}-{max(floor):.2f}]")
    print(f"  lstmkit's own share (whole - floor)   {fit_s - floor_s:5.2f} s")
    print(f"lstmkit --help                          {help_s:5.2f} s")
    ok = fit_s <= TARGET_S
    print(f"\ntarget: the command in <= {TARGET_S} s wall: {'PASS' if ok else 'MISS'}"
          + ("" if ok else f" (the third-party import floor alone is {floor_s:.2f} s here)"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
