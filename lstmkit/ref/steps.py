"""A cell's plain ``step`` run over a whole sequence, and ``step_backward`` back through it.

Every cell module of :mod:`lstmkit.ref` has ``step`` / ``step_backward`` (one time step, the
course's equations line for line) and ``forward`` / ``backward`` (the whole sequence, arranged
for speed). :func:`unroll` and :func:`unroll_backward` give the same interface as ``forward``
and ``backward`` from the step functions alone, so that the fast code can be held equal to the
readable one (``tests/test_ref_steps.py``, ``lstmkit check``).
"""

from __future__ import annotations

import numpy as np


def _parts(mod, state, B: int, H: int, dtype) -> list[np.ndarray]:
    """The state as a list of (B, H) arrays (zeros for None), one per ``mod.STATE_NAMES``."""
    n = len(mod.STATE_NAMES)
    if state is None:
        return [np.zeros((B, H), dtype) for _ in range(n)]
    parts = list(state) if n > 1 else [state]
    return [np.zeros((B, H), dtype) if s is None else np.asarray(s, dtype) for s in parts]


def _pack(mod, parts):
    return tuple(parts) if len(mod.STATE_NAMES) > 1 else parts[0]


def unroll(mod, params, x, state=None, **options):
    """``[mod.step(x_t) for t in 1..T]``: ``(outputs (B, T, H), final_state, caches)``."""
    x = np.asarray(x, np.float64)
    B, T, _ = x.shape
    H = params["weight_hh"].shape[1]
    s = _pack(mod, _parts(mod, state, B, H, x.dtype))
    outputs, caches = [], []
    for t in range(T):
        s, cache = mod.step(params, x[:, t], s, **options)
        outputs.append(s[0] if isinstance(s, tuple) else s)                   # h_t
        caches.append(cache)
    return np.stack(outputs, axis=1), s, caches


def unroll_backward(mod, params, caches, d_outputs=None, d_final_state=None):
    """``mod.step_backward`` from t = T down to 1: ``(d_x, d_params, d_state0)``, as
    ``mod.backward``. ``d_outputs`` (B, T, H) and ``d_final_state`` may be None (zeros)."""
    T = len(caches)
    H = params["weight_hh"].shape[1]
    B = (d_outputs.shape[0] if d_outputs is not None else
         np.shape(d_final_state if len(mod.STATE_NAMES) == 1 else d_final_state[0])[0])
    d = _parts(mod, d_final_state, B, H, np.float64)
    d_params = {k: np.zeros_like(v, dtype=np.float64) for k, v in params.items()}
    d_x = []
    for t in reversed(range(T)):
        if d_outputs is not None:
            d[0] = d[0] + d_outputs[:, t]                    # h_t is output t and feeds t+1
        dx_t, d_prev, grads = mod.step_backward(params, _pack(mod, d), caches[t])
        d = list(d_prev) if isinstance(d_prev, tuple) else [d_prev]
        for k, g in grads.items():
            d_params[k] += g
        d_x.append(dx_t)
    return np.stack(d_x[::-1], axis=1), d_params, _pack(mod, d)
