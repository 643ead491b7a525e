r"""Long short-term memory (LSTM): the NumPy reference, forward and backward.

For each time step t = 1..T, with ``[h_{t-1}, x_t]`` the concatenation of the previous
hidden state and the current input, σ the logistic sigmoid and ``*`` the element-wise
product::

    f_t = σ(W_f·[h_{t-1}, x_t] + b_f)           forget gate
    i_t = σ(W_i·[h_{t-1}, x_t] + b_i)           input gate
    C̃_t = tanh(W_C·[h_{t-1}, x_t] + b_C)        candidate cell
    C_t = f_t * C_{t-1} + i_t * C̃_t             cell state
    o_t = σ(W_o·[h_{t-1}, x_t] + b_o)           output gate
    h_t = o_t * tanh(C_t)                       hidden state (the output at step t)

With ``activation="relu"`` (Keras' ``LSTM(units, activation="relu")``) both tanh's, on the
candidate C̃_t and on the cell output, become relu; the three gates stay sigmoid.

Inputs and outputs (batch first)::

    x            (B, T, F)                  B sequences of T steps of F features
    state        (h_0, C_0), each (B, H)    None means zeros
    outputs      (B, T, H)                  h_1 .. h_T
    final_state  (h_T, C_T), each (B, H)

Weight layout: ``params`` is one layer of ``torch.nn.LSTM`` without the ``_l0`` suffix,
the rows grouped by gate in the order i, f, g (= C̃), o::

    weight_ih  (4H, F)   [W_ii | W_if | W_ig | W_io]   (stacked by rows)
    weight_hh  (4H, H)   [W_hi | W_hf | W_hg | W_ho]
    bias_ih    (4H,)     [b_ii | b_if | b_ig | b_io]
    bias_hh    (4H,)     [b_hi | b_hf | b_hg | b_ho]

and the course's matrices are, for each gate k in {i, f, C (= g), o}::

    W_k = [W_hk | W_ik]   (H, H + F)   the k rows of weight_hh beside those of weight_ih
    b_k = b_ik + b_hk                  torch (and cuDNN) carry two biases; only the sum matters

Keras uses the same gate order: ``kernel = weight_ih.T``, ``recurrent_kernel = weight_hh.T``,
``bias = bias_ih + bias_hh``.

:func:`step` and :func:`step_backward` are those equations, one time step, line for line.
:func:`forward` and :func:`backward` run a whole sequence; they are the same equations,
arranged for speed (the comments in the code name the equation each line computes or, in the
backward, undoes), and tested equal to the step functions:

Implementation — the equations above, arranged for speed (the comments in the code name the
equation each line computes or, in the backward, undoes):

* The loops run time-major, (T, B, ...), so that a step reads and writes contiguous blocks.
* The forward keeps ``[h_{t-1}, x_t, 1]`` for every step (the course's concatenation, plus
  a constant 1 that carries the bias). The input side ``weight_ih·x_t + b`` of all steps is
  one matmul before the loop; the loop does one (B, H) @ (H, 4H) matmul per step; after the
  backward loop, one matmul against the stored ``[h_{t-1}, x_t, 1]`` gives d_weight_hh,
  d_weight_ih and d_bias for all steps at once, and one more gives d_x.
* Inside, the gate blocks are in the order i, f, o, g, and the rows of i, f, o are scaled
  by 1/2: with σ(z) = (1 + tanh(z/2)) / 2, one tanh over the whole (B, 4H) block activates
  all four gates, and the backward has one derivative, 1 - u², for all four blocks (the
  leftover constant factors are applied to the weights, see :func:`backward`). The
  permutation and the scaling are applied to the weights on the way in and undone on their
  gradients.
"""

from __future__ import annotations

import numpy as np

from lstmkit.ref._common import (
    ACTIVATIONS,
    activate,
    batch_major,
    check_array,
    check_choice,
    check_pair,
    check_params,
    check_sizes,
    check_x,
    course_matrices,
    mul_act_grad_,
    phi,
    phi_grad,
    sigmoid,
    torch_grads,
    uniform_init,
)

NAME = "LSTM"
GATES = 4
STATE_NAMES = ("h0", "c0")  # the initial state's parts, as check_cell reports them


# ----------------------------------------------------------------------------- one step
def step(params, x_t, state, activation="tanh"):
    """One time step, line for line the course's equations.

    ``x_t`` (B, F); ``state`` = (h_{t-1}, C_{t-1}), each (B, H). Returns ``((h_t, C_t),
    cache)``; the cache is what :func:`step_backward` needs. ``activation="relu"`` puts relu
    where the equations have tanh (Keras' ``activation="relu"``).
    """
    h_prev, C_prev = state
    W, b = course_matrices(params, "ifCo")     # W_k = [W_hk | W_ik] (H, H+F), b_k (H,)
    hx = np.concatenate([h_prev, x_t], axis=1)          # [h_{t-1}, x_t]   (B, H+F)
    f = sigmoid(hx @ W["f"].T + b["f"])                 # f_t = σ(W_f·[h_{t-1}, x_t] + b_f)
    i = sigmoid(hx @ W["i"].T + b["i"])                 # i_t = σ(W_i·[h_{t-1}, x_t] + b_i)
    C_tilde = phi(hx @ W["C"].T + b["C"], activation)   # C̃_t = tanh(W_C·[h_{t-1}, x_t] + b_C)
    C = f * C_prev + i * C_tilde                        # C_t = f_t * C_{t-1} + i_t * C̃_t
    o = sigmoid(hx @ W["o"].T + b["o"])                 # o_t = σ(W_o·[h_{t-1}, x_t] + b_o)
    tanh_C = phi(C, activation)
    h = o * tanh_C                                      # h_t = o_t * tanh(C_t)
    cache = (W, hx, C_prev, f, i, C_tilde, o, tanh_C, activation)
    return (h, C), cache


def step_backward(params, d_state, cache):
    """Undo :func:`step`: from ∂L/∂h_t and ∂L/∂C_t (everything that reaches them: the loss
    at step t and step t+1) to ``(∂L/∂x_t, (∂L/∂h_{t-1}, ∂L/∂C_{t-1}), grads)``, ``grads``
    being this step's share of every parameter gradient, in torch's layout."""
    dh, dC = d_state
    W, hx, C_prev, f, i, C_tilde, o, tanh_C, act = cache
    H = dh.shape[1]
    do = dh * tanh_C                                             # h_t = o_t * tanh(C_t)
    dC = dC + dh * o * phi_grad(tanh_C, act)
    df, di, dC_tilde = dC * C_prev, dC * C_tilde, dC * i         # C_t = f_t*C_{t-1} + i_t*C̃_t
    dC_prev = dC * f
    dz = {"f": df * f * (1 - f), "i": di * i * (1 - i),          # through σ: σ' = σ(1 - σ)
          "C": dC_tilde * phi_grad(C_tilde, act), "o": do * o * (1 - o)}
    dhx = sum(dz[k] @ W[k] for k in "ifCo")                      # ∂L/∂[h_{t-1}, x_t]
    dW = {k: dz[k].T @ hx for k in "ifCo"}                       # ∂L/∂W_k = dz_kᵀ [h_{t-1}, x_t]
    db = {k: dz[k].sum(axis=0) for k in "ifCo"}
    return dhx[:, H:], (dhx[:, :H], dC_prev), torch_grads(dW, db, "ifCo", H)


# ----------------------------------------------------------------------------- the sequence
# forward / backward below compute exactly step / step_backward over a whole sequence,
# arranged for speed (tests/test_ref_steps.py holds them equal).


def _ifog(H: int) -> np.ndarray:
    """Row permutation torch order i|f|g|o -> internal i|f|o|g (its own inverse)."""
    return np.concatenate([np.arange(k * H, (k + 1) * H) for k in (0, 1, 3, 2)])


def init(input_size, hidden_size, rng, dtype=np.float64, forget_bias=0.0) -> dict:
    """Random parameters in torch's layout and torch's scheme.

    Every weight and bias entry is drawn from U(-1/√H, 1/√H), as ``torch.nn.LSTM`` does.
    ``forget_bias`` is then added to the forget-gate block of ``bias_ih`` (rows H..2H):
    the default 0.0 matches torch; 1.0 corresponds to Keras' ``unit_forget_bias=True``
    (which starts the forget gate mostly open so that gradients flow through C early on).
    ``rng`` is a ``numpy.random.Generator``; ``dtype`` float64 is the reference.
    """
    F, H = check_sizes(NAME, input_size, hidden_size)
    shapes = {"weight_ih": (4 * H, F), "weight_hh": (4 * H, H), "bias_ih": (4 * H,),
              "bias_hh": (4 * H,)}
    params = uniform_init(NAME, shapes, H, rng, dtype)
    params["bias_ih"][H:2 * H] += forget_bias
    return params


def forward(params, x, state=None, activation="tanh"):
    """Run the LSTM over ``x``; return ``(outputs, (h_T, C_T), cache)``.

    ``params``: dict as in :func:`init` (its dtype is the computation's dtype);
    ``x``: (B, T, F); ``state``: ``(h_0, C_0)`` each (B, H), or None for zeros;
    ``activation``: ``"tanh"`` (standard) or ``"relu"`` (Keras-style).
    ``cache`` holds what :func:`backward` needs.
    """
    p, dtype, F, H = check_params(NAME, params, GATES)
    check_choice(NAME, "activation", activation, ACTIVATIONS)
    x = check_x(NAME, x, F, dtype)
    B, T, _ = x.shape
    h0, c0 = check_pair(NAME, "state", state)
    h0 = check_array(NAME, "state h", h0, (B, H), f"B={B}, H={H}", dtype)
    c0 = check_array(NAME, "state c", c0, (B, H), f"B={B}, H={H}", dtype)

    perm = _ifog(H)
    # Rows of the sigmoid gates are scaled by 1/2: σ(z) = (1 + tanh(z/2)) / 2, so that a
    # single tanh over the contiguous (B, 4H) block gives tanh(z/2) for i, f, o and the
    # candidate's tanh(z) at once. Backward undoes the scale on the weights (see there).
    scale = np.repeat(np.array([0.5, 0.5, 0.5, 1.0], dtype), H)[:, None]      # (4H, 1)
    W_ih = p["weight_ih"][perm]                                 # (4H, F)  rows i|f|o|g
    W_hh = p["weight_hh"][perm]                                 # (4H, H)
    W_hhT = np.ascontiguousarray((scale * W_hh).T)              # (H, 4H)
    b = (p["bias_ih"] + p["bias_hh"])[perm]                     # (4H,)    b_k = b_ik + b_hk
    Wb = np.vstack([W_ih.T, b]) * scale.T                       # (F+1, 4H)

    # hx[t] = [h_{t-1}, x_t, 1]: the course's [h_{t-1}, x_t], plus a constant 1 that carries
    # the bias. The loop fills in the h part; backward gets all weight gradients from it.
    hx = np.zeros((T + 1, B, H + F + 1), dtype)                 # (T+1, B, H+F+1)
    hx[0, :, :H] = h0
    hx[:T, :, H:H + F] = x.swapaxes(0, 1)                       # time-major x
    hx[:T, :, H + F] = 1
    hs = hx[:, :, :H]                                           # h_0 .. h_T (a view)
    # Input side scale * (W_i·x_t + b) for all t in one matmul; the loop adds the recurrent
    # side and activates in place, so that afterwards u[t] holds the tanh of every block
    # (relu for C̃ with activation="relu").
    u = np.matmul(hx[:T, :, H:].reshape(T * B, F + 1), Wb).reshape(T, B, 4 * H)
    sig = np.empty((T, 3, B, H), dtype)                          # i_t, f_t, o_t
    cs = np.empty((T + 1, B, H), dtype)                          # C_0 .. C_T
    acs = np.empty((T, B, H), dtype)                             # tanh(C_1) .. tanh(C_T)
    cs[0] = c0
    hw = np.empty((B, 4 * H), dtype)
    ig = np.empty((B, H), dtype)
    H3 = 3 * H
    for t in range(T):
        a = u[t]                                                 # (B, 4H)
        np.matmul(hs[t], W_hhT, out=hw)
        a += hw                                                  # a = scale*(W·[h, x] + b)
        if activation == "tanh":
            np.tanh(a, out=a)                                    # tanh(a): all four blocks
        else:
            np.tanh(a[:, :H3], out=a[:, :H3])
            np.maximum(a[:, H3:], 0, out=a[:, H3:])              # C̃_t = relu(.)
        s = sig[t]                                               # (3, B, H)
        np.multiply(a[:, :H3].reshape(B, 3, H).swapaxes(0, 1), 0.5, out=s)
        s += 0.5                                                 # i_t, f_t, o_t = σ(.)
        (i, f, o), g = s, a[:, H3:]
        np.multiply(f, cs[t], out=cs[t + 1])                     # C_t = f_t * C_{t-1}
        np.multiply(i, g, out=ig)
        cs[t + 1] += ig                                          #       + i_t * C̃_t
        activate(cs[t + 1], activation, out=acs[t])              # tanh(C_t)
        np.multiply(o, acs[t], out=hs[t + 1])                    # h_t = o_t * tanh(C_t)

    cache = {"activation": activation, "dtype": dtype, "shape": (B, T, F, H), "perm": perm,
             "hx": hx, "W_ih": W_ih, "W_hh": W_hh, "u": u, "sig": sig, "cs": cs, "acs": acs}
    return batch_major(hs[1:]), (hs[T].copy(), cs[T].copy()), cache


def backward(cache, d_outputs=None, d_final_state=None):
    """Backpropagate through the whole sequence; return ``(d_x, d_params, (d_h0, d_C0))``.

    ``d_outputs``: ∂L/∂outputs, (B, T, H), None for zeros; ``d_final_state``:
    ``(∂L/∂h_T, ∂L/∂C_T)``, either part or the whole None for zeros.
    ``d_params`` has the keys and layout of ``params``. Each step below undoes, in reverse
    order, one line of the forward loop.
    """
    B, T, F, H = cache["shape"]
    dtype, activation = cache["dtype"], cache["activation"]
    u, sig, hx, cs, acs = cache["u"], cache["sig"], cache["hx"], cache["cs"], cache["acs"]
    if d_outputs is not None:
        d_outputs = check_array(NAME, "d_outputs", d_outputs, (B, T, H),
                                f"B={B}, T={T}, H={H}", dtype)                   # (B, T, H)
    dhT, dcT = check_pair(NAME, "d_final_state", d_final_state, ("dh", "dc"))
    dh = check_array(NAME, "d_final_state dh", dhT, (B, H), f"B={B}, H={H}", dtype).copy()
    dc = check_array(NAME, "d_final_state dc", dcT, (B, H), f"B={B}, H={H}", dtype).copy()

    # The loop stores D = ∂L/∂(gate or C̃) * (1 - u²), u the forward's tanh, block by block.
    # For C̃ (tanh) that is ∂L/∂z exactly. For a gate, σ = (1 + u)/2 with u = tanh(z/2) gives
    # ∂σ/∂z = (1 - u²)/4, i.e. ∂L/∂z = D/4. So ∂L/∂z = k * D with k = 1/4 on the rows of
    # i, f, o and 1 on C̃ (and for relu: D uses relu' = [C̃ > 0] instead of 1 - u²).
    # Being constant per row, k is applied to the small weight matrices, not to D.
    k = np.repeat(np.array([0.25, 0.25, 0.25, 1.0], dtype), H)[:, None]        # (4H, 1)
    W_hh_k = k * cache["W_hh"]                                   # (4H, H)
    dZ = np.empty((T, B, 4 * H), dtype)                          # D, blocks i|f|o|g
    tmp, tmp2 = np.empty((B, H), dtype), np.empty((B, H), dtype)
    tmp4 = np.empty((B, 4 * H), dtype)
    H3 = 3 * H
    for t in reversed(range(T)):
        a, d = u[t], dZ[t]                                       # (B, 4H) each
        (i, f, o), g = sig[t], a[:, H3:]                         # (B, H) each
        di, df, do, dg = d[:, :H], d[:, H:2 * H], d[:, 2 * H:H3], d[:, H3:]
        if d_outputs is not None:
            dh += d_outputs[:, t]                                # h_t is output t and feeds t+1
        # undo h_t = o_t * tanh(C_t)
        np.multiply(dh, acs[t], out=do)                          # ∂h_t/∂o_t = tanh(C_t)
        np.multiply(dh, o, out=tmp)                              # ∂h_t/∂C_t = o_t * tanh'(C_t)
        mul_act_grad_(tmp, acs[t], activation, tmp2)
        dc += tmp                                                # C_t feeds h_t and C_{t+1}
        # undo C_t = f_t * C_{t-1} + i_t * C̃_t
        np.multiply(dc, g, out=di)                               # ∂C_t/∂i_t = C̃_t
        np.multiply(dc, cs[t], out=df)                           # ∂C_t/∂f_t = C_{t-1}
        np.multiply(dc, i, out=dg)                               # ∂C_t/∂C̃_t = i_t
        dc *= f                                                  # ∂C_t/∂C_{t-1} = f_t
        # undo u = tanh(.) (σ and C̃ at once, the factor k is on the weights)
        np.multiply(a, a, out=tmp4)
        np.subtract(1, tmp4, out=tmp4)                           # 1 - u²
        if activation == "relu":
            np.greater(g, 0, out=tmp4[:, H3:])                   # relu'(.) for C̃
        d *= tmp4
        # undo a = W_h·h_{t-1} + ...: the recurrent path to h_{t-1}
        np.matmul(d, W_hh_k, out=dh)                             # (B, 4H) @ (4H, H)

    # Undo, for all steps at once, what does not feed the recurrence: ∂L/∂z = k * D.
    dZ2 = dZ.reshape(T * B, 4 * H)                               # (T*B, 4H)
    dW = k * np.matmul(dZ2.T, hx[:T].reshape(T * B, H + F + 1))  # Σ_t dz_t [h_{t-1}, x_t, 1]^T
    d_W_hh, d_W_ih, d_b = dW[:, :H], dW[:, H:H + F], dW[:, H + F]  # (4H, H), (4H, F), (4H,)
    d_x = np.matmul(dZ2, k * cache["W_ih"]).reshape(T, B, F)     # (T, B, F)

    perm = cache["perm"]                                         # undo the i|f|o|g order
    d_params = {"weight_ih": d_W_ih[perm], "weight_hh": d_W_hh[perm],
                "bias_ih": d_b[perm], "bias_hh": d_b[perm]}
    return batch_major(d_x), d_params, (dh, dc)
