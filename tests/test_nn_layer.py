"""lstmkit.nn: transcribed cells == torch.nn fast path; state, dropout, gates, input errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from lstmkit.core.errors import LstmkitError
from lstmkit.nn import (
    GRUCell,
    LSTMCell,
    Recurrent,
    RNNCell,
    gru_step,
    lstm_step,
    rnn_step,
)

D = torch.float64
B, T, F, H = 3, 5, 4, 6
TORCH_CASES = [("lstm", "tanh"), ("gru", "tanh"), ("rnn", "tanh"), ("rnn", "relu")]
ALL_CASES = TORCH_CASES + [("lstm", "relu"), ("gru", "relu")]


def make(cell, activation="tanh", L=1, engine="auto", dropout=0.0, seed=0, dtype=D):
    torch.manual_seed(seed)
    return Recurrent(cell, F, H, num_layers=L, dropout=dropout, activation=activation,
                     engine=engine, dtype=dtype)


def twin(m, engine):
    """A copy of ``m`` with the same weights that runs on ``engine``."""
    m2 = Recurrent(m.cell, m.input_size, m.hidden_size, m.num_layers, m.dropout,
                   m.activation, engine, dtype=m.rnn.weight_ih_l0.dtype)
    m2.load_state_dict(m.state_dict())
    return m2


def rand(*shape, seed=None, grad=False):
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    t = torch.randn(*shape, generator=g, dtype=D)
    return t.requires_grad_(grad)


def states(cell, L, seed, grad=True):
    if cell == "lstm":
        return (rand(L, B, H, seed=seed, grad=grad), rand(L, B, H, seed=seed + 1, grad=grad))
    return rand(L, B, H, seed=seed, grad=grad)


def as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


def run_two_calls(m, cell, L):
    """Two calls, the second starting from the first's final state; grads of everything."""
    x1, x2 = rand(B, T, F, seed=10, grad=True), rand(B, 2, F, seed=11, grad=True)
    s0 = states(cell, L, seed=20)
    out1, s1 = m(x1, s0)
    out2, s2 = m(x2, s1)
    loss = (out1 * rand(*out1.shape, seed=30)).sum() + (out2 * rand(*out2.shape, seed=31)).sum()
    for j, s in enumerate(as_tuple(s2)):
        loss = loss + (s * rand(*s.shape, seed=40 + j)).sum()
    wrt = [x1, x2, *as_tuple(s0), *m.parameters()]
    grads = torch.autograd.grad(loss, wrt)
    return [out1, out2, *as_tuple(s1), *as_tuple(s2)], list(grads)


@pytest.mark.parametrize("L", [1, 2])
@pytest.mark.parametrize("cell,activation", TORCH_CASES)
def test_cells_equal_torch_with_carried_state(cell, activation, L):
    fast = make(cell, activation, L, engine="auto")
    cells = twin(fast, "cells")
    assert not fast.uses_cells() and cells.uses_cells()
    vals_f, grads_f = run_two_calls(fast, cell, L)
    vals_c, grads_c = run_two_calls(cells, cell, L)
    assert len(grads_f) == 2 + (2 if cell == "lstm" else 1) + 4 * L
    for a, b in zip(vals_f + grads_f, vals_c + grads_c, strict=True):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=0, atol=1e-10)


@pytest.mark.parametrize("cell,activation,engine",
                         [(c, a, "auto") for c, a in TORCH_CASES] +
                         [(c, a, "cells") for c, a in ALL_CASES])
def test_step_by_step_equals_whole_sequence(cell, activation, engine):
    m = make(cell, activation, L=2, engine=engine)
    x = rand(B, T, F, seed=1)
    s = states(cell, 2, seed=2, grad=False)
    out, final = m(x, s)
    steps = []
    for t in range(T):
        o, s = m(x[:, t:t + 1], s)
        steps.append(o)
    torch.testing.assert_close(torch.cat(steps, dim=1), out, rtol=0, atol=1e-12)
    for a, b in zip(as_tuple(s), as_tuple(final), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("cell,activation", [("lstm", "relu"), ("gru", "relu")])
def test_relu_cells_gradcheck(cell, activation):
    """No torch.nn counterpart: check the autograd of the transcribed relu path numerically."""
    torch.manual_seed(0)
    m = Recurrent(cell, 2, 3, num_layers=2, activation=activation, dtype=D)
    assert m.uses_cells()
    x = torch.randn(2, 3, 2, dtype=D, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: m(x)[0], (x,))


def test_stateless_and_no_buffers():
    for cell, activation in ALL_CASES:
        m = make(cell, activation, L=2)
        x = rand(B, T, F, seed=3)
        a, sa = m(x)
        b, sb = m(x)
        torch.testing.assert_close(a, b, rtol=0, atol=0)
        for u, v in zip(as_tuple(sa), as_tuple(sb), strict=True):
            torch.testing.assert_close(u, v, rtol=0, atol=0)
        assert list(m.buffers()) == []


def test_state_none_equals_zeros():
    m = make("lstm", L=2)
    x = rand(B, T, F, seed=3)
    z = torch.zeros(2, B, H, dtype=D)
    torch.testing.assert_close(m(x)[0], m(x, (z, z))[0], rtol=0, atol=0)


@pytest.mark.parametrize("engine", ["auto", "cells"])
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_dropout_eval_is_no_dropout(cell, engine):
    m = make(cell, L=3, engine=engine, dropout=0.5).eval()
    m0 = twin(m, engine)
    m0.dropout = 0.0
    m0.rnn.dropout = 0.0
    x = rand(B, T, F, seed=4)
    torch.testing.assert_close(m(x)[0], m0(x)[0], rtol=0, atol=0)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_dropout_train_between_layers_only(cell):
    x = rand(B, T, F, seed=5)
    # 2 layers, training: dropout is applied, and both engines draw the same mask.
    fast = make(cell, L=2, dropout=0.5).train()
    cells = twin(fast, "cells").train()
    torch.manual_seed(123)
    out_f, s_f = fast(x)
    torch.manual_seed(123)
    out_c, s_c = cells(x)
    torch.testing.assert_close(out_f, out_c, rtol=0, atol=1e-12)
    ref = fast.eval()(x)[0]
    assert (out_f - ref).abs().max() > 1e-3
    # the first layer's final state is computed before any dropout
    h_f = as_tuple(s_f)[0]
    torch.testing.assert_close(h_f[0], as_tuple(fast(x)[1])[0][0], rtol=0, atol=1e-12)
    # 1 layer: dropout has nothing to act on (and torch.nn's warning is not raised)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        one = make(cell, L=1, dropout=0.5)
    for engine in ("auto", "cells"):
        m = twin(one, engine)
        torch.testing.assert_close(m.train()(x)[0], m.eval()(x)[0], rtol=0, atol=0)


def test_return_gates_lstm():
    for activation, act in (("tanh", torch.tanh), ("relu", torch.relu)):
        m = make("lstm", activation, L=2)
        x = rand(B, T, F, seed=6)
        h0, c0 = states("lstm", 2, seed=7, grad=False)
        out, (h_n, c_n), gates = m(x, (h0, c0), return_gates=True)
        assert isinstance(gates, list) and len(gates) == 2
        for k, g in enumerate(gates):
            assert list(g) == ["i", "f", "g", "o", "c", "h"]
            assert all(v.shape == (B, T, H) for v in g.values())
            torch.testing.assert_close(g["h"], g["o"] * act(g["c"]), rtol=0, atol=1e-14)
            c_prev = torch.cat([c0[k].unsqueeze(1), g["c"][:, :-1]], dim=1)  # (B, T, H)
            torch.testing.assert_close(g["c"], g["f"] * c_prev + g["i"] * g["g"],
                                       rtol=0, atol=1e-14)
            torch.testing.assert_close(g["h"][:, -1], h_n[k], rtol=0, atol=0)
            torch.testing.assert_close(g["c"][:, -1], c_n[k], rtol=0, atol=0)
            for name in "ifo":
                assert ((g[name] > 0) & (g[name] < 1)).all()
        torch.testing.assert_close(gates[-1]["h"], out, rtol=0, atol=0)
        plain = m(x, (h0, c0))
        torch.testing.assert_close(plain[0], out, rtol=0, atol=1e-12)


def test_return_gates_gru_rnn():
    x = rand(B, T, F, seed=8)
    m = make("gru", L=1)
    out, h_n, (g,) = m(x, return_gates=True)
    assert list(g) == ["r", "z", "n", "h"] and all(v.shape == (B, T, H) for v in g.values())
    h_prev = torch.cat([torch.zeros(B, 1, H, dtype=D), g["h"][:, :-1]], dim=1)
    torch.testing.assert_close(g["h"], (1 - g["z"]) * g["n"] + g["z"] * h_prev,
                               rtol=0, atol=1e-14)
    torch.testing.assert_close(out, m(x)[0], rtol=0, atol=1e-12)
    m = make("rnn", "relu", L=2)
    out, h_n, gates = m(x, return_gates=True)
    assert [list(g) for g in gates] == [["h"], ["h"]]
    torch.testing.assert_close(gates[1]["h"], out, rtol=0, atol=0)
    assert (gates[0]["h"] >= 0).all()


def test_float32_both_engines():
    m = make("lstm", L=2, dtype=torch.float32)
    x = torch.randn(B, T, F)
    a, (h, c) = m(x)
    assert a.dtype == h.dtype == torch.float32
    b = twin(m, "cells")(x)[0]
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    m2 = make("gru", "relu", dtype=torch.float32)
    assert m2(x)[0].dtype == torch.float32
    m64 = make("gru").double()
    assert m64(x.double())[0].dtype == D


def test_state_dict_names():
    m = make("lstm", L=2)
    want = [f"rnn.{p}_l{k}" for k in range(2)
            for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    assert list(m.state_dict()) == want
    assert m.rnn.weight_ih_l1.shape == (4 * H, H)
    assert m.weights(1)[0] is m.rnn.weight_ih_l1


@pytest.mark.parametrize("cls,tcls,kw,tkw", [
    (LSTMCell, torch.nn.LSTMCell, {}, {}),
    (GRUCell, torch.nn.GRUCell, {}, {}),
    (RNNCell, torch.nn.RNNCell, {"activation": "relu"}, {"nonlinearity": "relu"}),
])
def test_cell_modules_match_torch_cells(cls, tcls, kw, tkw):
    torch.manual_seed(0)
    ours = cls(F, H, dtype=D, **kw)
    theirs = tcls(F, H, dtype=D, **tkw)
    theirs.load_state_dict(ours.state_dict())  # same parameter names and shapes
    x = rand(B, F, seed=1)
    s = (rand(B, H, seed=2), rand(B, H, seed=3)) if cls is LSTMCell else rand(B, H, seed=2)
    for a, b in zip(as_tuple(ours(x, s)), as_tuple(theirs(x, s)), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    for a, b in zip(as_tuple(ours(x)), as_tuple(theirs(x)), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


def test_functional_steps_return_gates():
    x, h, c = rand(B, F, seed=1), rand(B, H, seed=2), rand(B, H, seed=3)
    cell = LSTMCell(F, H, dtype=D)
    w = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    (h1, c1), g = lstm_step(x, (h, c), *w, return_gates=True)
    assert list(g) == ["i", "f", "g", "o", "c", "h"] and g["h"] is h1 and g["c"] is c1
    h2, c2 = lstm_step(x, (h, c), *w)
    torch.testing.assert_close(h1, h2, rtol=0, atol=0)
    gcell = GRUCell(F, H, activation="relu", dtype=D)
    w = (gcell.weight_ih, gcell.weight_hh, gcell.bias_ih, gcell.bias_hh)
    hg, gg = gru_step(x, h, *w, activation="relu", return_gates=True)
    assert list(gg) == ["r", "z", "n", "h"] and (gg["n"] >= 0).all()
    torch.testing.assert_close(hg, gcell(x, h), rtol=0, atol=0)
    rcell = RNNCell(F, H, bias=False, dtype=D)
    hr, gr = rnn_step(x, h, rcell.weight_ih, rcell.weight_hh, return_gates=True)
    torch.testing.assert_close(hr, torch.tanh(x @ rcell.weight_ih.T + h @ rcell.weight_hh.T))
    assert list(gr) == ["h"]


def test_layer_equals_cell_module_loop():
    m = make("lstm", "relu", L=1)
    cell = LSTMCell(F, H, activation="relu", dtype=D)
    with torch.no_grad():
        for p, q in zip(cell.parameters(), m.weights(0), strict=True):
            p.copy_(q)
    x = rand(B, T, F, seed=9)
    out, _ = m(x)
    s = None
    for t in range(T):
        s = cell(x[:, t], s)
        torch.testing.assert_close(s[0], out[:, t], rtol=0, atol=1e-13)


def err(fn, *args, **kw) -> str:
    with pytest.raises(LstmkitError) as info:
        fn(*args, **kw)
    return str(info.value)


def test_input_errors():
    m = Recurrent("lstm", 3, 8, dtype=D)
    x = torch.zeros(4, 5, 3, dtype=D)
    assert err(m, torch.zeros(4, 3, dtype=D)) == \
        "LSTM: expected x of shape (B, T, F=3), got (4, 3)"
    assert err(m, torch.zeros(4, 5, 2, dtype=D)) == \
        "LSTM: expected x of shape (B, T, F=3), got (4, 5, 2)"
    assert err(m, torch.zeros(4, 0, 3, dtype=D)) == \
        "LSTM: expected x of shape (B, T, F=3) with B, T >= 1, got (4, 0, 3)"
    assert err(m, np.zeros((4, 5, 3))) == \
        "LSTM: expected x of shape (B, T, F=3) as a torch.Tensor, got ndarray"
    assert err(m, x.float()) == \
        "LSTM: expected x of dtype float64 (the parameters' dtype), got float32"
    h = torch.zeros(1, 4, 8, dtype=D)
    assert err(m, x, (torch.zeros(4, 8, dtype=D), h)) == \
        "LSTM: expected h0 of shape (L=1, B=4, H=8), got (4, 8)"
    assert err(m, x, (h, torch.zeros(2, 4, 8, dtype=D))) == \
        "LSTM: expected c0 of shape (L=1, B=4, H=8), got (2, 4, 8)"
    assert err(m, x, h) == "LSTM: expected state (h0, c0), got Tensor"
    assert err(m, x, (h, h.float())) == "LSTM: expected c0 of dtype float64, got float32"
    g = Recurrent("gru", 3, 8, num_layers=2, dtype=D)
    assert err(g, x, h) == "GRU: expected h0 of shape (L=2, B=4, H=8), got (1, 4, 8)"
    assert err(g, x, (h, h)) == \
        "GRU: expected h0 of shape (L=2, B=4, H=8) as a torch.Tensor, got tuple"


def test_constructor_errors():
    assert err(Recurrent, "cnn", 3, 8) == \
        "Recurrent: expected cell \"lstm\", \"gru\", \"rnn\" or \"lnlstm\", got 'cnn'"
    assert err(Recurrent, "lstm", 3, 8, engine="torch", activation="relu") == (
        'LSTM: expected activation="tanh" with engine="torch" (torch.nn.LSTM has no relu '
        "activation; use engine=\"auto\" or \"cells\"), got activation='relu'")
    assert err(Recurrent, "gru", 3, 0) == \
        "GRU: expected hidden_size to be a positive integer, got 0"
    assert err(Recurrent, "rnn", 3, 8, dropout=1.0) == "RNN: expected dropout in [0, 1), got 1.0"
    assert err(Recurrent, "rnn", 3, 8, activation="sigmoid") == \
        "RNN: expected activation \"tanh\" or \"relu\", got 'sigmoid'"
    assert err(Recurrent, "rnn", 3, 8, engine="jax") == \
        "RNN: expected engine \"auto\", \"torch\" or \"cells\", got 'jax'"
    Recurrent("rnn", 3, 8, activation="relu", engine="torch")  # torch.nn.RNN has relu
    m = Recurrent("lstm", 3, 8, engine="torch")
    assert err(m, torch.zeros(2, 2, 3), return_gates=True) == (
        'LSTM: expected return_gates=False with engine="torch" (gate traces need the '
        'transcribed cells; use engine="auto" or "cells"), got return_gates=True')
    assert err(m.weights, 1) == "LSTM: expected layer index in [0, 1), got 1"


def test_cell_module_errors():
    c = LSTMCell(3, 8)
    assert err(c, torch.zeros(4, 5, 3)) == "LSTMCell: expected x of shape (B, F=3), got (4, 5, 3)"
    assert err(c, torch.zeros(4, 3), torch.zeros(4, 8)) == \
        "LSTMCell: expected state (h, c), got Tensor"
    assert err(GRUCell(3, 8), torch.zeros(4, 3), torch.zeros(1, 4, 8)) == \
        "GRUCell: expected h of shape (B=4, H=8), got (1, 4, 8)"
    assert err(RNNCell, 3, 8, activation="gelu") == \
        "RNNCell: expected activation \"tanh\" or \"relu\", got 'gelu'"
    assert err(lstm_step, torch.zeros(1, 3), None, None, None, activation="elu") == \
        "LSTM: expected activation \"tanh\" or \"relu\", got 'elu'"
