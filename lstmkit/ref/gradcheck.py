"""Gradient checks: the analytic backward of a reference cell against finite differences.

* :func:`numerical_grad` — centred differences, ``(L(θ + ε) - L(θ - ε)) / 2ε`` per entry;
  the truncation error is O(ε²) (against O(ε) for one-sided differences), the rounding
  error about ``u·|L| / ε`` with u the unit roundoff (1.1e-16 in float64), so ε = 1e-6
  balances the two near 1e-10·|L| for the smooth, O(1)-scaled losses used here.
* :func:`relative_error` — ``max|a - b| / max(max|a|, max|b|, tiny)``: the worst entry's error
  measured against the array's largest entry. Unlike an entry-wise ratio it does not blow up
  on entries that are zero analytically and ~1e-11 numerically.
* :func:`check_cell` — the whole check for one of :mod:`lstmkit.ref.rnn`,
  :mod:`~lstmkit.ref.lstm`, :mod:`~lstmkit.ref.gru`: every parameter, the input and the initial
  state, under a random linear loss. This is what ``lstmkit check`` runs.

Always check in float64: in float32 the rounding error (u ≈ 6e-8) swamps any useful ε.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import numpy as np

from lstmkit.core.errors import expected

TINY = 1e-300


def numerical_grad(f, array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """∂f/∂array by centred finite differences.

    ``f`` takes no argument and returns a scalar that depends on ``array``; each entry of
    ``array`` is perturbed in place by ±eps, f evaluated, and the entry restored (exactly:
    the original value is saved, not recomputed). Costs 2·array.size calls of f.
    """
    if not isinstance(array, np.ndarray) or not array.flags.c_contiguous:
        raise expected("gradcheck", "a C-contiguous ndarray to perturb in place",
                       type(array).__name__ if not isinstance(array, np.ndarray) else "a view")
    grad = np.zeros(array.shape, dtype=np.float64)
    flat, gflat = array.reshape(-1), grad.reshape(-1)
    for k in range(flat.size):
        saved = flat[k]
        flat[k] = saved + eps
        plus = float(f())
        flat[k] = saved - eps
        minus = float(f())
        flat[k] = saved
        gflat[k] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a, b, tiny: float = TINY) -> float:
    """``max|a - b| / max(max|a|, max|b|, tiny)``; 0.0 for two empty arrays.

    Scale-free, in [0, 2]; two all-zero arrays give 0.0 (not nan).
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise expected("gradcheck", f"arrays of the same shape {a.shape}", str(b.shape))
    if a.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))), tiny)
    return float(np.max(np.abs(a - b))) / scale


def _module(cell) -> ModuleType:
    if isinstance(cell, ModuleType):
        return cell
    if isinstance(cell, str) and cell.lower() in ("rnn", "lstm", "gru"):
        return importlib.import_module(f"lstmkit.ref.{cell.lower()}")
    raise expected("gradcheck", "a cell 'rnn', 'lstm' or 'gru' (or its module)", repr(cell))


def check_cell(cell, *, input_size: int = 3, hidden_size: int = 4, batch: int = 2,
               steps: int = 3, rng=None, eps: float = 1e-6, state_scale: float = 0.5,
               **options) -> dict[str, float]:
    """Gradient-check one reference cell; return ``{name: relative error}``.

    ``cell``: ``"rnn"``, ``"lstm"``, ``"gru"`` or the module itself; ``options`` go to its
    ``forward`` (``nonlinearity="relu"`` for rnn, ``activation="relu"`` for lstm).
    Parameters come from the module's ``init`` (float64); x ~ N(0, 1) of shape
    (batch, steps, input_size); the initial state ~ N(0, state_scale²). The loss is
    ``L = Σ outputs * R_y + Σ_s final_s * R_s`` with fixed random R's, so that
    ``d_outputs = R_y`` and ``d_final_state = R_s`` exercise both gradient entries.

    Names: ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``, ``x``, ``h0`` (and ``c0``
    for lstm). Errors below ~1e-7 mean agreement; relu cells can show a large error when a
    pre-activation falls within ~eps of the kink (rare; retry with another rng).
    At the default sizes one cell takes a few tens of milliseconds.
    """
    mod = _module(cell)
    rng = np.random.default_rng(0) if rng is None else rng
    if not isinstance(rng, np.random.Generator):
        raise expected("gradcheck", "rng as a numpy.random.Generator", type(rng).__name__)
    B, T, F, H = batch, steps, input_size, hidden_size
    params = mod.init(F, H, rng, dtype=np.float64)
    x = rng.normal(size=(B, T, F))
    states = [state_scale * rng.normal(size=(B, H)) for _ in mod.STATE_NAMES]
    R_y = rng.normal(size=(B, T, H))
    R_s = [rng.normal(size=(B, H)) for _ in mod.STATE_NAMES]
    pair = len(mod.STATE_NAMES) == 2

    def as_state(parts):
        return tuple(parts) if pair else parts[0]

    def loss() -> float:
        y, final, _ = mod.forward(params, x, as_state(states), **options)
        finals = final if pair else (final,)
        return float(np.sum(y * R_y) + sum(np.sum(s * r) for s, r in zip(finals, R_s, strict=True)))

    _, _, cache = mod.forward(params, x, as_state(states), **options)
    d_x, d_params, d_state = mod.backward(cache, R_y, as_state(R_s))
    d_states = d_state if pair else (d_state,)

    analytic = dict(d_params, x=d_x, **dict(zip(mod.STATE_NAMES, d_states, strict=True)))
    targets = dict(params, x=x, **dict(zip(mod.STATE_NAMES, states, strict=True)))
    return {name: relative_error(analytic[name], numerical_grad(loss, targets[name], eps))
            for name in targets}
