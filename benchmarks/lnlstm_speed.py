"""Training-step time of the LayerNorm LSTM (``Recurrent(cell="lnlstm")``) against
``torch.nn.LSTM`` (CPU), and of its three loop implementations: eager, TorchScript, torch.compile.

Run: ``.venv/bin/python benchmarks/lnlstm_speed.py [--repeats N] [--run-steps S]``

One training step = ``zero_grad`` + forward of a one-layer recurrent encoder + ``Linear(H, 1)``
on the last output + MSE loss + ``backward`` + ``Adam.step`` (float32), the shape of a
forecaster's step. Variants, each with its own model and optimiser from the same seed:

* ``torch.nn.LSTM``: ``Recurrent("lstm")`` (its fast path is ``torch.nn.LSTM`` itself);
* ``LN eager`` / ``LN script`` / ``LN compile``: ``Recurrent("lnlstm")`` with the loop run as
  Python, ``torch.jit.script`` of the loop, or ``torch.compile`` of the step
  (:func:`lstmkit.nn.lnlstm.set_impl`).

For 1 and 2 threads (``torch.set_num_threads``) and each size, the first ``WARMUP`` steps of
every variant are timed together ("warm-up": scripting / compiling and the profiling runs
included), then the variants are timed alternately, step by step, ``--repeats`` times, so that
load from other processes hits all alike. The table shows the best (least disturbed) and the
median step, and their ratios to ``torch.nn.LSTM``'s; on a shared machine the best is the
steadier estimate. "S-step run" = warm-up + (S - WARMUP) x best: the cost of a small training
run, compile time included, which is what decides the implementation. The three LN
implementations are also checked to agree on the outputs (float32, so up to ~1e-5).
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

# A fresh, empty torch.compile cache, so that "warm-up" shows the compile time a first run pays
# (inductor otherwise reuses kernels compiled by earlier runs from its on-disk cache).
_CACHE = tempfile.mkdtemp(prefix="lnlstm_speed_inductor_")
os.environ["TORCHINDUCTOR_CACHE_DIR"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lstmkit.nn import Recurrent  # noqa: E402
from lstmkit.nn import lnlstm as nn_lnlstm  # noqa: E402

SIZES = [(32, 10, 2, 64), (64, 100, 1, 128)]  # (B, T, F, H)
THREADS = (1, 2)
IMPLS = ("eager", "script", "compile")
WARMUP = 3


def make_step(cell, B, T, F_, H, seed=0):
    """A closure running one training step of a fresh model (same seed for every variant)."""
    torch.manual_seed(seed)
    model = Recurrent(cell, F_, H)
    head = torch.nn.Linear(H, 1)
    opt = torch.optim.Adam([*model.parameters(), *head.parameters()], lr=1e-3)
    gen = torch.Generator().manual_seed(seed + 1)
    x, y = torch.randn(B, T, F_, generator=gen), torch.randn(B, 1, generator=gen)

    def step():
        opt.zero_grad(set_to_none=True)
        out, _ = model(x)  # (B, T, H)
        loss = F.mse_loss(head(out[:, -1]), y)
        loss.backward()
        opt.step()

    return step, model, x


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench(B, T, F_, H, repeats, run_steps):
    variants = {"torch.nn.LSTM": (None, *make_step("lstm", B, T, F_, H))}
    for impl in IMPLS:
        variants[f"LN {impl}"] = (impl, *make_step("lnlstm", B, T, F_, H))

    warm = {}
    for name, (impl, step, _, _) in variants.items():
        if impl:
            nn_lnlstm.set_impl(impl)  # builds script / compile on first use (timed below)
        warm[name] = timed(lambda: [step() for _ in range(WARMUP)])  # noqa: B023
    times = {name: [] for name in variants}
    for _ in range(repeats):
        for name, (impl, step, _, _) in variants.items():
            if impl:
                nn_lnlstm.set_impl(impl)
            times[name].append(timed(step))

    # agreement of the three LN loops (same weights: copy the eager model's into the others)
    ref_model, x = variants["LN eager"][2], variants["LN eager"][3]
    outs = {}
    for impl in IMPLS:  # with grad on: under no_grad torch.compile would compile anew
        nn_lnlstm.set_impl(impl)
        outs[impl] = ref_model(x)[0].detach()
    nn_lnlstm.set_impl("eager")
    diff = max(float((outs[i] - outs["eager"]).abs().max()) for i in IMPLS)

    best = {name: min(ts) for name, ts in times.items()}
    med = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"  (B, T, F, H) = {(B, T, F_, H)}   max |LN script/compile - eager| = {diff:.1e}")
    print(f"    {'variant':14s} {'warm-up':>9s} {'best':>9s} {'median':>9s} {'ratio':>6s} "
          f"{'ratio med':>9s} {f'{run_steps}-step run':>14s}")
    runs = {}
    for name in variants:
        runs[name] = warm[name] + (run_steps - WARMUP) * best[name]
        print(f"    {name:14s} {warm[name] * 1e3:7.0f}ms {best[name] * 1e3:7.2f}ms "
              f"{med[name] * 1e3:7.2f}ms {best[name] / best['torch.nn.LSTM']:6.2f} "
              f"{med[name] / med['torch.nn.LSTM']:9.2f} {runs[name]:13.1f}s")
    ln = [f"LN {i}" for i in IMPLS]
    best_step, best_run = min(ln, key=best.get), min(ln, key=runs.get)
    print(f"    fastest step: {best_step}; fastest {run_steps}-step run: {best_run}")
    return best_step, best_run


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=20, help="timed steps per variant")
    ap.add_argument("--run-steps", type=int, default=500,
                    help="length of the 'small training run' used to judge compile time")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")  # torch.jit's deprecation warning
    # torch.compile recompiles the step per shape, per requires_grad of the initial state and
    # per thread count: more than dynamo's default limit of 8 graphs in this benchmark.
    torch._dynamo.config.recompile_limit = 64
    print(f"torch {torch.__version__}, float32, training step = forward + backward + Adam; "
          f"warm-up = first {WARMUP} steps; ratio = best / torch.nn.LSTM's best")
    verdicts = []
    for threads in THREADS:
        torch.set_num_threads(threads)
        print(f"threads = {threads}")
        for size in SIZES:
            verdicts.append(bench(*size, args.repeats, args.run_steps))
    print("verdicts (fastest step, fastest run):", verdicts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
