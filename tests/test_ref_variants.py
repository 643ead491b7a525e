"""lstmkit.ref variants: the bidirectional wrapper and the LayerNorm LSTM.

Gradient checks (centred differences, lstmkit.ref.gradcheck) over every parameter, x and the
initial state, relative error < 1e-6 in float64, including B = 1, T = 1; the LayerNorm pieces
on their own; the LN-LSTM step by step == whole sequence, and two calls with carried state ==
one call (values and gradients); input errors.
"""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.core.errors import LstmkitError
from lstmkit.ref import bidirectional as bd
from lstmkit.ref import gradcheck, gru, lnlstm, lstm, rnn
from lstmkit.ref.gradcheck import numerical_grad, relative_error

TOL = 1e-6
MODS = {"lstm": lstm, "gru": gru, "rnn": rnn, "lnlstm": lnlstm}


def make_params(mod, F, H, rng):
    """The module's init, with the LayerNorm gains and biases moved off 1 and 0 (so that a
    gradient check would see γ and β misplaced)."""
    p = mod.init(F, H, rng)
    for k in p:
        if k.startswith("ln_"):
            p[k] = p[k] + (0.3 if k.endswith("weight") else 0.1) * rng.normal(size=p[k].shape)
    return p


def n_parts(mod):
    return len(mod.STATE_NAMES)


def as_state(mod, parts):
    return tuple(parts) if n_parts(mod) == 2 else parts[0]


def as_parts(mod, state):
    return tuple(state) if n_parts(mod) == 2 else (state,)


# --- bidirectional ---------------------------------------------------------------------------

def bidir_gradcheck(mod, B, T, F=3, H=4, seed=0, **kw):
    rng = np.random.default_rng(seed)
    pf, pb = make_params(mod, F, H, rng), make_params(mod, F, H, rng)
    x = rng.normal(size=(B, T, F))
    s0 = [0.5 * rng.normal(size=(2, B, H)) for _ in range(n_parts(mod))]
    R_y = rng.normal(size=(B, T, 2 * H))
    R_s = [rng.normal(size=(2, B, H)) for _ in range(n_parts(mod))]

    def loss():
        y, fin, _ = bd.forward(mod, pf, pb, x, as_state(mod, s0), **kw)
        finals = zip(as_parts(mod, fin), R_s, strict=True)
        return np.sum(y * R_y) + sum(np.sum(a * r) for a, r in finals)

    _, _, cache = bd.forward(mod, pf, pb, x, as_state(mod, s0), **kw)
    d_x, (d_pf, d_pb), d_s0 = bd.backward(cache, R_y, as_state(mod, R_s))
    checks = [("x", d_x, x)]
    checks += [(f"fw.{k}", d_pf[k], pf[k]) for k in pf]
    checks += [(f"bw.{k}", d_pb[k], pb[k]) for k in pb]
    states = zip(as_parts(mod, d_s0), s0, strict=True)
    checks += [(f"state{j}", d, s) for j, (d, s) in enumerate(states)]
    return {name: relative_error(d, numerical_grad(loss, a)) for name, d, a in checks}


@pytest.mark.parametrize("B,T", [(2, 3), (1, 1)])
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn", "lnlstm"])
def test_bidirectional_gradcheck(cell, B, T):
    errs = bidir_gradcheck(MODS[cell], B, T)
    assert len(errs) == 1 + 2 * len(MODS[cell].init(1, 1, np.random.default_rng(0))) \
        + n_parts(MODS[cell])
    assert max(errs.values()) < TOL, errs


def test_bidirectional_gradcheck_relu_options():
    assert max(bidir_gradcheck(lstm, 2, 3, activation="relu", seed=3).values()) < TOL
    assert max(bidir_gradcheck(rnn, 2, 3, nonlinearity="relu", seed=3).values()) < TOL


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn", "lnlstm"])
def test_bidirectional_is_two_directions(cell):
    """outputs = [fw(x) | reverse(bw(reverse(x)))], final rows [fw, bw], by hand."""
    mod, rng = MODS[cell], np.random.default_rng(1)
    B, T, F, H = 2, 5, 3, 4
    pf, pb = make_params(mod, F, H, rng), make_params(mod, F, H, rng)
    x = rng.normal(size=(B, T, F))
    s0 = [rng.normal(size=(2, B, H)) for _ in range(n_parts(mod))]
    y, fin, _ = bd.forward(cell, pf, pb, x, as_state(mod, s0))  # the module's name works too
    y_f, fin_f, _ = mod.forward(pf, x, as_state(mod, [s[0] for s in s0]))
    y_b, fin_b, _ = mod.forward(pb, x[:, ::-1].copy(), as_state(mod, [s[1] for s in s0]))
    assert y.shape == (B, T, 2 * H)
    np.testing.assert_array_equal(y[:, :, :H], y_f)
    np.testing.assert_array_equal(y[:, :, H:], y_b[:, ::-1])
    for got, f, b in zip(as_parts(mod, fin), as_parts(mod, fin_f), as_parts(mod, fin_b),
                         strict=True):
        assert got.shape == (2, B, H)
        np.testing.assert_array_equal(got[0], f)
        np.testing.assert_array_equal(got[1], b)
    # zeros for None (state and incoming gradients)
    y0, _, cache = bd.forward(mod, pf, pb, x)
    z = [np.zeros((2, B, H)) for _ in range(n_parts(mod))]
    np.testing.assert_array_equal(y0, bd.forward(mod, pf, pb, x, as_state(mod, z))[0])
    d_x, _, d_s0 = bd.backward(cache, None, None)
    assert not d_x.any() and all(not d.any() for d in as_parts(mod, d_s0))


def test_bidirectional_errors():
    rng = np.random.default_rng(0)
    p = lstm.init(3, 4, rng)
    x = rng.normal(size=(2, 5, 3))
    with pytest.raises(LstmkitError, match="Bidirectional: expected a cell module"):
        bd.forward("cnn", p, p, x)
    with pytest.raises(LstmkitError, match=r"expected h0 of shape \(2, B, H\), got \(2, 4\)"):
        bd.forward(lstm, p, p, x, (np.zeros((2, 4)), np.zeros((2, 2, 4))))
    with pytest.raises(LstmkitError, match="expected state as a tuple"):
        bd.forward(lstm, p, p, x, np.zeros((2, 2, 4)))
    _, _, cache = bd.forward(lstm, p, p, x)
    with pytest.raises(LstmkitError, match=r"expected d_outputs of shape \(B=2, T=5, 2H=8\)"):
        bd.backward(cache, np.zeros((2, 5, 4)))


# --- LayerNorm LSTM --------------------------------------------------------------------------

@pytest.mark.parametrize("B,T", [(2, 3), (1, 1), (3, 6)])
def test_lnlstm_gradcheck_check_cell(B, T):
    """The project's checker on the module's own init (gains 1, biases 0)."""
    errs = gradcheck.check_cell(lnlstm, batch=B, steps=T, rng=np.random.default_rng(B + T))
    assert sorted(errs) == sorted([*lnlstm.PARAM_NAMES, "x", "h0", "c0"])
    assert max(errs.values()) < TOL, errs


@pytest.mark.parametrize("B,T,F,H", [(2, 4, 3, 5), (1, 1, 2, 2), (1, 3, 2, 3)])
def test_lnlstm_gradcheck_random_gains(B, T, F, H):
    # Not F = 1 or H = 1: LN_ih(W_ih x) of a scalar x is then w*x normalised, flat in x up to
    # eps (gradients ~1e-5), and the relative error would measure rounding alone.
    rng = np.random.default_rng(7)
    p = make_params(lnlstm, F, H, rng)
    x = rng.normal(size=(B, T, F))
    h0, c0 = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    R_y, R_h, R_c = rng.normal(size=(B, T, H)), rng.normal(size=(B, H)), rng.normal(size=(B, H))

    def loss():
        y, (h, c), _ = lnlstm.forward(p, x, (h0, c0))
        return np.sum(y * R_y) + np.sum(h * R_h) + np.sum(c * R_c)

    _, _, cache = lnlstm.forward(p, x, (h0, c0))
    d_x, d_p, (d_h0, d_c0) = lnlstm.backward(cache, R_y, (R_h, R_c))
    pairs = dict({k: (d_p[k], p[k]) for k in p}, x=(d_x, x), h0=(d_h0, h0), c0=(d_c0, c0))
    errs = {k: relative_error(d, numerical_grad(loss, a)) for k, (d, a) in pairs.items()}
    assert max(errs.values()) < TOL, errs


def test_layer_norm_pieces():
    rng = np.random.default_rng(0)
    a = rng.normal(2.0, 3.0, size=(4, 7))
    y, a_hat, rstd = lnlstm.layer_norm(a, np.ones(7), np.zeros(7))
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-14)
    np.testing.assert_allclose(y.var(-1), 1 - 1e-5 * rstd[:, 0] ** 2, rtol=1e-12)
    g, b = rng.normal(size=7), rng.normal(size=7)
    y, a_hat, rstd = lnlstm.layer_norm(a, g, b)
    np.testing.assert_allclose(y, g * (a - a.mean(-1, keepdims=True))
                               / np.sqrt(a.var(-1, keepdims=True) + 1e-5) + b, rtol=1e-12)
    R = rng.normal(size=a.shape)
    da, dg, db = lnlstm.layer_norm_backward(R, a_hat, rstd, g)
    for got, arr in ((da, a), (dg, g), (db, b)):
        num = numerical_grad(lambda: np.sum(lnlstm.layer_norm(a, g, b)[0] * R), arr)
        assert relative_error(got, num) < TOL


def test_lnlstm_step_by_step_and_carried_state():
    """One call over T == T calls of one step == two calls (T1 then T2), values and grads."""
    rng = np.random.default_rng(3)
    B, F, H, T1, T2 = 2, 3, 4, 4, 3
    p = make_params(lnlstm, F, H, rng)
    x = rng.normal(size=(B, T1 + T2, F))
    s0 = (rng.normal(size=(B, H)), rng.normal(size=(B, H)))
    R_y, R_s = rng.normal(size=(B, T1 + T2, H)), (rng.normal(size=(B, H)), rng.normal(size=(B, H)))
    y, fin, cache = lnlstm.forward(p, x, s0)
    d_x, d_p, d_s0 = lnlstm.backward(cache, R_y, R_s)

    s, ys = s0, []
    for t in range(T1 + T2):
        y_t, s, _ = lnlstm.forward(p, x[:, t:t + 1], s)
        ys.append(y_t)
    np.testing.assert_allclose(np.concatenate(ys, axis=1), y, rtol=0, atol=1e-14)
    for a, b in zip(s, fin, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-14)

    y1, s1, c1 = lnlstm.forward(p, x[:, :T1], s0)
    y2, s2, c2 = lnlstm.forward(p, x[:, T1:], s1)
    np.testing.assert_allclose(np.concatenate([y1, y2], axis=1), y, rtol=0, atol=1e-14)
    dx2, dp2, ds1 = lnlstm.backward(c2, R_y[:, T1:], R_s)
    dx1, dp1, ds0 = lnlstm.backward(c1, R_y[:, :T1], ds1)
    np.testing.assert_allclose(np.concatenate([dx1, dx2], axis=1), d_x, rtol=0, atol=1e-12)
    for k in p:
        np.testing.assert_allclose(dp1[k] + dp2[k], d_p[k], rtol=0, atol=1e-12)
    for a, b in zip(ds0, d_s0, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_lnlstm_init_and_bias_gradients():
    rng = np.random.default_rng(0)
    p = lnlstm.init(3, 4, rng, forget_bias=1.0)
    assert list(p) == list(lnlstm.PARAM_NAMES)
    assert p["weight_ih"].shape == (16, 3) and p["ln_c_weight"].shape == (4,)
    assert (p["ln_ih_weight"] == 1).all() and (p["ln_hh_bias"] == 0).all()
    assert (p["bias"][4:8] > 0.4).all()  # U(-1/2, 1/2) + 1 on the forget block
    _, _, cache = lnlstm.forward(p, rng.normal(size=(2, 3, 3)))
    _, d, _ = lnlstm.backward(cache, rng.normal(size=(2, 3, 4)))
    # b, β_ih and β_hh all add to z_t: their gradients are equal (the documented redundancy)
    np.testing.assert_allclose(d["bias"], d["ln_ih_bias"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(d["bias"], d["ln_hh_bias"], rtol=1e-12, atol=1e-15)
    assert lnlstm.init(3, 4, rng, dtype=np.float32)["ln_c_bias"].dtype == np.float32


def test_lnlstm_errors():
    rng = np.random.default_rng(0)
    p = lnlstm.init(3, 4, rng)
    x = rng.normal(size=(2, 5, 3))
    with pytest.raises(LstmkitError, match="LNLSTM: expected params with keys weight_ih"):
        lnlstm.forward({k: v for k, v in p.items() if k != "ln_c_bias"}, x)
    bad = dict(p, ln_c_weight=np.ones(16))
    with pytest.raises(LstmkitError, match=r"expected params\['ln_c_weight'\] of shape \(4,\)"):
        lnlstm.forward(bad, x)
    with pytest.raises(LstmkitError, match=r"LNLSTM: expected x of shape \(B, T, F=3\)"):
        lnlstm.forward(p, x[..., :2])
    with pytest.raises(LstmkitError, match=r"expected state h of shape \(B=2, H=4\)"):
        lnlstm.forward(p, x, (np.zeros((1, 4)), np.zeros((2, 4))))
    with pytest.raises(LstmkitError, match="LNLSTM: expected hidden_size to be a positive integer"):
        lnlstm.init(3, 0, rng)
