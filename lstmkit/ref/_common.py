"""Plumbing shared by the reference cells: input checks, activations and their derivatives.

Everything here works in place on preallocated arrays (``out=``), so that the time loops
in :mod:`~lstmkit.ref.rnn`, :mod:`~lstmkit.ref.lstm` and :mod:`~lstmkit.ref.gru` allocate
nothing per step.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from lstmkit.core.errors import expected, shape_str
from lstmkit.core.validate import positive_int

PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
ACTIVATIONS = ("tanh", "relu")


# ----------------------------------------------------------------------------- input checks
def check_choice(component: str, name: str, value, choices) -> str:
    """``value`` must be one of ``choices`` (strings)."""
    if not isinstance(value, str) or value not in choices:
        what = " or ".join(repr(c) for c in choices)
        raise expected(component, f"{name} {what}", repr(value))
    return value


def check_params(component: str, params, gates: int):
    """Validate a params dict; return ``(arrays, dtype, F, H)``.

    ``arrays`` holds the four parameters converted to the common floating dtype ``dtype``
    (no copy when they already have it). ``gates`` is G in the (G·H, ...) row layout.
    """
    names = ", ".join(PARAM_NAMES)
    if not isinstance(params, Mapping):
        raise expected(component, f"params as a dict with keys {names}", type(params).__name__)
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise expected(component, f"params with keys {names}", f"keys {sorted(params)}")
    try:
        arrays = {k: np.asarray(params[k]) for k in PARAM_NAMES}
        dtype = np.result_type(*arrays.values())
    except (TypeError, ValueError) as err:
        got = f"{type(err).__name__}: {err}"
        raise expected(component, "params as NumPy arrays", got) from None
    if not np.issubdtype(dtype, np.floating):
        raise expected(component, "floating-point params", f"dtype {dtype}")
    gh = "H" if gates == 1 else f"{gates}H"
    w_hh = arrays["weight_hh"]
    if w_hh.ndim != 2 or w_hh.shape[1] < 1 or w_hh.shape[0] != gates * w_hh.shape[1]:
        raise expected(component, f"params['weight_hh'] of shape ({gh}, H)", shape_str(w_hh.shape))
    H = w_hh.shape[1]
    w_ih = arrays["weight_ih"]
    if w_ih.ndim != 2 or w_ih.shape[0] != gates * H or w_ih.shape[1] < 1:
        raise expected(
            component, f"params['weight_ih'] of shape ({gh}={gates * H}, F)", shape_str(w_ih.shape)
        )
    for name in ("bias_ih", "bias_hh"):
        if arrays[name].shape != (gates * H,):
            raise expected(
                component, f"params['{name}'] of shape ({gh}={gates * H},)",
                shape_str(arrays[name].shape),
            )
    arrays = {k: v.astype(dtype, copy=False) for k, v in arrays.items()}
    return arrays, dtype, w_ih.shape[1], H


def check_x(component: str, x, F: int, dtype) -> np.ndarray:
    """``x`` must be a real (B, T, F) array; returned in ``dtype``."""
    want = f"x of shape (B, T, F={F})"
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError):
        raise expected(component, want, f"a ragged {type(x).__name__}") from None
    if arr.ndim != 3 or arr.shape[2] != F:
        raise expected(component, want, shape_str(arr.shape))
    if arr.dtype.kind not in "biuf":
        raise expected(component, "x with real numbers", f"dtype {arr.dtype}")
    return arr.astype(dtype, copy=False)


def check_array(component: str, name: str, value, shape, dims: str, dtype) -> np.ndarray:
    """``value`` (or zeros when None) as a ``dtype`` array of exactly ``shape``.

    ``dims`` names the dimensions for the message, e.g. ``"B=4, H=8"``.
    """
    if value is None:
        return np.zeros(shape, dtype)
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise expected(component, f"{name} of shape ({dims})", type(value).__name__) from None
    if arr.shape != tuple(shape):
        raise expected(component, f"{name} of shape ({dims})", shape_str(arr.shape))
    if arr.dtype.kind not in "biuf":
        raise expected(component, f"{name} with real numbers", f"dtype {arr.dtype}")
    return arr.astype(dtype, copy=False)


def check_pair(component: str, name: str, value, parts=("h", "c")):
    """``value`` must be None or a 2-tuple ``(h, c)``; returns the two items (None for None)."""
    if value is None:
        return None, None
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        got = f"{type(value).__name__} of length {len(value)}" if isinstance(
            value, (tuple, list)) else type(value).__name__
        raise expected(component, f"{name} as a tuple ({', '.join(parts)})", got)
    return value[0], value[1]


def with_ones(a: np.ndarray) -> np.ndarray:
    """(N, F) -> (N, F + 1) with a trailing column of ones.

    ``[x, 1] @ [[W^T], [b]] = x W^T + b``: the bias rides along as the weight of a constant
    input, so the input projection of all steps (and, backwards, d_W_ih with d_b) is one
    matmul. It is also faster than a separate ``+= b`` pass, and than BLAS with F = 1.
    """
    out = np.empty((a.shape[0], a.shape[1] + 1), a.dtype)
    out[:, :-1] = a
    out[:, -1] = 1
    return out


def time_major(a: np.ndarray) -> np.ndarray:
    """(B, T, ...) -> contiguous (T, B, ...): ``a[t]`` is then one contiguous block."""
    return np.ascontiguousarray(a.swapaxes(0, 1))


def batch_major(a: np.ndarray) -> np.ndarray:
    """(T, B, ...) -> contiguous (B, T, ...) copy (never a view of the cache)."""
    return np.ascontiguousarray(a.swapaxes(0, 1))


# ---------------------------------------------------------------------- activations, in place
# σ(a) = 1 / (1 + e^{-a}) = (1 + tanh(a/2)) / 2: the tanh form never overflows (no warnings for
# large |a| in float32) and costs the same number of passes.
def sigmoid_(a: np.ndarray) -> np.ndarray:
    """a <- σ(a), in place."""
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def activate_(a: np.ndarray, name: str) -> np.ndarray:
    """a <- tanh(a) or relu(a), in place."""
    if name == "tanh":
        return np.tanh(a, out=a)
    return np.maximum(a, 0, out=a)


def activate(a: np.ndarray, name: str, out: np.ndarray) -> np.ndarray:
    """out <- tanh(a) or relu(a)."""
    if name == "tanh":
        return np.tanh(a, out=out)
    return np.maximum(a, 0, out=out)


# The derivatives are written in terms of the activation's *output* y, which the forward
# pass keeps: σ' = y(1 - y), tanh' = 1 - y², relu' = [y > 0] (0 at the kink, as torch).
def mul_sigmoid_grad_(d: np.ndarray, y: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """d <- d * y * (1 - y) with y = σ(a): the gradient through the sigmoid. Uses ``tmp``."""
    np.subtract(1, y, out=tmp)
    tmp *= y
    d *= tmp
    return d


def mul_act_grad_(d: np.ndarray, y: np.ndarray, name: str, tmp: np.ndarray) -> np.ndarray:
    """d <- d * act'(a) with y = act(a), act tanh or relu. Uses ``tmp``."""
    if name == "tanh":
        np.multiply(y, y, out=tmp)
        np.subtract(1, tmp, out=tmp)
        d *= tmp
    else:
        np.greater(y, 0, out=tmp)  # 1.0 where the relu is open, 0.0 where it is clamped
        d *= tmp
    return d


def uniform_init(component: str, shapes: dict, hidden_size: int, rng, dtype) -> dict:
    """torch's scheme: every entry ~ U(-1/√H, 1/√H), drawn in the order of ``shapes``."""
    if not isinstance(rng, np.random.Generator):
        raise expected(component, "rng as a numpy.random.Generator", type(rng).__name__)
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise expected(component, "a floating dtype", repr(dtype)) from None
    if not np.issubdtype(dtype, np.floating):
        raise expected(component, "a floating dtype", str(dtype))
    k = 1.0 / np.sqrt(hidden_size)
    return {name: rng.uniform(-k, k, size=shape).astype(dtype) for name, shape in shapes.items()}


def check_sizes(component: str, input_size, hidden_size) -> tuple[int, int]:
    return (positive_int(component, "input_size", input_size),
            positive_int(component, "hidden_size", hidden_size))


# ----------------------------------------------------------------------------- plain steps
# The per-step functions (``step`` / ``step_backward`` of each cell) are written for reading,
# in the course's notation; these are their plain (not in-place) helpers.
def sigmoid(a: np.ndarray) -> np.ndarray:
    """σ(a) = 1 / (1 + e^(-a))."""
    return 1.0 / (1.0 + np.exp(-a))


def phi(a: np.ndarray, name: str) -> np.ndarray:
    """The cell's activation: tanh(a), or relu(a) = max(a, 0)."""
    return np.tanh(a) if name == "tanh" else np.maximum(a, 0.0)


def phi_grad(y: np.ndarray, name: str) -> np.ndarray:
    """φ'(a) written with the output y = φ(a): 1 - y² for tanh, [y > 0] for relu."""
    return 1.0 - y * y if name == "tanh" else (y > 0).astype(y.dtype)


def course_matrices(params, gates: str) -> tuple[dict, dict]:
    """The course's ``W_k = [W_hk | W_ik]`` (H, H + F) and ``b_k = b_ik + b_hk`` for each gate
    ``k`` of ``gates`` (one letter per row block of torch's layout, e.g. ``"ifCo"``)."""
    H = params["weight_hh"].shape[1]
    W, b = {}, {}
    for n, k in enumerate(gates):
        rows = slice(n * H, (n + 1) * H)
        W[k] = np.hstack([params["weight_hh"][rows], params["weight_ih"][rows]])
        b[k] = params["bias_ih"][rows] + params["bias_hh"][rows]
    return W, b


def torch_grads(dW: dict, db: dict, gates: str, H: int) -> dict:
    """Gradients of the course's ``W_k``, ``b_k`` back in torch's layout (both biases get
    ``db_k``: each enters only through the sum)."""
    blocks = [dW[k] for k in gates]
    return {"weight_ih": np.vstack([w[:, H:] for w in blocks]),
            "weight_hh": np.vstack([w[:, :H] for w in blocks]),
            "bias_ih": np.concatenate([db[k] for k in gates]),
            "bias_hh": np.concatenate([db[k] for k in gates])}
