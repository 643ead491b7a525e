r"""Layer-normalised LSTM (Ba, Kiros & Hinton 2016): the NumPy reference, forward and backward.

For each time step t = 1..T, with LN the layer normalisation over the feature axis,
σ the logistic sigmoid and ``*`` the element-wise product::

    LN(a; γ, β) = γ * (a - mean(a)) / sqrt(var(a) + eps) + β      (mean, var over a's features)

    z_t = LN_ih(W_ih x_t) + LN_hh(W_hh h_{t-1}) + b               (4H) blocks i | f | g | o
    i_t, f_t, o_t = σ(z_i), σ(z_f), σ(z_o)                        gates
    g_t = tanh(z_g)                                               candidate cell
    c_t = f_t * c_{t-1} + i_t * g_t                               cell state
    h_t = o_t * tanh(LN_c(c_t))                                   hidden state (output at t)

The input and the recurrent pre-activations are normalised *separately*, each over its whole
4H gate vector with its own gain and bias, and the cell state over its H features before the
output tanh (the paper's eqs. 20-22). eps = 1e-5 (``torch.nn.LayerNorm``'s default).

Inputs and outputs (batch first), as :mod:`lstmkit.ref.lstm`::

    x            (B, T, F)                  B sequences of T steps of F features
    state        (h_0, c_0), each (B, H)    None means zeros
    outputs      (B, T, H)                  h_1 .. h_T
    final_state  (h_T, c_T), each (B, H)

Parameters (gate blocks stacked by rows in torch's LSTM order i, f, g, o)::

    weight_ih     (4H, F)   W_ih, no bias of its own
    weight_hh     (4H, H)   W_hh, no bias of its own
    bias          (4H,)     b, the gate bias
    ln_ih_weight  (4H,)     γ_ih  (init 1)      ln_ih_bias  (4H,)  β_ih  (init 0)
    ln_hh_weight  (4H,)     γ_hh  (init 1)      ln_hh_bias  (4H,)  β_hh  (init 0)
    ln_c_weight   (H,)      γ_c   (init 1)      ln_c_bias   (H,)   β_c   (init 0)

One bias: torch's LSTM carries two (``bias_ih`` + ``bias_hh``) that only enter as their sum;
here a bias inside W_ih x or W_hh h would be removed by the mean subtraction of LN anyway, so
the only bias that counts is the one added after the normalisations. Even that one is
redundant with β_ih and β_hh (all three add to z_t, and their gradients are equal); we keep
``bias`` as the paper's b, so that the two LayerNorms stay ordinary affine LayerNorms (the
parameters of ``torch.nn.LayerNorm``) and the gate bias can be initialised on its own
(``forget_bias``).

Implementation: time-major loops as in :mod:`lstmkit.ref.lstm`. LN_ih(W_ih x_t) + b does not
depend on the recurrence, so it is computed for all steps before the loop, and its backward
after the loop; the loop does one (B, H) @ (H, 4H) matmul and two LayerNorms per step.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from lstmkit.core.errors import expected, shape_str
from lstmkit.ref._common import (
    batch_major,
    check_array,
    check_pair,
    check_sizes,
    check_x,
    mul_act_grad_,
    mul_sigmoid_grad_,
    sigmoid,
    sigmoid_,
    time_major,
    uniform_init,
)

NAME = "LNLSTM"
GATES = 4
EPS = 1e-5
STATE_NAMES = ("h0", "c0")  # the initial state's parts, as gradcheck.check_cell reports them
PARAM_NAMES = ("weight_ih", "weight_hh", "bias", "ln_ih_weight", "ln_ih_bias",
               "ln_hh_weight", "ln_hh_bias", "ln_c_weight", "ln_c_bias")


# ----------------------------------------------------------------------------- LayerNorm
def layer_norm(a: np.ndarray, gain: np.ndarray, bias: np.ndarray, eps: float = EPS):
    """y = γ * â + β with â = (a - mean(a)) / sqrt(var(a) + eps), over the last axis.

    Returns ``(y, a_hat, rstd)``: ``a_hat`` has a's shape, ``rstd = 1/sqrt(var + eps)`` has
    a trailing axis of size 1. Both are what :func:`layer_norm_backward` needs.
    """
    mu = a.mean(axis=-1, keepdims=True)                          # (..., 1)
    a_hat = a - mu                                               # (..., N) centred
    var = np.mean(a_hat * a_hat, axis=-1, keepdims=True)         # (..., 1) biased, as torch
    rstd = 1.0 / np.sqrt(var + eps)                              # (..., 1)
    a_hat *= rstd                                                # â = (a - μ) / σ
    return a_hat * gain + bias, a_hat, rstd


def layer_norm_backward(dy: np.ndarray, a_hat: np.ndarray, rstd: np.ndarray, gain: np.ndarray):
    """Undo :func:`layer_norm`: ``(da, dγ, dβ)``, dγ and dβ summed over the leading axes.

    With N features, dâ = dy * γ and, since â = (a - μ)·rstd with μ and rstd functions of a::

        da = rstd * (dâ - mean(dâ) - â * mean(dâ * â))

    (the two means are the paths through μ and through var).
    """
    lead = tuple(range(dy.ndim - 1))
    d_gain = np.sum(dy * a_hat, axis=lead)                       # undo y = γ * â + β
    d_bias = np.sum(dy, axis=lead)
    d_hat = dy * gain                                            # ∂y/∂â = γ
    da = d_hat - d_hat.mean(axis=-1, keepdims=True)              # through μ
    da -= a_hat * np.mean(d_hat * a_hat, axis=-1, keepdims=True)  # through var
    da *= rstd
    return da, d_gain, d_bias


# ----------------------------------------------------------------------------- one step
def step(params, x_t, state):
    """One time step, the equations above line for line: ``x_t`` (B, F), ``state`` =
    (h_{t-1}, c_{t-1}) each (B, H). Returns ``((h_t, c_t), cache)`` for :func:`step_backward`."""
    p = params
    h_prev, c_prev = state
    H = h_prev.shape[1]
    a_x, xhat_x, rstd_x = layer_norm(x_t @ p["weight_ih"].T, p["ln_ih_weight"],
                                     p["ln_ih_bias"])                  # LN_ih(W_ih x_t)
    a_h, xhat_h, rstd_h = layer_norm(h_prev @ p["weight_hh"].T, p["ln_hh_weight"],
                                     p["ln_hh_bias"])                  # LN_hh(W_hh h_{t-1})
    z = a_x + a_h + p["bias"]                                          # z_t   (B, 4H)
    i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])                   # i_t, f_t = σ(z_i), σ(z_f)
    g, o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])           # g_t = tanh(z_g), o_t
    c = f * c_prev + i * g                                             # c_t = f_t*c_{t-1} + i_t*g_t
    a_c, xhat_c, rstd_c = layer_norm(c, p["ln_c_weight"], p["ln_c_bias"])  # LN_c(c_t)
    tanh_c = np.tanh(a_c)
    h = o * tanh_c                                                     # h_t = o_t*tanh(LN_c(c_t))
    cache = (x_t, h_prev, c_prev, i, f, g, o, tanh_c, xhat_x, rstd_x, xhat_h, rstd_h, xhat_c,
             rstd_c)
    return (h, c), cache


def step_backward(params, d_state, cache):
    """Undo :func:`step`: from ∂L/∂h_t and ∂L/∂c_t to ``(∂L/∂x_t, (∂L/∂h_{t-1},
    ∂L/∂c_{t-1}), grads)``, ``grads`` this step's share of every parameter gradient."""
    p = params
    dh, dc = d_state
    (x_t, h_prev, c_prev, i, f, g, o, tanh_c, xhat_x, rstd_x, xhat_h, rstd_h, xhat_c,
     rstd_c) = cache
    do = dh * tanh_c                                                   # h_t = o_t * tanh(LN_c)
    da_c = dh * o * (1 - tanh_c * tanh_c)
    dc_ln, d_gc, d_bc = layer_norm_backward(da_c, xhat_c, rstd_c, p["ln_c_weight"])
    dc = dc + dc_ln
    dz = np.concatenate([dc * g * i * (1 - i),                         # through c_t and σ, tanh
                         dc * c_prev * f * (1 - f),
                         dc * i * (1 - g * g),
                         do * o * (1 - o)], axis=1)                    # (B, 4H)
    d_px, d_gx, d_bx = layer_norm_backward(dz, xhat_x, rstd_x, p["ln_ih_weight"])
    d_ph, d_gh, d_bh = layer_norm_backward(dz, xhat_h, rstd_h, p["ln_hh_weight"])
    grads = {"weight_ih": d_px.T @ x_t, "weight_hh": d_ph.T @ h_prev, "bias": dz.sum(axis=0),
             "ln_ih_weight": d_gx, "ln_ih_bias": d_bx, "ln_hh_weight": d_gh,
             "ln_hh_bias": d_bh, "ln_c_weight": d_gc, "ln_c_bias": d_bc}
    return d_px @ p["weight_ih"], (d_ph @ p["weight_hh"], dc * f), grads


# ----------------------------------------------------------------------------- the sequence
# forward / backward below compute exactly step / step_backward over a whole sequence,
# arranged for speed (tests/test_ref_steps.py holds them equal).


# ----------------------------------------------------------------------------- parameters
def init(input_size, hidden_size, rng, dtype=np.float64, forget_bias=0.0) -> dict:
    """Random parameters: W_ih, W_hh and b ~ U(-1/√H, 1/√H) (torch's LSTM scheme), the
    LayerNorm gains 1 and biases 0 (``torch.nn.LayerNorm``'s init). ``forget_bias`` is added
    to the forget block of ``bias`` (rows H..2H); 1.0 is Keras' ``unit_forget_bias``."""
    F, H = check_sizes(NAME, input_size, hidden_size)
    shapes = {"weight_ih": (4 * H, F), "weight_hh": (4 * H, H), "bias": (4 * H,)}
    params = uniform_init(NAME, shapes, H, rng, dtype)
    params["bias"][H:2 * H] += forget_bias
    dtype = params["bias"].dtype
    for name, n in (("ln_ih", 4 * H), ("ln_hh", 4 * H), ("ln_c", H)):
        params[f"{name}_weight"] = np.ones(n, dtype)
        params[f"{name}_bias"] = np.zeros(n, dtype)
    return params


def check_params(params):
    """Validate a params dict; return ``(arrays, dtype, F, H)`` (arrays in the common dtype)."""
    names = ", ".join(PARAM_NAMES)
    if not isinstance(params, Mapping):
        raise expected(NAME, f"params as a dict with keys {names}", type(params).__name__)
    if any(k not in params for k in PARAM_NAMES):
        raise expected(NAME, f"params with keys {names}", f"keys {sorted(params)}")
    arrays = {k: np.asarray(params[k]) for k in PARAM_NAMES}
    dtype = np.result_type(*arrays.values())
    if not np.issubdtype(dtype, np.floating):
        raise expected(NAME, "floating-point params", f"dtype {dtype}")
    w_hh = arrays["weight_hh"]
    if w_hh.ndim != 2 or w_hh.shape[1] < 1 or w_hh.shape[0] != 4 * w_hh.shape[1]:
        raise expected(NAME, "params['weight_hh'] of shape (4H, H)", shape_str(w_hh.shape))
    H = w_hh.shape[1]
    w_ih = arrays["weight_ih"]
    if w_ih.ndim != 2 or w_ih.shape[0] != 4 * H or w_ih.shape[1] < 1:
        raise expected(NAME, f"params['weight_ih'] of shape (4H={4 * H}, F)",
                       shape_str(w_ih.shape))
    for name in PARAM_NAMES[2:]:
        n = H if name.startswith("ln_c") else 4 * H
        if arrays[name].shape != (n,):
            raise expected(NAME, f"params['{name}'] of shape ({n},)",
                           shape_str(arrays[name].shape))
    return {k: v.astype(dtype, copy=False) for k, v in arrays.items()}, dtype, w_ih.shape[1], H


# ----------------------------------------------------------------------------- forward
def forward(params, x, state=None):
    """Run the LayerNorm LSTM over ``x``; return ``(outputs, (h_T, c_T), cache)``.

    ``params``: dict as in :func:`init` (its dtype is the computation's dtype);
    ``x``: (B, T, F); ``state``: ``(h_0, c_0)`` each (B, H), or None for zeros.
    """
    p, dtype, F, H = check_params(params)
    x = check_x(NAME, x, F, dtype)
    B, T, _ = x.shape
    h0, c0 = check_pair(NAME, "state", state)
    h0 = check_array(NAME, "state h", h0, (B, H), f"B={B}, H={H}", dtype)
    c0 = check_array(NAME, "state c", c0, (B, H), f"B={B}, H={H}", dtype)

    xs = time_major(x).reshape(T * B, F)                         # (T*B, F)
    # LN_ih(W_ih x_t) + b for all t at once; the loop adds LN_hh(W_hh h_{t-1}) and activates
    # in place, so that afterwards gates[t] holds i_t | f_t | g_t | o_t.
    px = np.matmul(xs, p["weight_ih"].T)                         # (T*B, 4H) W_ih x_t
    ax, xhat_x, rstd_x = layer_norm(px, p["ln_ih_weight"], p["ln_ih_bias"])
    ax += p["bias"]
    gates = ax.reshape(T, B, 4 * H)                              # (T, B, 4H)

    W_hhT = np.ascontiguousarray(p["weight_hh"].T)               # (H, 4H)
    g_hh, b_hh, g_c, b_c = p["ln_hh_weight"], p["ln_hh_bias"], p["ln_c_weight"], p["ln_c_bias"]
    hs = np.empty((T + 1, B, H), dtype)                          # h_0 .. h_T
    cs = np.empty((T + 1, B, H), dtype)                          # c_0 .. c_T
    xhat_h = np.empty((T, B, 4 * H), dtype)                      # normalised W_hh h_{t-1}
    rstd_h = np.empty((T, B, 1), dtype)
    xhat_c = np.empty((T, B, H), dtype)                          # normalised c_t
    rstd_c = np.empty((T, B, 1), dtype)
    tcs = np.empty((T, B, H), dtype)                             # tanh(LN_c(c_t))
    hs[0], cs[0] = h0, c0
    H2, H3 = 2 * H, 3 * H
    for t in range(T):
        a = gates[t]                                             # (B, 4H)
        ah, xhat_h[t], rstd_h[t] = layer_norm(hs[t] @ W_hhT, g_hh, b_hh)  # LN_hh(W_hh h_{t-1})
        a += ah                                                  # z_t
        sigmoid_(a[:, :H2])                                      # i_t, f_t = σ(.)
        np.tanh(a[:, H2:H3], out=a[:, H2:H3])                    # g_t = tanh(.)
        sigmoid_(a[:, H3:])                                      # o_t = σ(.)
        i, f, g, o = a[:, :H], a[:, H:H2], a[:, H2:H3], a[:, H3:]
        np.multiply(f, cs[t], out=cs[t + 1])                     # c_t = f_t * c_{t-1}
        cs[t + 1] += i * g                                       #       + i_t * g_t
        ac, xhat_c[t], rstd_c[t] = layer_norm(cs[t + 1], g_c, b_c)  # LN_c(c_t)
        np.tanh(ac, out=tcs[t])                                  # tanh(LN_c(c_t))
        np.multiply(o, tcs[t], out=hs[t + 1])                    # h_t = o_t * tanh(LN_c(c_t))

    cache = {"dtype": dtype, "shape": (B, T, F, H), "p": p, "xs": xs, "xhat_x": xhat_x,
             "rstd_x": rstd_x, "gates": gates, "hs": hs, "cs": cs, "xhat_h": xhat_h,
             "rstd_h": rstd_h, "xhat_c": xhat_c, "rstd_c": rstd_c, "tcs": tcs}
    return batch_major(hs[1:]), (hs[T].copy(), cs[T].copy()), cache


# ----------------------------------------------------------------------------- backward
def backward(cache, d_outputs=None, d_final_state=None):
    """Backpropagate through the whole sequence; return ``(d_x, d_params, (d_h0, d_c0))``.

    ``d_outputs``: ∂L/∂outputs (B, T, H) or None for zeros; ``d_final_state``:
    ``(∂L/∂h_T, ∂L/∂c_T)``, either part or the whole None for zeros. ``d_params`` has the
    keys of ``params``. Each step below undoes, in reverse order, one line of the forward loop.
    """
    B, T, F, H = cache["shape"]
    dtype, p = cache["dtype"], cache["p"]
    gates, hs, cs, tcs = cache["gates"], cache["hs"], cache["cs"], cache["tcs"]
    xhat_h, rstd_h, xhat_c, rstd_c = (cache[k] for k in ("xhat_h", "rstd_h", "xhat_c",
                                                          "rstd_c"))
    dys = time_major(check_array(NAME, "d_outputs", d_outputs, (B, T, H),
                                 f"B={B}, T={T}, H={H}", dtype))                 # (T, B, H)
    dhT, dcT = check_pair(NAME, "d_final_state", d_final_state, ("dh", "dc"))
    dh = check_array(NAME, "d_final_state dh", dhT, (B, H), f"B={B}, H={H}", dtype).copy()
    dc = check_array(NAME, "d_final_state dc", dcT, (B, H), f"B={B}, H={H}", dtype).copy()

    W_hh, g_hh, g_c = p["weight_hh"], p["ln_hh_weight"], p["ln_c_weight"]
    dZ = np.empty((T, B, 4 * H), dtype)        # ∂L/∂z_t, blocks i|f|g|o
    dPh = np.empty((T, B, 4 * H), dtype)       # ∂L/∂(W_hh h_{t-1})
    d = {k: np.zeros_like(p[k]) for k in ("ln_hh_weight", "ln_hh_bias", "ln_c_weight",
                                          "ln_c_bias")}
    tmp = np.empty((B, H), dtype)
    tmp2 = np.empty((B, 2 * H), dtype)
    H2, H3 = 2 * H, 3 * H
    for t in reversed(range(T)):
        a, dz = gates[t], dZ[t]                                  # (B, 4H) each
        i, f, g, o = a[:, :H], a[:, H:H2], a[:, H2:H3], a[:, H3:]
        di, df, dg, do = dz[:, :H], dz[:, H:H2], dz[:, H2:H3], dz[:, H3:]
        dh += dys[t]                                             # h_t is output t and feeds t+1
        # undo h_t = o_t * tanh(LN_c(c_t))
        np.multiply(dh, tcs[t], out=do)                          # ∂h_t/∂o_t = tanh(LN_c(c_t))
        dac = mul_act_grad_(dh * o, tcs[t], "tanh", tmp)         # ∂L/∂LN_c(c_t)
        # undo LN_c(c_t)
        dct, dgc, dbc = layer_norm_backward(dac, xhat_c[t], rstd_c[t], g_c)
        d["ln_c_weight"] += dgc
        d["ln_c_bias"] += dbc
        dc += dct                                                # c_t feeds h_t and c_{t+1}
        # undo c_t = f_t * c_{t-1} + i_t * g_t
        np.multiply(dc, g, out=di)                               # ∂c_t/∂i_t = g_t
        np.multiply(dc, cs[t], out=df)                           # ∂c_t/∂f_t = c_{t-1}
        np.multiply(dc, i, out=dg)                               # ∂c_t/∂g_t = i_t
        dc *= f                                                  # ∂c_t/∂c_{t-1} = f_t
        # undo g_t = tanh(.) and i_t, f_t, o_t = σ(.)
        mul_act_grad_(dg, g, "tanh", tmp)
        mul_sigmoid_grad_(dz[:, :H2], a[:, :H2], tmp2)
        mul_sigmoid_grad_(do, o, tmp)
        # undo z_t = ... + LN_hh(W_hh h_{t-1}): the recurrent path to h_{t-1}
        dPh[t], dgh, dbh = layer_norm_backward(dz, xhat_h[t], rstd_h[t], g_hh)
        d["ln_hh_weight"] += dgh
        d["ln_hh_bias"] += dbh
        np.matmul(dPh[t], W_hh, out=dh)                          # (B, 4H) @ (4H, H)

    # Undo, for all steps at once, what does not feed the recurrence.
    dZ2 = dZ.reshape(T * B, 4 * H)                               # (T*B, 4H)
    d["bias"] = dZ2.sum(axis=0)                                  # undo z_t = ... + b
    dpx, d["ln_ih_weight"], d["ln_ih_bias"] = layer_norm_backward(   # undo LN_ih(W_ih x_t)
        dZ2, cache["xhat_x"], cache["rstd_x"], p["ln_ih_weight"])
    d["weight_ih"] = np.matmul(dpx.T, cache["xs"])               # Σ_t dpx_t x_t^T    (4H, F)
    d["weight_hh"] = np.matmul(dPh.reshape(T * B, 4 * H).T,      # Σ_t dph_t h_{t-1}^T (4H, H)
                               hs[:-1].reshape(T * B, H))
    d_x = np.matmul(dpx, p["weight_ih"]).reshape(T, B, F)        # (T, B, F)
    d_params = {k: d[k] for k in PARAM_NAMES}
    return batch_major(d_x), d_params, (dh, dc)
