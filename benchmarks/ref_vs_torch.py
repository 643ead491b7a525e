"""Forward + backward time of the NumPy reference LSTM against ``torch.nn.LSTM`` (CPU).

Run: ``.venv/bin/python benchmarks/ref_vs_torch.py [--repeats N] [--rounds R]``

Both sides run in float32 on 2 threads (``torch.set_num_threads(2)``; the BLAS behind NumPy
is limited to 2 threads through the environment, set before NumPy is imported, and through
threadpoolctl when it is installed). One timed call is, for lstmkit.ref,
``forward(params, x)`` + ``backward(cache, d_outputs)`` (which also returns d_x and the
initial state's gradient), and for torch ``out, _ = lstm(x)`` + ``out.backward(d_outputs)``
with ``x.requires_grad`` — the same gradients as ``(out * d_outputs).sum().backward()``
without its two extra ops. Both use the same weights, x and random d_outputs.

Timing: the two libraries are timed in alternating blocks of calls, each block after a pause
and warm-up calls (each library's idle worker threads spin for a while after a parallel
call; interleaving single calls on 2 cores would charge one library's spinning to the
other), so that load from other processes hits both alike. The table shows the median call
of each, the ratio ref / torch of the medians (target ≤ 1.5; PASS/FAIL is on this one), the
ratio of the fastest calls ("min", the least disturbed by other processes), the load
average (other processes compete for the same 2 cores: read the numbers with it), and the
agreement of the two (max |Δ| of the outputs and of d_weight_hh).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "2"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lstmkit.ref import lstm as ref_lstm  # noqa: E402

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - optional
    threadpool_limits = None

import torch  # noqa: E402

SIZES = [(32, 10, 2, 64), (64, 100, 1, 128), (128, 28, 28, 128)]  # (B, T, F, H)
TARGET = 1.5
PAUSE = 0.2  # seconds before each block of timed calls
PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def bench(B, T, F, H, repeats, warmup, rounds, seed=0):
    """Median seconds per call of ref and torch, the ratio of the fastest calls, and the
    max |Δ| of the outputs and of d_weight_hh."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    model = torch.nn.LSTM(F, H, batch_first=True)  # float32, torch's own init
    params = {k: getattr(model, k + "_l0").detach().numpy().copy() for k in PARAM_NAMES}
    x = rng.standard_normal((B, T, F), dtype=np.float32)
    d_out = rng.standard_normal((B, T, H), dtype=np.float32)
    x_t = torch.from_numpy(x.copy()).requires_grad_(True)
    d_out_t = torch.from_numpy(d_out.copy())
    last = {}

    def run_ref():
        out, _, cache = ref_lstm.forward(params, x)
        _, d_params, _ = ref_lstm.backward(cache, d_out)
        last["ref"] = out, d_params["weight_hh"]

    def run_torch():
        model.zero_grad(set_to_none=True)
        x_t.grad = None
        out, _ = model(x_t)
        out.backward(d_out_t)
        last["torch"] = out.detach().numpy(), model.weight_hh_l0.grad.numpy()

    times = {run_ref: [], run_torch: []}
    per_block = max(1, -(-repeats // rounds))
    for _ in range(rounds):
        for fn, spent in times.items():
            time.sleep(PAUSE)
            for k in range(warmup + per_block):
                t0 = time.perf_counter()
                fn()
                if k >= warmup:
                    spent.append(time.perf_counter() - t0)
    diff_out = float(np.abs(last["ref"][0] - last["torch"][0]).max())
    diff_grad = float(np.abs(last["ref"][1] - last["torch"][1]).max())
    ref, tor = np.array(times[run_ref]), np.array(times[run_torch])
    return (float(np.median(ref)), float(np.median(tor)), float(ref.min() / tor.min()),
            diff_out, diff_grad)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed calls per library/size")
    parser.add_argument("--rounds", type=int, default=6, help="ref/torch block pairs per size")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls per block")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    if threadpool_limits is not None:
        threadpool_limits(2)

    print(f"numpy {np.__version__}, torch {torch.__version__}, float32, 2 threads; median of "
          f"{args.repeats} calls in {args.rounds} blocks (+{args.warmup} warm-up each)")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    header = (f"{'B':>4} {'T':>4} {'F':>3} {'H':>4} | {'ref ms':>8} {'torch ms':>9} "
              f"{'ratio':>6} {'(min)':>6} | {'max|Δ out|':>10} {'max|Δ dW_hh|':>12} | result")
    print(header)
    print("-" * len(header))
    verdicts = []
    for B, T, F, H in SIZES:
        t_ref, t_torch, ratio_min, d_out, d_grad = bench(
            B, T, F, H, args.repeats, args.warmup, args.rounds)
        ratio = t_ref / t_torch
        verdicts.append(((B, T, F, H), ratio, ratio <= TARGET))
        print(f"{B:>4} {T:>4} {F:>3} {H:>4} | {t_ref * 1e3:>8.2f} {t_torch * 1e3:>9.2f} "
              f"{ratio:>6.2f} {ratio_min:>6.2f} | {d_out:>10.1e} {d_grad:>12.1e} | "
              f"{'PASS' if ratio <= TARGET else 'FAIL'}")
    print("load average after:  {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print()
    for (B, T, F, H), ratio, ok in verdicts:
        print(f"{'PASS' if ok else 'FAIL'}: (B={B}, T={T}, F={F}, H={H}) ref/torch = "
              f"{ratio:.2f} (target <= {TARGET})")
    return 0 if all(ok for *_, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
