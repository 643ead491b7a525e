"""lstmkit.nn variants: bidirectional layers, the LayerNorm LSTM, input and recurrent dropout.

Float64, within 1e-10: lstmkit.ref (hand-written backward, chained by hand over layers and
two calls) == Recurrent on the transcribed cells == torch.nn.*(bidirectional=True), for
outputs, final states and every gradient (parameters, x, initial state); the LN-LSTM (which
has no torch.nn counterpart) == lstmkit.ref.lnlstm the same way. The loss is
L = sum(out1*W1) + sum(out2*W2) + sum(h_n*Wh) (+ sum(c_n*Wc)), the second call starting
from the first's final state.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmkit.core.errors import LstmkitError
from lstmkit.nn import Recurrent, lnlstm_loop, lstm_step
from lstmkit.nn import lnlstm as nn_lnlstm
from lstmkit.nn.verify import (  # noqa: E402  (the shared ref <-> nn machinery)
    T1,
    B,
    D,
    F,
    H,
    load,
    problem,
    ref_params,
    run_nn,
    run_ref,
)
from lstmkit.ref import lnlstm

ATOL = 1e-10


def assert_same(got, want, what):
    vals, grads, dp = got
    w_vals, w_grads, w_dp = want
    for i, (a, b) in enumerate(zip(vals + grads, w_vals + w_grads, strict=True)):
        assert a.shape == b.shape, (what, i)
        np.testing.assert_allclose(a, b, rtol=0, atol=ATOL, err_msg=f"{what} value/grad {i}")
    assert sorted(dp) == sorted(w_dp), what
    for name in w_dp:
        np.testing.assert_allclose(dp[name], w_dp[name], rtol=0, atol=ATOL,
                                   err_msg=f"{what} d_{name}")


# --- bidirectional -----------------------------------------------------------------------------

@pytest.mark.parametrize("L", [1, 2])
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_bidirectional_ref_cells_torch(cell, L):
    params = ref_params(cell, L, bidir=True)
    P = problem(cell, L, 2)
    want = run_ref(cell, params, P)
    for engine in ("cells", "torch"):
        layer = Recurrent(cell, F, H, num_layers=L, engine=engine, bidirectional=True, dtype=D)
        load(layer, params)
        assert layer.uses_cells() == (engine == "cells")
        got = run_nn(layer, cell, P)
        assert got[0][0].shape == (B, T1, 2 * H) and got[0][2].shape == (2 * L, B, H)
        assert_same(got, want, f"{cell} L={L} {engine}")
    assert isinstance(layer.rnn, torch.nn.Module) and layer.rnn.bidirectional
    if L == 2:
        assert layer.rnn.weight_ih_l1.shape[1] == 2 * H


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_bidirectional_dropout_and_gates(cell):
    """Same dropout draws between layers as torch.nn; gate traces concatenate directions."""
    torch.manual_seed(0)
    fast = Recurrent(cell, F, H, num_layers=2, dropout=0.5, bidirectional=True, dtype=D)
    cells = Recurrent(cell, F, H, num_layers=2, dropout=0.5, engine="cells",
                      bidirectional=True, dtype=D)
    cells.load_state_dict(fast.state_dict())
    x = torch.randn(B, T1, F, dtype=D)
    torch.manual_seed(5)
    a = fast(x)[0]
    torch.manual_seed(5)
    b = cells(x)[0]
    torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    assert (a - fast.eval()(x)[0]).abs().max() > 1e-3
    out, _, gates = cells.eval()(x, return_gates=True)
    assert len(gates) == 2 and all(v.shape == (B, T1, 2 * H) for v in gates[1].values())
    torch.testing.assert_close(gates[1]["h"], out, rtol=0, atol=0)


def test_bidirectional_weights_and_errors():
    m = Recurrent("lstm", F, H, num_layers=2, bidirectional=True, dtype=D)
    assert m.weights(1, reverse=True)[0] is m.rnn.weight_ih_l1_reverse
    assert "rnn.weight_hh_l0_reverse" in m.state_dict()
    x = torch.zeros(2, 3, F, dtype=D)
    with pytest.raises(LstmkitError, match=r"LSTM: expected h0 of shape \(L\*2=4, B=2, H=5\), "
                                           r"got \(2, 2, 5\)"):
        m(x, (torch.zeros(2, 2, H, dtype=D), torch.zeros(4, 2, H, dtype=D)))
    with pytest.raises(LstmkitError, match="expected reverse=False for a unidirectional"):
        Recurrent("gru", F, H).weights(0, reverse=True)
    with pytest.raises(LstmkitError, match="GRU: expected bidirectional True or False, got 1"):
        Recurrent("gru", F, H, bidirectional=1)
    assert "bidirectional=True" in repr(m)


# --- LayerNorm LSTM ----------------------------------------------------------------------------

@pytest.mark.parametrize("bidir", [False, True])
@pytest.mark.parametrize("L", [1, 2])
def test_lnlstm_ref_equals_nn(L, bidir):
    params = ref_params("lnlstm", L, bidir)
    P = problem("lnlstm", L, 2 if bidir else 1)
    want = run_ref("lnlstm", params, P)
    layer = Recurrent("lnlstm", F, H, num_layers=L, bidirectional=bidir, dtype=D)
    load(layer, params)
    assert_same(run_nn(layer, "lnlstm", P), want, f"lnlstm L={L} bidir={bidir}")


def test_lnlstm_script_equals_eager():
    """The TorchScript loop (kept as an option, see lstmkit.nn.lnlstm) computes the same."""
    params = ref_params("lnlstm", 1, False)
    P = problem("lnlstm", 1, 1)
    layer = Recurrent("lnlstm", F, H, dtype=D)
    load(layer, params)
    want = run_nn(layer, "lnlstm", P)
    before = nn_lnlstm.get_impl()
    try:
        nn_lnlstm.set_impl("script")
        for _ in range(3):  # the profiling executor optimises (autodiff) from the 3rd call on
            got = run_nn(layer, "lnlstm", P)
    finally:
        nn_lnlstm.set_impl(before)
    assert_same(got, want, "script")


def test_lnlstm_layer_details():
    torch.manual_seed(0)
    m = Recurrent("lnlstm", F, H, num_layers=2, dtype=D)
    names = [n for n, _ in m.named_parameters()]
    assert names[:9] == [f"rnn.{p}_l0" for p in nn_lnlstm.PARAM_NAMES]
    assert len(names) == 18 and m.rnn.weight_ih_l1.shape == (4 * H, H)
    assert (m.rnn.ln_c_weight_l1 == 1).all() and (m.rnn.ln_ih_bias_l0 == 0).all()
    assert m.uses_cells() and not list(m.buffers())
    x = torch.randn(B, T1, F, dtype=D)
    s = (torch.randn(2, B, H, dtype=D), torch.randn(2, B, H, dtype=D))
    out, (h, c), gates = m(x, s, return_gates=True)
    for k, g in enumerate(gates):
        assert list(g) == ["i", "f", "g", "o", "c", "h"]
        c_prev = torch.cat([s[1][k].unsqueeze(1), g["c"][:, :-1]], dim=1)
        torch.testing.assert_close(g["c"], g["f"] * c_prev + g["i"] * g["g"], rtol=0, atol=1e-14)
        ln_c = torch.nn.functional.layer_norm(g["c"], [H], m.rnn.ln_c_weight_l0 if k == 0 else
                                              m.rnn.ln_c_weight_l1, None, 1e-5)
        torch.testing.assert_close(g["h"], g["o"] * torch.tanh(ln_c), rtol=0, atol=1e-14)
        torch.testing.assert_close(g["c"][:, -1], c[k], rtol=0, atol=0)
    torch.testing.assert_close(gates[1]["h"], out, rtol=0, atol=0)
    # step by step == whole sequence
    steps, st = [], s
    for t in range(T1):
        o, st = m(x[:, t:t + 1], st)
        steps.append(o)
    torch.testing.assert_close(torch.cat(steps, 1), out, rtol=0, atol=1e-12)
    assert m.float()(x.float())[0].dtype == torch.float32


def test_lnlstm_errors():
    with pytest.raises(LstmkitError, match='LNLSTM: expected engine "auto" or "cells"'):
        Recurrent("lnlstm", F, H, engine="torch")
    with pytest.raises(LstmkitError, match='LNLSTM: expected activation "tanh"'):
        Recurrent("lnlstm", F, H, activation="relu")
    m = Recurrent("lnlstm", F, H)
    with pytest.raises(LstmkitError, match=r"LNLSTM: expected weights\(\) of cell"):
        m.weights(0)
    with pytest.raises(LstmkitError, match="LNLSTM: expected state"):
        m(torch.zeros(2, 3, F), torch.zeros(1, 2, H))
    with pytest.raises(LstmkitError, match='LNLSTM: expected impl "eager", "script"'):
        nn_lnlstm.set_impl("jit")


# --- dropout -----------------------------------------------------------------------------------

@pytest.mark.parametrize("cell", ["lstm", "lnlstm"])
def test_input_dropout(cell):
    torch.manual_seed(0)
    m = Recurrent(cell, F, H, input_dropout=0.5, dtype=D)
    x = torch.randn(8, T1, F, dtype=D, requires_grad=True)
    torch.manual_seed(1)
    out, _ = m.train()(x)
    torch.manual_seed(1)
    kept = torch.nn.functional.dropout(torch.ones_like(x), 0.5)  # the same draw: 0 or 2
    assert set(kept.unique().tolist()) == {0.0, 2.0}
    m.eval()
    torch.testing.assert_close(out, m(x * kept)[0], rtol=0, atol=1e-12)
    # dropped inputs get exactly no gradient; in eval mode the layer ignores input_dropout
    g, = torch.autograd.grad(out.sum(), x)
    assert (g[kept == 0] == 0).all() and (g[kept != 0] != 0).all()
    m0 = Recurrent(cell, F, H, dtype=D)
    m0.load_state_dict(m.state_dict())
    torch.testing.assert_close(m(x)[0], m0(x)[0], rtol=0, atol=0)


def record_masks(m):
    """Wrap m.recurrent_masks to keep the masks of the last forward call (a hook)."""
    seen, orig = [], m.recurrent_masks

    def hook(batch, like):
        masks = orig(batch, like)
        seen[:] = masks or []
        return masks

    m.recurrent_masks = hook
    return seen


def test_recurrent_dropout_same_mask_every_step_lstm():
    torch.manual_seed(0)
    m = Recurrent("lstm", F, H, num_layers=2, recurrent_dropout=0.4, dtype=D)
    assert m.uses_cells() and not m.eval().uses_cells()  # training: cells; eval: torch.nn
    m.train()
    seen = record_masks(m)
    x, s0 = torch.randn(B, T1, F, dtype=D), (torch.randn(2, B, H, dtype=D),) * 2
    out, (h_n, c_n) = m(x, s0)
    assert len(seen) == 2 and all(mk.shape == (B, H) for mk in seen)
    for mk in seen:
        assert set(mk.unique().tolist()) <= {0.0, 1 / 0.6} and (mk == 0).any()
    # by hand: layer k multiplies h_{t-1} by seen[k] at every step (not the state itself)
    inp = x
    for k in range(2):
        h, c = s0[0][k], s0[1][k]
        outs = []
        for t in range(T1):
            hm = h * seen[k]
            z = inp[:, t] @ m.weights(k)[0].T + m.weights(k)[2] + hm @ m.weights(k)[1].T \
                + m.weights(k)[3]
            i, f, g, o = z.chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            outs.append(h)
        inp = torch.stack(outs, 1)
        torch.testing.assert_close(h_n[k], h, rtol=0, atol=1e-12)
        torch.testing.assert_close(c_n[k], c, rtol=0, atol=1e-12)
    torch.testing.assert_close(out, inp, rtol=0, atol=1e-12)
    # a fresh mask at every step (not variational) would give something else
    h, c = s0[0][0], s0[1][0]
    for t in range(T1):
        fresh = (torch.rand(B, H, dtype=D) > 0.4) / 0.6
        _, c2 = lstm_step(x[:, t], (h * fresh, c), *m.weights(0))  # c_t from masked h_{t-1}
        h, c = lstm_step(x[:, t], (h * fresh, c), *m.weights(0))[0], c2
    assert (h - h_n[0]).abs().max() > 1e-3
    # eval mode: identity, and the fast path
    m.eval()
    m0 = Recurrent("lstm", F, H, num_layers=2, dtype=D)
    m0.load_state_dict(m.state_dict())
    torch.testing.assert_close(m(x, s0)[0], m0(x, s0)[0], rtol=0, atol=0)


def test_recurrent_dropout_numpy_rnn_and_gru_state():
    """RNN by hand in NumPy with the recorded mask; GRU: z*h_{t-1} is not masked."""
    torch.manual_seed(0)
    m = Recurrent("rnn", F, H, recurrent_dropout=0.5, bidirectional=True, dtype=D)
    seen = record_masks(m)
    x = torch.randn(B, T1, F, dtype=D)
    out = m(x)[0].detach().numpy()
    assert len(seen) == 2 and not torch.equal(seen[0], seen[1])  # one mask per direction
    for d, sl in ((0, slice(0, H)), (1, slice(H, 2 * H))):
        W, U, b1, b2 = (p.detach().numpy() for p in m.weights(0, reverse=bool(d)))
        mk, xn, h = seen[d].numpy(), x.numpy(), np.zeros((B, H))
        hs = [None] * T1
        for t in (range(T1) if d == 0 else reversed(range(T1))):
            h = np.tanh(xn[:, t] @ W.T + b1 + (h * mk) @ U.T + b2)
            hs[t] = h
        np.testing.assert_allclose(out[:, :, sl], np.stack(hs, 1), rtol=0, atol=1e-12)
    # GRU with p close to 1 and B = 1: the masked W_hh input changes the result, the update
    # z * h_{t-1} still uses the unmasked state (so h does not collapse to the no-state path)
    g = Recurrent("gru", F, H, recurrent_dropout=0.5, dtype=D)
    seen = record_masks(g)
    out_g, _ = g(x)
    w_ih, w_hh, b_ih, b_hh = g.weights(0)
    h = torch.zeros(B, H, dtype=D)
    for t in range(T1):
        gi, gh = x[:, t] @ w_ih.T + b_ih, (h * seen[0]) @ w_hh.T + b_hh
        r = torch.sigmoid(gi[:, :H] + gh[:, :H])
        z = torch.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = torch.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        h = (1 - z) * n + z * h
        torch.testing.assert_close(out_g[:, t], h, rtol=0, atol=1e-12)


def test_recurrent_dropout_lnlstm_mask():
    torch.manual_seed(0)
    m = Recurrent("lnlstm", F, H, recurrent_dropout=0.3, dtype=D)
    seen = record_masks(m)
    x = torch.randn(B, T1, F, dtype=D)
    out, _ = m(x)
    p = m.rnn.params(0)
    gi = nn_lnlstm.input_side(x.transpose(0, 1), p["weight_ih"], p["bias"], p["ln_ih_weight"],
                              p["ln_ih_bias"])
    zeros = torch.zeros(B, H, dtype=D)
    args = [p[k] for k in ("weight_hh", "ln_hh_weight", "ln_hh_bias", "ln_c_weight",
                           "ln_c_bias")]
    want, _, _, _ = lnlstm_loop(gi, zeros, zeros, *args, seen[0], False, False, 1e-5)
    torch.testing.assert_close(out, want.transpose(0, 1), rtol=0, atol=0)
    # against the NumPy reference, one step at a time, with the same mask every step
    P = {k: v.detach().numpy() for k, v in p.items()}
    h, c, mk = np.zeros((B, H)), np.zeros((B, H)), seen[0].numpy()
    for t in range(T1):
        z = lnlstm.layer_norm(x[:, t].numpy() @ P["weight_ih"].T, P["ln_ih_weight"],
                              P["ln_ih_bias"])[0] + P["bias"] \
            + lnlstm.layer_norm((h * mk) @ P["weight_hh"].T, P["ln_hh_weight"],
                                P["ln_hh_bias"])[0]
        sg = 1 / (1 + np.exp(-z))
        c = sg[:, H:2 * H] * c + sg[:, :H] * np.tanh(z[:, 2 * H:3 * H])
        h = sg[:, 3 * H:] * np.tanh(lnlstm.layer_norm(c, P["ln_c_weight"], P["ln_c_bias"])[0])
        np.testing.assert_allclose(out[:, t].detach().numpy(), h, rtol=0, atol=1e-12)
    m.eval()
    assert m.recurrent_masks(B, x) is None


def test_dropout_errors():
    with pytest.raises(LstmkitError, match=r"LSTM: expected input_dropout in \[0, 1\), got 1.0"):
        Recurrent("lstm", F, H, input_dropout=1.0)
    with pytest.raises(LstmkitError, match=r"GRU: expected recurrent_dropout in \[0, 1\)"):
        Recurrent("gru", F, H, recurrent_dropout=-0.1)
    with pytest.raises(LstmkitError,
                       match='LSTM: expected recurrent_dropout=0 with engine="torch"'):
        Recurrent("lstm", F, H, engine="torch", recurrent_dropout=0.2)
    m = Recurrent("lstm", F, H, input_dropout=0.1, recurrent_dropout=0.2)
    assert "input_dropout=0.1" in repr(m) and "recurrent_dropout=0.2" in repr(m)


def test_threshold_dropout_keeps_1_minus_p_and_preserves_the_mean():
    from lstmkit.nn.dropout import ThresholdDropout

    torch.manual_seed(0)
    drop = ThresholdDropout(0.6)
    x = torch.ones(200, 500)
    y = drop(x)
    kept = y != 0
    # 100,000 Bernoulli(0.4) draws: the kept share is within 5 standard errors (0.0077) of 0.4
    assert abs(float(kept.float().mean()) - 0.4) < 0.0077
    assert torch.allclose(y[kept], torch.full_like(y[kept], 1 / 0.4))  # inverted scaling
    assert abs(float(y.mean()) - 1.0) < 5 * (0.6 / 0.4 / 1e5) ** 0.5  # E[y] = x
    drop.eval()
    assert drop(x) is x
    assert ThresholdDropout(0.0).train()(x) is x
    with pytest.raises(ValueError):
        ThresholdDropout(1.0)
