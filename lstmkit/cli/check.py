"""``lstmkit check``: prove this install computes the recurrent equations correctly.

For every cell (and the bidirectional wrapper) it runs
  * a gradient check of the NumPy reference (centred finite differences, every
    parameter, the input and the initial state; relative error < 1e-6), and
  * the cross-implementation comparison ref ↔ transcribed torch cells ↔ ``torch.nn.*``
    in float64 over two calls with carried state, 1 and 2 layers (worst absolute
    difference of outputs, final states and every gradient < 1e-10), and the same for
    the fused C++ LSTM layer (:mod:`lstmkit.nn.fused`) where it compiled,
prints one row per check and exits 0 only if every check passes.
"""

from __future__ import annotations

import time

ORDER = 50

GRAD_TOL = 1e-6
MATCH_TOL = 1e-10

# (cell, activation) pairs that lstmkit's reference implements
CELLS = [("lstm", "tanh"), ("lstm", "relu"), ("gru", "tanh"), ("gru", "relu"), ("rnn", "tanh"),
         ("rnn", "relu"), ("lnlstm", "tanh")]
BIDIRECTIONAL = ["lstm", "gru", "rnn", "lnlstm"]


def register(sub) -> None:
    p = sub.add_parser("check", help="verify the reference and fast paths agree (trust an install)")
    p.set_defaults(func=run)


def checks():
    """Yield (cell label, check name, worst error, tolerance)."""
    import numpy as np

    from lstmkit.nn.verify import MODS, compare, compare_steps, engines_for, ref_kwargs
    from lstmkit.ref.gradcheck import check_cell

    for cell, act in CELLS:
        label = f"{cell}({act})"
        opts = ref_kwargs(cell, act)
        for shape in ((2, 3, 3, 4), (1, 1, 2, 3)):  # (B, T, F, H), incl. B=1, T=1
            B, T, F, H = shape
            errs = check_cell(MODS[cell], batch=B, steps=T, input_size=F, hidden_size=H,
                              rng=np.random.default_rng(1), **opts)
            yield label, f"ref gradcheck B={B} T={T}", max(errs.values()), GRAD_TOL
        yield label, "ref steps (course equations) vs ref sequence, 2 calls", \
            max(compare_steps(cell, act).values()), MATCH_TOL
        for engine in engines_for(cell, act):
            name = "transcribed cells" if engine == "cells" else "torch.nn"
            for layers in (1, 2):
                errs = compare(cell, act, layers, engine)
                yield label, f"ref vs {name}, {layers} layer(s), 2 calls", max(errs.values()), \
                    MATCH_TOL
    for cell in BIDIRECTIONAL:
        for engine in engines_for(cell, "tanh"):
            name = "transcribed cells" if engine == "cells" else "torch.nn"
            errs = compare(cell, "tanh", 2, engine, bidirectional=True)
            yield f"bi-{cell}", f"ref vs {name}, 2 layers, 2 calls", max(errs.values()), \
                MATCH_TOL
    from lstmkit.nn import fused

    if fused.load() is not None:  # the C++ kernels exist only where they compiled
        from lstmkit.nn.verify import compare_fused

        yield "lstm(tanh)", "ref vs fused C++ layer, 1 layer, 2 calls", \
            max(compare_fused().values()), MATCH_TOL


def run(args) -> int:
    t0 = time.perf_counter()
    rows, failed = [], 0
    for label, name, err, tol in checks():
        ok = err <= tol
        failed += not ok
        rows.append((label, name, f"{err:.2e}", f"< {tol:.0e}", "pass" if ok else "FAIL"))
    from lstmkit.core.table import format_table

    print(format_table(("cell", "check", "worst error", "tolerance", "result"), rows))
    total = len(rows)
    print(f"\n{total - failed} passed, {failed} failed ({time.perf_counter() - t0:.1f} s)")
    return 0 if failed == 0 else 1
