r"""Elman recurrent network (vanilla RNN): the NumPy reference, forward and backward.

For each time step t = 1..T::

    h_t = φ(W x_t + U h_{t-1} + b)        φ = tanh (default) or relu

Inputs and outputs (batch first)::

    x            (B, T, F)     B sequences of T steps of F features
    state        h_0 (B, H)    None means zeros
    outputs      (B, T, H)     h_1 .. h_T
    final_state  h_T (B, H)

Weight layout: ``params`` is one layer of ``torch.nn.RNN`` without the ``_l0`` suffix::

    weight_ih  (H, F)   W
    weight_hh  (H, H)   U
    bias_ih    (H,)     \  b = bias_ih + bias_hh (torch carries two biases; only the sum
    bias_hh    (H,)     /  matters)

so that, in the course's concatenated form, h_t = φ([U | W]·[h_{t-1}, x_t] + b).

Implementation: the loops run time-major, (T, B, ...). W x_t + b for every step is one matmul
before the loop; the loop does one (B, H) @ (H, H) matmul per step; after the backward loop
the weight gradients and d_x are one matmul each over all steps.
"""

from __future__ import annotations

import numpy as np

from lstmkit.ref._common import (
    ACTIVATIONS,
    activate_,
    batch_major,
    check_array,
    check_choice,
    check_params,
    check_sizes,
    check_x,
    course_matrices,
    mul_act_grad_,
    phi,
    phi_grad,
    time_major,
    torch_grads,
    uniform_init,
    with_ones,
)

NAME = "RNN"
GATES = 1
STATE_NAMES = ("h0",)


# ----------------------------------------------------------------------------- one step
def step(params, x_t, h_prev, nonlinearity="tanh"):
    """One time step, the course's equation: ``x_t`` (B, F), ``h_prev`` = h_{t-1} (B, H).
    Returns ``(h_t, cache)``; the cache is what :func:`step_backward` needs."""
    W, b = course_matrices(params, "h")          # W = [U | W] (H, H+F), b = b_ih + b_hh
    hx = np.concatenate([h_prev, x_t], axis=1)                   # [h_{t-1}, x_t]   (B, H+F)
    h = phi(hx @ W["h"].T + b["h"], nonlinearity)                # h_t = φ(W·[h_{t-1}, x_t] + b)
    return h, (W, hx, h, nonlinearity)


def step_backward(params, dh, cache):
    """Undo :func:`step`: from ∂L/∂h_t (the loss at t and step t+1) to ``(∂L/∂x_t,
    ∂L/∂h_{t-1}, grads)``, ``grads`` this step's share of each parameter gradient."""
    W, hx, h, act = cache
    H = dh.shape[1]
    dz = dh * phi_grad(h, act)                                   # through φ
    dhx = dz @ W["h"]                                            # ∂L/∂[h_{t-1}, x_t]
    grads = torch_grads({"h": dz.T @ hx}, {"h": dz.sum(axis=0)}, "h", H)
    return dhx[:, H:], dhx[:, :H], grads


# ----------------------------------------------------------------------------- the sequence
# forward / backward below compute exactly step / step_backward over a whole sequence,
# arranged for speed (tests/test_ref_steps.py holds them equal).


def init(input_size, hidden_size, rng, dtype=np.float64) -> dict:
    """Random parameters: every entry ~ U(-1/√H, 1/√H), as ``torch.nn.RNN`` does.

    ``rng`` is a ``numpy.random.Generator``; ``dtype`` float64 is the reference.
    """
    F, H = check_sizes(NAME, input_size, hidden_size)
    shapes = {"weight_ih": (H, F), "weight_hh": (H, H), "bias_ih": (H,), "bias_hh": (H,)}
    return uniform_init(NAME, shapes, H, rng, dtype)


def forward(params, x, state=None, nonlinearity="tanh"):
    """Run the RNN over ``x``; return ``(outputs, h_T, cache)``.

    ``params``: dict as in :func:`init` (its dtype is the computation's dtype);
    ``x``: (B, T, F); ``state``: h_0 (B, H) or None for zeros;
    ``nonlinearity``: ``"tanh"`` or ``"relu"`` (as ``torch.nn.RNN``).
    """
    p, dtype, F, H = check_params(NAME, params, GATES)
    check_choice(NAME, "nonlinearity", nonlinearity, ACTIVATIONS)
    x = check_x(NAME, x, F, dtype)
    B, T, _ = x.shape
    h0 = check_array(NAME, "state h", state, (B, H), f"B={B}, H={H}", dtype)

    W_hhT = np.ascontiguousarray(p["weight_hh"].T)              # (H, H)  U^T
    x1 = with_ones(time_major(x).reshape(T * B, F))             # (T*B, F+1) rows [x_t, 1]
    Wb = np.vstack([p["weight_ih"].T, p["bias_ih"] + p["bias_hh"]])  # (F+1, H)  [W^T; b]
    # hs[t + 1] starts as W x_t + b (all steps in one matmul) and becomes h_t in the loop.
    hs = np.empty((T + 1, B, H), dtype)                          # h_0 .. h_T
    hs[0] = h0
    np.matmul(x1, Wb, out=hs[1:].reshape(T * B, H))              # (T*B, H)
    uh = np.empty((B, H), dtype)
    for t in range(T):
        np.matmul(hs[t], W_hhT, out=uh)
        hs[t + 1] += uh                                          # W x_t + U h_{t-1} + b
        activate_(hs[t + 1], nonlinearity)                       # h_t = φ(.)

    cache = {"nonlinearity": nonlinearity, "dtype": dtype, "shape": (B, T, F, H), "x1": x1,
             "W_ih": p["weight_ih"], "W_hh": p["weight_hh"], "hs": hs}
    return batch_major(hs[1:]), hs[T].copy(), cache


def backward(cache, d_outputs=None, d_final_state=None):
    """Backpropagate through the whole sequence; return ``(d_x, d_params, d_h0)``.

    ``d_outputs``: ∂L/∂outputs (B, T, H) or None for zeros; ``d_final_state``: ∂L/∂h_T
    (B, H) or None for zeros. ``d_params`` has the keys and layout of ``params``.
    """
    B, T, F, H = cache["shape"]
    dtype, nonlinearity, hs = cache["dtype"], cache["nonlinearity"], cache["hs"]
    W_hh = cache["W_hh"]
    dys = time_major(check_array(NAME, "d_outputs", d_outputs, (B, T, H),
                                 f"B={B}, T={T}, H={H}", dtype))                 # (T, B, H)
    dh = check_array(NAME, "d_final_state", d_final_state, (B, H), f"B={B}, H={H}",
                     dtype).copy()

    dZ = np.empty((T, B, H), dtype)          # ∂L/∂(W x_t + U h_{t-1} + b)
    tmp = np.empty((B, H), dtype)
    for t in reversed(range(T)):
        dh += dys[t]                                             # h_t is output t and feeds t+1
        np.copyto(dZ[t], dh)
        mul_act_grad_(dZ[t], hs[t + 1], nonlinearity, tmp)       # undo h_t = φ(.)
        np.matmul(dZ[t], W_hh, out=dh)                           # undo U h_{t-1}: to h_{t-1}

    # Undo, for all steps at once, what does not feed the recurrence.
    dZ2 = dZ.reshape(T * B, H)                                   # (T*B, H)
    dWb = np.matmul(dZ2.T, cache["x1"])                          # Σ_t dz_t [x_t, 1]^T (H, F+1)
    d_params = {
        "weight_ih": np.ascontiguousarray(dWb[:, :F]),           # (H, F)
        "weight_hh": np.matmul(dZ2.T, hs[:-1].reshape(T * B, H)),  # Σ_t dz_t h_{t-1}^T (H, H)
        "bias_ih": dWb[:, F].copy(),                             # Σ_t dz_t  (H,)
        "bias_hh": dWb[:, F].copy(),
    }
    d_x = np.matmul(dZ2, cache["W_ih"]).reshape(T, B, F)         # (T, B, F)
    return batch_major(d_x), d_params, dh
