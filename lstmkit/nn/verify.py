"""Cross-implementation checks: ``lstmkit.ref`` (NumPy) vs the torch engines.

Used by the test suite and by ``lstmkit check``. One problem, float64:
two calls where the second starts from the first's final state, through a
stack of ``L`` layers, with the loss

    L = Σ out1·W1 + Σ out2·W2 + Σ h_n·Wh (+ Σ c_n·Wc)

The ref is one layer at a time, so the stack is chained by hand: forward layer
by layer, and backward from the top, the ``d_x`` of layer k+1 being the
``d_outputs`` of layer k. Across calls, the second call's ``d_state0`` is the
first call's ``d_final_state``. :func:`compare` returns the worst absolute
difference of every output, state and gradient.
"""

from __future__ import annotations

import importlib
import inspect

import numpy as np
import torch

from lstmkit.nn.convert import set_layer_params
from lstmkit.nn.layer import Recurrent

D = torch.float64
B, F, H = 3, 4, 5
T1, T2 = 6, 3


def ref_module(cell):
    return importlib.import_module(f"lstmkit.ref.{cell}")


def has_activation(cell) -> bool:
    return "activation" in inspect.signature(ref_module(cell).forward).parameters


def ref_kwargs(cell, activation) -> dict:
    if cell == "rnn":
        return {"nonlinearity": activation}
    if activation == "tanh" and not has_activation(cell):
        return {}  # lstmkit.ref.gru is tanh-only
    return {"activation": activation}


def split_state(cell, s, k):
    """Layer k of a (L, B, H) state (or pair) as the ref's per-layer state."""
    return (s[0][k], s[1][k]) if cell == "lstm" else s[k]


def stack_state(cell, per_layer):
    if cell == "lstm":
        return (np.stack([s[0] for s in per_layer]), np.stack([s[1] for s in per_layer]))
    return np.stack(per_layer)


def ref_forward(mod, params, x, state, cell, kw):
    caches, finals, inp = [], [], x
    for k, p in enumerate(params):
        inp, fin, cache = mod.forward(p, inp, split_state(cell, state, k), **kw)
        caches.append(cache)
        finals.append(fin)
    return inp, stack_state(cell, finals), caches


def ref_backward(mod, caches, d_out, d_final, cell):
    L = len(caches)
    d_params, d_state0, d = [None] * L, [None] * L, d_out
    for k in reversed(range(L)):
        d, d_params[k], d_state0[k] = mod.backward(caches[k], d, split_state(cell, d_final, k))
    return d, d_params, stack_state(cell, d_state0)


def as_tuple(s):
    return tuple(s) if isinstance(s, tuple) else (s,)


def problem(cell, L, seed=7):
    rng = np.random.default_rng(seed)
    n = 2 if cell == "lstm" else 1
    return {
        "x1": rng.normal(size=(B, T1, F)), "x2": rng.normal(size=(B, T2, F)),
        "s0": tuple(rng.normal(size=(L, B, H)) for _ in range(n)),
        "W1": rng.normal(size=(B, T1, H)), "W2": rng.normal(size=(B, T2, H)),
        "Ws": tuple(rng.normal(size=(L, B, H)) for _ in range(n)),
    }


def run_ref(cell, activation, params, P):
    """Values [out1, out2, states...] and grads [dx1, dx2, d_state0...] and per-layer d_params."""
    mod, kw = ref_module(cell), ref_kwargs(cell, activation)
    s0 = P["s0"] if cell == "lstm" else P["s0"][0]
    out1, s1, c1 = ref_forward(mod, params, P["x1"], s0, cell, kw)
    out2, s2, c2 = ref_forward(mod, params, P["x2"], s1, cell, kw)
    d_s2 = P["Ws"] if cell == "lstm" else P["Ws"][0]
    dx2, dp2, ds1 = ref_backward(mod, c2, P["W2"], d_s2, cell)
    dx1, dp1, ds0 = ref_backward(mod, c1, P["W1"], ds1, cell)
    d_params = [{k: a[k] + b[k] for k in a} for a, b in zip(dp1, dp2, strict=True)]
    vals = [out1, out2, *as_tuple(s1), *as_tuple(s2)]
    return vals, [dx1, dx2, *as_tuple(ds0)], d_params


def run_nn(layer, cell, P):
    """The same two-call problem through a :class:`Recurrent` layer, gradients by autograd."""
    t = lambda a: torch.tensor(a, dtype=D, requires_grad=True)
    x1, x2 = t(P["x1"]), t(P["x2"])
    s0 = tuple(t(a) for a in P["s0"])
    out1, s1 = layer(x1, s0 if cell == "lstm" else s0[0])
    out2, s2 = layer(x2, s1)
    loss = (out1 * torch.tensor(P["W1"])).sum() + (out2 * torch.tensor(P["W2"])).sum()
    for s, w in zip(as_tuple(s2), P["Ws"], strict=True):
        loss = loss + (s * torch.tensor(w)).sum()
    names = [n for n, _ in layer.named_parameters()]
    grads = torch.autograd.grad(loss, [x1, x2, *s0, *layer.parameters()])
    d_params = [{} for _ in range(layer.num_layers)]
    for name, g in zip(names, grads[2 + len(s0):], strict=True):
        base, k = name.removeprefix("rnn.").rsplit("_l", 1)
        d_params[int(k)][base] = g.numpy()
    vals = [v.detach().numpy() for v in (out1, out2, *as_tuple(s1), *as_tuple(s2))]
    return vals, [g.numpy() for g in grads[:2 + len(s0)]], d_params


def engines_for(cell, activation) -> list[str]:
    """The transcribed cells always; torch.nn.* where it supports the activation."""
    return ["cells", "torch"] if cell == "rnn" or activation == "tanh" else ["cells"]


def compare(cell: str, activation: str, num_layers: int, engine: str) -> dict[str, float]:
    """Worst |ref − engine| of each value and gradient, named, for the two-call problem."""
    mod = ref_module(cell)
    rng = np.random.default_rng(0)
    params = [mod.init(F if k == 0 else H, H, rng) for k in range(num_layers)]
    P = problem(cell, num_layers)
    want_vals, want_grads, want_dp = run_ref(cell, activation, params, P)
    layer = Recurrent(cell, F, H, num_layers=num_layers, activation=activation, engine=engine,
                      dtype=D)
    for k, p in enumerate(params):
        set_layer_params(layer, k, p)
    vals, grads, dp = run_nn(layer, cell, P)
    states = ["h", "c"] if cell == "lstm" else ["h"]
    value_names = ["out1", "out2", *[f"{s}1" for s in states], *[f"{s}2" for s in states]]
    grad_names = ["d_x1", "d_x2", *[f"d_{s}0" for s in states]]
    errors = {}
    for names, got, want in ((value_names, vals, want_vals), (grad_names, grads, want_grads)):
        for name, a, b in zip(names, got, want, strict=True):
            errors[name] = float(np.max(np.abs(a - b))) if a.shape == b.shape else float("inf")
    for k in range(num_layers):
        if sorted(dp[k]) != sorted(want_dp[k]):
            errors[f"layer{k} parameter names"] = float("inf")
            continue
        for name in want_dp[k]:
            errors[f"layer{k} d_{name}"] = float(np.max(np.abs(dp[k][name] - want_dp[k][name])))
    return errors
