"""Cross-implementation checks: ``lstmkit.ref`` (NumPy) vs the torch engines.

Used by the test suite and by ``lstmkit check``. One problem, float64: two calls
where the second starts from the first's final state, through a stack of ``L``
layers (optionally bidirectional), with the loss

    L = Σ out1·W1 + Σ out2·W2 + Σ h_n·Wh (+ Σ c_n·Wc)

The ref is one layer (and one direction) at a time, so the stack is chained by
hand: forward layer by layer, and backward from the top, the ``d_x`` of layer
k+1 being the ``d_outputs`` of layer k. Across calls, the second call's
``d_state0`` is the first call's ``d_final_state``. :func:`compare` returns the
worst absolute difference of every output, state and gradient, by name.
"""

from __future__ import annotations

import numpy as np
import torch

from lstmkit.ref import bidirectional as bd
from lstmkit.ref import gru, lnlstm, lstm, rnn

D = torch.float64
B, F, H = 3, 4, 5
T1, T2 = 6, 3
MODS = {"lstm": lstm, "gru": gru, "rnn": rnn, "lnlstm": lnlstm}


def n_parts(cell) -> int:
    return 2 if cell in ("lstm", "lnlstm") else 1


def fmt(cell, parts):
    """tuple of state parts -> the ref's state format."""
    return tuple(parts) if n_parts(cell) == 2 else parts[0]


def parts_of(cell, state):
    return tuple(state) if n_parts(cell) == 2 else (state,)


def ref_kwargs(cell, activation) -> dict:
    if cell == "rnn":
        return {"nonlinearity": activation}
    return {"activation": activation} if activation != "tanh" else {}


def ref_params(cell, L, bidir, seed=0):
    """[layer][direction] params from each module's ``init``; LN gains/biases moved off 1/0
    so that they are really tested."""
    rng, Dn, mod = np.random.default_rng(seed), 2 if bidir else 1, MODS[cell]
    out = []
    for k in range(L):
        dirs = []
        for _ in range(Dn):
            p = mod.init(F if k == 0 else Dn * H, H, rng)
            for name in p:
                if name.startswith("ln_"):
                    p[name] = p[name] + 0.2 * rng.normal(size=p[name].shape)
            dirs.append(p)
        out.append(dirs)
    return out


def ref_forward(cell, params, x, s0, kw=None):
    """s0: tuple of (L*D, B, H) parts. Returns outputs, final parts, caches."""
    mod, Dn, kw = MODS[cell], len(params[0]), kw or {}
    inp, finals, caches = x, [], []
    for k, dirs in enumerate(params):
        rows = [s[k * Dn:(k + 1) * Dn] for s in s0]  # each (D, B, H)
        if Dn == 2:
            inp, fin, cache = bd.forward(mod, dirs[0], dirs[1], inp, fmt(cell, rows), **kw)
            fin = parts_of(cell, fin)
        else:
            inp, fin, cache = mod.forward(dirs[0], inp, fmt(cell, [r[0] for r in rows]), **kw)
            fin = tuple(f[None] for f in parts_of(cell, fin))
        finals.append(fin)
        caches.append(cache)
    return inp, tuple(np.concatenate(f) for f in zip(*finals, strict=True)), caches


def ref_backward(cell, caches, Dn, d_out, d_final):
    mod, L = MODS[cell], len(caches)
    d_params, d_s0, d = [None] * L, [None] * L, d_out
    for k in reversed(range(L)):
        rows = [s[k * Dn:(k + 1) * Dn] for s in d_final]
        if Dn == 2:
            d, d_params[k], ds = bd.backward(caches[k], d, fmt(cell, rows))
            d_s0[k] = parts_of(cell, ds)
        else:
            d, dp, ds = mod.backward(caches[k], d, fmt(cell, [r[0] for r in rows]))
            d_params[k], d_s0[k] = (dp,), tuple(a[None] for a in parts_of(cell, ds))
    return d, d_params, tuple(np.concatenate(s) for s in zip(*d_s0, strict=True))


def problem(cell, L, Dn, seed=7):
    rng = np.random.default_rng(seed)
    n = n_parts(cell)
    return {"x1": rng.normal(size=(B, T1, F)), "x2": rng.normal(size=(B, T2, F)),
            "s0": tuple(rng.normal(size=(L * Dn, B, H)) for _ in range(n)),
            "W1": rng.normal(size=(B, T1, Dn * H)), "W2": rng.normal(size=(B, T2, Dn * H)),
            "Ws": tuple(rng.normal(size=(L * Dn, B, H)) for _ in range(n))}


def run_ref(cell, params, P, kw=None):
    """Values [out1, out2, states…], grads [dx1, dx2, d_state0…], d_params by torch name."""
    Dn = len(params[0])
    out1, s1, c1 = ref_forward(cell, params, P["x1"], P["s0"], kw)
    out2, s2, c2 = ref_forward(cell, params, P["x2"], s1, kw)
    dx2, dp2, ds1 = ref_backward(cell, c2, Dn, P["W2"], P["Ws"])
    dx1, dp1, ds0 = ref_backward(cell, c1, Dn, P["W1"], ds1)
    d_params = {}
    for k, (a, b) in enumerate(zip(dp1, dp2, strict=True)):
        for d, (pa, pb) in enumerate(zip(a, b, strict=True)):
            for name in pa:
                d_params[f"{name}_l{k}" + ("_reverse" if d else "")] = pa[name] + pb[name]
    return [out1, out2, *s1, *s2], [dx1, dx2, *ds0], d_params


def load(layer, params) -> None:
    """Copy [layer][direction] ref params into a :class:`Recurrent` (torch names)."""
    with torch.no_grad():
        for k, dirs in enumerate(params):
            for d, p in enumerate(dirs):
                for name, v in p.items():
                    sfx = "_reverse" if d else ""
                    getattr(layer.rnn, f"{name}_l{k}{sfx}").copy_(torch.as_tensor(v))


def run_nn(layer, cell, P):
    """The same two-call problem through a :class:`Recurrent` layer, gradients by autograd."""
    t = lambda a: torch.tensor(a, dtype=D, requires_grad=True)
    x1, x2 = t(P["x1"]), t(P["x2"])
    s0 = tuple(t(a) for a in P["s0"])
    out1, s1 = layer(x1, fmt(cell, s0))
    out2, s2 = layer(x2, s1)
    loss = (out1 * torch.tensor(P["W1"])).sum() + (out2 * torch.tensor(P["W2"])).sum()
    for s, w in zip(parts_of(cell, s2), P["Ws"], strict=True):
        loss = loss + (s * torch.tensor(w)).sum()
    names = [n.removeprefix("rnn.") for n, _ in layer.named_parameters()]
    grads = torch.autograd.grad(loss, [x1, x2, *s0, *layer.parameters()])
    vals = [v.detach().numpy() for v in (out1, out2, *parts_of(cell, s1), *parts_of(cell, s2))]
    d_params = {n: g.numpy() for n, g in zip(names, grads[2 + len(s0):], strict=True)}
    return vals, [g.numpy() for g in grads[:2 + len(s0)]], d_params


def differences(got, want) -> dict[str, float]:
    """Worst |got − want| per named value and gradient (inf on a shape or name mismatch)."""
    vals, grads, dp = got
    w_vals, w_grads, w_dp = want
    out = {}
    names = [f"value{i}" for i in range(len(w_vals))] + [f"grad{i}" for i in range(len(w_grads))]
    for name, a, b in zip(names, vals + grads, w_vals + w_grads, strict=True):
        out[name] = float(np.max(np.abs(a - b))) if a.shape == b.shape else float("inf")
    if sorted(dp) != sorted(w_dp):
        out["parameter names"] = float("inf")
    for name in set(dp) & set(w_dp):
        out[f"d_{name}"] = float(np.max(np.abs(dp[name] - w_dp[name])))
    return out


def engines_for(cell, activation) -> list[str]:
    """The transcribed cells always; torch.nn.* where it has the cell and activation."""
    if cell == "lnlstm":
        return ["cells"]
    return ["cells", "torch"] if cell == "rnn" or activation == "tanh" else ["cells"]


def compare(cell: str, activation: str, num_layers: int, engine: str,
            bidirectional: bool = False) -> dict[str, float]:
    """Worst |ref − engine| of each value and gradient for the two-call problem."""
    from lstmkit.nn.layer import Recurrent

    params = ref_params(cell, num_layers, bidirectional)
    P = problem(cell, num_layers, 2 if bidirectional else 1)
    want = run_ref(cell, params, P, ref_kwargs(cell, activation))
    layer = Recurrent(cell, F, H, num_layers=num_layers, activation=activation, engine=engine,
                      bidirectional=bidirectional, dtype=D)
    load(layer, params)
    return differences(run_nn(layer, cell, P), want)


def compare_fused() -> dict[str, float]:
    """Worst |ref − fused C++ layer| (:mod:`lstmkit.nn.fused`) for the two-call problem, one
    LSTM layer (tanh). Needs the extension to build."""
    from lstmkit.nn import fused

    params = ref_params("lstm", 1, False)
    P = problem("lstm", 1, 1)
    want = run_ref("lstm", params, P)
    t = lambda a: torch.tensor(a, dtype=D, requires_grad=True)
    w = {f"{k}_l0": t(v) for k, v in params[0][0].items()}
    x1, x2 = t(P["x1"]), t(P["x2"])
    h0, c0 = t(P["s0"][0][0]), t(P["s0"][1][0])  # layer 0 of (1, B, H)
    args = [w[n] for n in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")]
    out1, h1, c1 = fused.lstm_layer(x1, h0, c0, *args)
    out2, h2, c2 = fused.lstm_layer(x2, h1, c1, *args)
    loss = (out1 * torch.tensor(P["W1"])).sum() + (out2 * torch.tensor(P["W2"])).sum()
    for s2, ws in ((h2, P["Ws"][0][0]), (c2, P["Ws"][1][0])):
        loss = loss + (s2 * torch.tensor(ws)).sum()
    grads = torch.autograd.grad(loss, [x1, x2, h0, c0, *w.values()])
    vals = [v.detach().numpy() for v in (out1, out2, h1[None], c1[None], h2[None], c2[None])]
    got = (vals, [g.numpy() for g in grads[:2]] + [g.numpy()[None] for g in grads[2:4]],
           {n: g.numpy() for n, g in zip(w, grads[4:], strict=True)})
    return differences(got, want)


def compare_steps(cell: str, activation: str = "tanh", seed: int = 0) -> dict[str, float]:
    """Worst |fast − steps| of the reference's own two codes: ``forward`` / ``backward`` (the
    whole sequence, arranged for speed) against ``step`` / ``step_backward`` (the course's
    equations, one step), over two calls with carried state, float64."""
    from lstmkit.ref.steps import unroll, unroll_backward

    mod = MODS[cell]
    opts = ref_kwargs(cell, activation)
    rng = np.random.default_rng(seed)
    B, T, F, H = 2, 4, 3, 5
    params = mod.init(F, H, rng)
    xs = [rng.normal(size=(B, T, F)) for _ in range(2)]
    pair = len(mod.STATE_NAMES) == 2
    rand = lambda: tuple(rng.normal(size=(B, H)) for _ in mod.STATE_NAMES) if pair else \
        rng.normal(size=(B, H))
    s0, Rf = rand(), rand()
    Rs = [rng.normal(size=(B, T, H)) for _ in range(2)]
    flat = lambda s: list(s) if pair else [s]
    fast, slow, out = [], [], {}
    sf = ss = s0
    for k, x in enumerate(xs):
        y, sf, c = mod.forward(params, x, sf, **opts)
        z, ss, kk = unroll(mod, params, x, ss, **opts)
        fast.append(c)
        slow.append(kk)
        out[f"outputs{k + 1}"] = float(np.max(np.abs(y - z)))
    for n, (a, b) in enumerate(zip(flat(sf), flat(ss), strict=True)):
        out[f"final{n}"] = float(np.max(np.abs(a - b)))
    df = ds = Rf
    grads_f, grads_s = [], []
    for k in (1, 0):
        dxf, dpf, df = mod.backward(fast[k], Rs[k], df)
        dxs, dps, ds = unroll_backward(mod, params, slow[k], Rs[k], ds)
        out[f"d_x{k + 1}"] = float(np.max(np.abs(dxf - dxs)))
        grads_f.append(dpf)
        grads_s.append(dps)
    for n, (a, b) in enumerate(zip(flat(df), flat(ds), strict=True)):
        out[f"d_state0_{n}"] = float(np.max(np.abs(a - b)))
    for name in params:
        a = sum(g[name] for g in grads_f)
        b = sum(g[name] for g in grads_s)
        out[f"d_{name}"] = float(np.max(np.abs(a - b)))
    return out
