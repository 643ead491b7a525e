r"""Gated recurrent unit (GRU): the NumPy reference, forward and backward.

For each time step t = 1..T, with σ the logistic sigmoid and ``*`` the element-wise
product (torch / cuDNN variant: the reset gate multiplies the *projected* previous state)::

    r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)            reset gate
    z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)            update gate
    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))  candidate state
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}                     hidden state (output at step t)

With ``activation="relu"`` (Keras' ``GRU(units, activation="relu")``) the tanh of the candidate
n_t becomes relu; the two gates stay sigmoid.

In the course's concatenated notation the gates read r_t = σ(W_r·[h_{t-1}, x_t] + b_r) and
z_t = σ(W_z·[h_{t-1}, x_t] + b_z), but n_t cannot be written that way: because r_t is
applied after the matmul, b_hn stays inside the product and is not merged with b_in.
(The original paper, and Keras with ``reset_after=False``, apply r_t to h_{t-1} before it.)

Inputs and outputs (batch first)::

    x            (B, T, F)     B sequences of T steps of F features
    state        h_0 (B, H)    None means zeros
    outputs      (B, T, H)     h_1 .. h_T
    final_state  h_T (B, H)

Weight layout: ``params`` is one layer of ``torch.nn.GRU`` without the ``_l0`` suffix,
the rows grouped by gate in the order r, z, n::

    weight_ih  (3H, F)   [W_ir | W_iz | W_in]   (stacked by rows)
    weight_hh  (3H, H)   [W_hr | W_hz | W_hn]
    bias_ih    (3H,)     [b_ir | b_iz | b_in]
    bias_hh    (3H,)     [b_hr | b_hz | b_hn]

Keras with ``reset_after=True`` uses the same equations with gate order z, r, n.

Implementation: the loops run time-major, (T, B, ...). The input side W_i·x_t + b_i (plus
b_hr, b_hz) of all steps is one matmul before the loop; the loop does one (B, H) @ (H, 3H)
matmul per step. The backward keeps two gradient arrays because the n block differs on the
two sides: ∂L/∂(W_in x_t + b_in) versus ∂L/∂(W_hn h_{t-1} + b_hn) = r_t * the former.
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
    mul_sigmoid_grad_,
    phi,
    phi_grad,
    sigmoid,
    sigmoid_,
    time_major,
    torch_grads,
    uniform_init,
    with_ones,
)

NAME = "GRU"
GATES = 3
STATE_NAMES = ("h0",)


# ----------------------------------------------------------------------------- one step
def step(params, x_t, h_prev, activation="tanh"):
    """One time step, the equations above line for line: ``x_t`` (B, F), ``h_prev`` =
    h_{t-1} (B, H). Returns ``(h_t, cache)``; the cache is what :func:`step_backward` needs."""
    H = h_prev.shape[1]
    W, b = course_matrices(params, "rz")     # W_k = [W_hk | W_ik], b_k = b_ik + b_hk
    W_in, W_hn = params["weight_ih"][2 * H:], params["weight_hh"][2 * H:]
    b_in, b_hn = params["bias_ih"][2 * H:], params["bias_hh"][2 * H:]
    hx = np.concatenate([h_prev, x_t], axis=1)          # [h_{t-1}, x_t]   (B, H+F)
    r = sigmoid(hx @ W["r"].T + b["r"])                 # r_t = σ(W_r·[h_{t-1}, x_t] + b_r)
    z = sigmoid(hx @ W["z"].T + b["z"])                 # z_t = σ(W_z·[h_{t-1}, x_t] + b_z)
    hn = h_prev @ W_hn.T + b_hn                         # W_hn h_{t-1} + b_hn
    n = phi(x_t @ W_in.T + b_in + r * hn, activation)   # n_t = tanh(W_in x_t + b_in + r_t * (.))
    h = (1 - z) * n + z * h_prev                        # h_t = (1 - z_t) * n_t + z_t * h_{t-1}
    return h, (W, hx, x_t, h_prev, r, z, hn, n, activation)


def step_backward(params, dh, cache):
    """Undo :func:`step`: from ∂L/∂h_t (the loss at t and step t+1) to ``(∂L/∂x_t,
    ∂L/∂h_{t-1}, grads)``, ``grads`` this step's share of each parameter gradient."""
    W, hx, x_t, h_prev, r, z, hn, n, act = cache
    H = dh.shape[1]
    W_in, W_hn = params["weight_ih"][2 * H:], params["weight_hh"][2 * H:]
    dn = dh * (1 - z)                                            # h_t = (1 - z_t)*n_t + z_t*h_{t-1}
    dz = dh * (h_prev - n)
    dh_prev = dh * z
    da = dn * phi_grad(n, act)                  # ∂L/∂(W_in x_t + b_in + r_t * hn_t), through φ
    dr, dhn = da * hn, da * r
    dzr = {"r": dr * r * (1 - r), "z": dz * z * (1 - z)}         # through σ
    dhx = dzr["r"] @ W["r"] + dzr["z"] @ W["z"]                  # ∂L/∂[h_{t-1}, x_t] via r, z
    dx = dhx[:, H:] + da @ W_in
    dh_prev = dh_prev + dhx[:, :H] + dhn @ W_hn
    g = torch_grads({k: dzr[k].T @ hx for k in "rz"}, {k: dzr[k].sum(axis=0) for k in "rz"},
                    "rz", H)
    grads = {"weight_ih": np.vstack([g["weight_ih"], da.T @ x_t]),
             "weight_hh": np.vstack([g["weight_hh"], dhn.T @ h_prev]),
             "bias_ih": np.concatenate([g["bias_ih"], da.sum(axis=0)]),
             "bias_hh": np.concatenate([g["bias_hh"], dhn.sum(axis=0)])}
    return dx, dh_prev, grads


# ----------------------------------------------------------------------------- the sequence
# forward / backward below compute exactly step / step_backward over a whole sequence,
# arranged for speed (tests/test_ref_steps.py holds them equal).


def init(input_size, hidden_size, rng, dtype=np.float64) -> dict:
    """Random parameters: every entry ~ U(-1/√H, 1/√H), as ``torch.nn.GRU`` does.

    ``rng`` is a ``numpy.random.Generator``; ``dtype`` float64 is the reference.
    """
    F, H = check_sizes(NAME, input_size, hidden_size)
    shapes = {"weight_ih": (3 * H, F), "weight_hh": (3 * H, H), "bias_ih": (3 * H,),
              "bias_hh": (3 * H,)}
    return uniform_init(NAME, shapes, H, rng, dtype)


def forward(params, x, state=None, activation="tanh"):
    """Run the GRU over ``x``; return ``(outputs, h_T, cache)``.

    ``params``: dict as in :func:`init` (its dtype is the computation's dtype);
    ``x``: (B, T, F); ``state``: h_0 (B, H) or None for zeros; ``activation``: ``"tanh"``
    (standard) or ``"relu"`` (Keras-style), the candidate's.
    """
    p, dtype, F, H = check_params(NAME, params, GATES)
    check_choice(NAME, "activation", activation, ACTIVATIONS)
    x = check_x(NAME, x, F, dtype)
    B, T, _ = x.shape
    h0 = check_array(NAME, "state h", state, (B, H), f"B={B}, H={H}", dtype)
    H2 = 2 * H

    W_hhT = np.ascontiguousarray(p["weight_hh"].T)               # (H, 3H)
    b_hn = p["bias_hh"][H2:]                                     # (H,) stays inside r * (.)
    b = p["bias_ih"].copy()
    b[:H2] += p["bias_hh"][:H2]                                  # b_ir + b_hr | b_iz + b_hz | b_in
    x1 = with_ones(time_major(x).reshape(T * B, F))              # (T*B, F+1) rows [x_t, 1]
    xw = np.matmul(x1, np.vstack([p["weight_ih"].T, b])).reshape(T, B, 3 * H)  # (T, B, 3H)

    hs = np.empty((T + 1, B, H), dtype)                          # h_0 .. h_T
    rz = np.empty((T, B, H2), dtype)                             # r_t | z_t
    ns = np.empty((T, B, H), dtype)                              # n_t
    hns = np.empty((T, B, H), dtype)                             # W_hn h_{t-1} + b_hn
    hs[0] = h0
    hw = np.empty((B, 3 * H), dtype)
    tmp = np.empty((B, H), dtype)
    for t in range(T):
        np.matmul(hs[t], W_hhT, out=hw)                          # W_h· h_{t-1}   (B, 3H)
        np.add(xw[t, :, :H2], hw[:, :H2], out=rz[t])
        sigmoid_(rz[t])                                          # r_t, z_t = σ(.)
        r, z = rz[t, :, :H], rz[t, :, H:]
        np.add(hw[:, H2:], b_hn, out=hns[t])                     # W_hn h_{t-1} + b_hn
        n = ns[t]
        np.multiply(r, hns[t], out=n)                            # r_t * (W_hn h_{t-1} + b_hn)
        n += xw[t, :, H2:]                                       #   + W_in x_t + b_in
        activate_(n, activation)                                 # n_t = tanh(.) (or relu)
        np.subtract(hs[t], n, out=tmp)
        tmp *= z
        np.add(n, tmp, out=hs[t + 1])                            # h_t = n_t + z_t*(h_{t-1} - n_t)

    cache = {"dtype": dtype, "shape": (B, T, F, H), "x1": x1, "W_ih": p["weight_ih"],
             "activation": activation,
             "W_hh": p["weight_hh"], "hs": hs, "rz": rz, "ns": ns, "hns": hns}
    return batch_major(hs[1:]), hs[T].copy(), cache


def backward(cache, d_outputs=None, d_final_state=None):
    """Backpropagate through the whole sequence; return ``(d_x, d_params, d_h0)``.

    ``d_outputs``: ∂L/∂outputs (B, T, H) or None for zeros; ``d_final_state``: ∂L/∂h_T
    (B, H) or None for zeros. ``d_params`` has the keys and layout of ``params``.
    """
    B, T, F, H = cache["shape"]
    dtype, hs, rz, ns, hns = cache["dtype"], cache["hs"], cache["rz"], cache["ns"], cache["hns"]
    W_hh = cache["W_hh"]
    H2 = 2 * H
    dys = time_major(check_array(NAME, "d_outputs", d_outputs, (B, T, H),
                                 f"B={B}, T={T}, H={H}", dtype))                 # (T, B, H)
    dh = check_array(NAME, "d_final_state", d_final_state, (B, H), f"B={B}, H={H}",
                     dtype).copy()

    dX = np.empty((T, B, 3 * H), dtype)      # ∂L/∂(input side):  r | z | W_in x_t + b_in
    dHh = np.empty((T, B, 3 * H), dtype)     # ∂L/∂(hidden side): r | z | W_hn h_{t-1} + b_hn
    carry = np.empty((B, H), dtype)
    tmp = np.empty((B, H), dtype)
    tmp2 = np.empty((B, H2), dtype)
    for t in reversed(range(T)):
        r, z, n = rz[t, :, :H], rz[t, :, H:], ns[t]
        d = dHh[t]
        dr, dz, dhn = d[:, :H], d[:, H:H2], d[:, H2:]
        dn = dX[t, :, H2:]
        dh += dys[t]                                             # h_t is output t and feeds t+1
        # undo h_t = (1 - z_t) * n_t + z_t * h_{t-1}
        np.subtract(hs[t], n, out=dz)
        dz *= dh                                                 # ∂h_t/∂z_t = h_{t-1} - n_t
        np.multiply(dh, z, out=carry)                            # ∂h_t/∂h_{t-1} = z_t (direct)
        np.subtract(dh, carry, out=dn)                           # ∂h_t/∂n_t = 1 - z_t
        # undo n_t = tanh(W_in x_t + b_in + r_t * hn_t) (or relu)
        mul_act_grad_(dn, n, cache["activation"], tmp)           # dn is now ∂L/∂(W_in x_t + b_in)
        np.multiply(dn, hns[t], out=dr)                          # ∂/∂r_t = hn_t
        np.multiply(dn, r, out=dhn)                              # ∂/∂hn_t = r_t
        # undo r_t, z_t = σ(.)
        mul_sigmoid_grad_(d[:, :H2], rz[t], tmp2)
        # undo W_h·h_{t-1}: the recurrent path to h_{t-1}, plus the direct z_t path
        np.matmul(d, W_hh, out=dh)                               # (B, 3H) @ (3H, H)
        dh += carry

    # The r and z pre-activations are shared by both sides; now copy them, for all steps.
    dX[:, :, :H2] = dHh[:, :, :H2]
    dX2 = dX.reshape(T * B, 3 * H)                               # (T*B, 3H)
    dH2 = dHh.reshape(T * B, 3 * H)                              # (T*B, 3H)
    dWb = np.matmul(dX2.T, cache["x1"])                          # Σ_t dx_t [x_t, 1]^T (3H, F+1)
    d_params = {
        "weight_ih": np.ascontiguousarray(dWb[:, :F]),           # (3H, F)
        "weight_hh": np.matmul(dH2.T, hs[:-1].reshape(T * B, H)),  # Σ_t dh_t h_{t-1}^T (3H, H)
        "bias_ih": dWb[:, F].copy(),                             # (3H,)
        "bias_hh": dH2.sum(axis=0),                              # (3H,)
    }
    d_x = np.matmul(dX2, cache["W_ih"]).reshape(T, B, F)         # (T, B, F)
    return batch_major(d_x), d_params, dh
