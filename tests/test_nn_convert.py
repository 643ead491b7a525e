"""lstmkit.nn.convert: torch state dicts, per-layer params, Keras golden values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmkit.core.errors import LstmkitError
from lstmkit.nn import (
    Recurrent,
    from_keras_gru,
    from_keras_lstm,
    layer_params,
    load_torch_state_dict,
    set_layer_params,
    to_keras_gru,
    to_keras_lstm,
    to_torch_state_dict,
)

D = torch.float64
TORCH = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def relu(a):
    return np.maximum(a, 0.0)


def run(layer, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return layer(torch.as_tensor(x))[0].numpy()


# --- torch state dicts ----------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_torch_state_dict_round_trip(cell):
    torch.manual_seed(0)
    x = torch.randn(2, 5, 3, dtype=D)
    ours = Recurrent(cell, 3, 4, num_layers=2, dtype=D)
    sd = to_torch_state_dict(ours)
    theirs = TORCH[cell](3, 4, num_layers=2, batch_first=True, dtype=D)
    theirs.load_state_dict(sd)
    torch.testing.assert_close(theirs(x)[0], ours(x)[0], rtol=0, atol=0)
    sd["weight_ih_l0"].zero_()  # a copy: the layer is untouched
    assert ours.rnn.weight_ih_l0.abs().sum() > 0

    other = TORCH[cell](3, 4, num_layers=2, batch_first=True, dtype=D)  # fresh random weights
    load_torch_state_dict(ours, other.state_dict())
    torch.testing.assert_close(ours(x)[0], other(x)[0], rtol=0, atol=0)
    cells = Recurrent(cell, 3, 4, num_layers=2, engine="cells", dtype=D)
    load_torch_state_dict(cells, ours.state_dict())  # the prefixed keys work too
    torch.testing.assert_close(cells(x)[0], other(x)[0], rtol=0, atol=1e-12)


def test_load_torch_state_dict_errors():
    layer = Recurrent("lstm", 3, 4)
    bad = torch.nn.LSTM(3, 5, batch_first=True).state_dict()
    with pytest.raises(LstmkitError, match=r"^LSTM: expected weight_ih_l0 of shape \(16, 3\), "
                                           r"got \(20, 3\)$"):
        load_torch_state_dict(layer, bad)
    nobias = torch.nn.LSTM(3, 4, bias=False, batch_first=True).state_dict()
    with pytest.raises(LstmkitError, match=r"missing \['bias_ih_l0', 'bias_hh_l0'\]"):
        load_torch_state_dict(layer, nobias)


def test_layer_params_round_trip():
    torch.manual_seed(0)
    layer = Recurrent("gru", 3, 4, num_layers=2, dtype=D)
    p1 = layer_params(layer, 1)
    assert sorted(p1) == ["bias_hh", "bias_ih", "weight_hh", "weight_ih"]
    assert p1["weight_ih"].shape == (12, 4) and p1["weight_ih"].dtype == np.float64
    np.testing.assert_array_equal(p1["weight_hh"], layer.rnn.weight_hh_l1.detach().numpy())
    new = {k: v + 1.0 for k, v in p1.items()}
    set_layer_params(layer, 1, new)
    for k, v in layer_params(layer, 1).items():
        np.testing.assert_array_equal(v, new[k])
    p1["bias_ih"][:] = 0  # a copy
    assert layer.rnn.bias_ih_l1.abs().sum() > 0
    with pytest.raises(LstmkitError, match=r"^GRU: expected weight_hh of layer 1 of shape "
                                           r"\(12, 4\), got \(4, 12\)$"):
        set_layer_params(layer, 1, {**new, "weight_hh": np.zeros((4, 12))})
    with pytest.raises(LstmkitError, match="^GRU: expected layer index in"):
        layer_params(layer, 2)


# --- Keras LSTM --------------------------------------------------------------------------
# H = 2, F = 1. Keras columns: i = 0:2, f = 2:4, c = 4:6, o = 6:8.
K_KERNEL = np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]])  # (F=1, 4H=8)
K_RECURRENT = np.array([[0.11, 0.12, 0.13, 0.14, 0.15, 0.16, 0.17, 0.18],
                        [-0.21, -0.22, -0.23, -0.24, -0.25, -0.26, -0.27, -0.28]])  # (H, 4H)
K_BIAS = np.array([0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08])  # (4H,)


def keras_lstm(x, kernel, recurrent_kernel, bias, act=np.tanh):
    """Keras LSTMCell.call: z = x W + h U + b; i, f, c, o = split(z); sigmoid gates."""
    B, T, _ = x.shape
    H = recurrent_kernel.shape[0]
    h, c, outs = np.zeros((B, H)), np.zeros((B, H)), []
    for t in range(T):
        z = x[:, t] @ kernel + h @ recurrent_kernel + bias
        i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
        cc, o = act(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
        c = f * c + i * cc
        h = o * act(c)
        outs.append(h)
    return np.stack(outs, axis=1)


def test_from_keras_lstm_golden():
    p = from_keras_lstm(K_KERNEL, K_RECURRENT, K_BIAS)
    np.testing.assert_array_equal(
        p["weight_ih"], [[0.1], [0.2], [0.3], [0.4], [0.5], [0.6], [0.7], [0.8]])
    np.testing.assert_array_equal(
        p["weight_hh"], [[0.11, -0.21], [0.12, -0.22], [0.13, -0.23], [0.14, -0.24],
                         [0.15, -0.25], [0.16, -0.26], [0.17, -0.27], [0.18, -0.28]])
    np.testing.assert_array_equal(p["bias_ih"], K_BIAS)
    np.testing.assert_array_equal(p["bias_hh"], np.zeros(8))

    x = np.array([[[0.5], [-1.0], [2.0], [0.25]], [[1.5], [0.3], [-0.7], [1.0]]])  # (2, 4, 1)
    for activation, act in (("tanh", np.tanh), ("relu", relu)):
        layer = Recurrent("lstm", 1, 2, activation=activation, dtype=D)
        set_layer_params(layer, 0, p)
        want = keras_lstm(x, K_KERNEL, K_RECURRENT, K_BIAS, act)
        np.testing.assert_allclose(run(layer, x), want, rtol=0, atol=1e-14)


def test_keras_lstm_inverse():
    kernel, rk, bias = to_keras_lstm(from_keras_lstm(K_KERNEL, K_RECURRENT, K_BIAS))
    for a, b in ((kernel, K_KERNEL), (rk, K_RECURRENT), (bias, K_BIAS)):
        np.testing.assert_array_equal(a, b)
    # torch -> Keras sums the two biases, and the result computes the same function
    torch.manual_seed(0)
    layer = Recurrent("lstm", 3, 4, dtype=D)
    keras = to_keras_lstm(layer_params(layer, 0))
    np.testing.assert_allclose(keras[2], (layer.rnn.bias_ih_l0 + layer.rnn.bias_hh_l0)
                               .detach().numpy(), rtol=0, atol=0)
    x = np.random.default_rng(0).normal(size=(2, 5, 3))
    np.testing.assert_allclose(keras_lstm(x, *keras), run(layer, x), rtol=0, atol=1e-13)
    back = from_keras_lstm(*keras)
    np.testing.assert_array_equal(back["weight_ih"], layer_params(layer, 0)["weight_ih"])
    # use_bias=False
    nb = from_keras_lstm(K_KERNEL, K_RECURRENT)
    assert not nb["bias_ih"].any() and not nb["bias_hh"].any()


# --- Keras GRU (reset_after=True) -----------------------------------------------------------
# H = 2, F = 1. Keras columns: z = 0:2, r = 2:4, h = 4:6; torch rows r|z|n.
G_KERNEL = np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]])  # (F=1, 3H=6)
G_RECURRENT = np.array([[0.11, 0.12, 0.13, 0.14, 0.15, 0.16],
                        [-0.21, -0.22, -0.23, -0.24, -0.25, -0.26]])  # (H, 3H)
G_BIAS = np.array([[0.01, 0.02, 0.03, 0.04, 0.05, 0.06],  # input bias
                   [-0.01, -0.02, -0.03, -0.04, -0.05, -0.06]])  # recurrent bias


def keras_gru(x, kernel, recurrent_kernel, bias):
    """Keras GRUCell.call with reset_after=True: h' = z * h + (1 - z) * hh."""
    B, T, _ = x.shape
    H = recurrent_kernel.shape[0]
    h, outs = np.zeros((B, H)), []
    for t in range(T):
        mx = x[:, t] @ kernel + bias[0]
        mi = h @ recurrent_kernel + bias[1]
        z = sigmoid(mx[:, :H] + mi[:, :H])
        r = sigmoid(mx[:, H:2 * H] + mi[:, H:2 * H])
        hh = np.tanh(mx[:, 2 * H:] + r * mi[:, 2 * H:])
        h = z * h + (1 - z) * hh
        outs.append(h)
    return np.stack(outs, axis=1)


def test_from_keras_gru_golden():
    p = from_keras_gru(G_KERNEL, G_RECURRENT, G_BIAS)
    np.testing.assert_array_equal(p["weight_ih"], [[0.3], [0.4], [0.1], [0.2], [0.5], [0.6]])
    np.testing.assert_array_equal(
        p["weight_hh"], [[0.13, -0.23], [0.14, -0.24], [0.11, -0.21], [0.12, -0.22],
                         [0.15, -0.25], [0.16, -0.26]])
    np.testing.assert_array_equal(p["bias_ih"], [0.03, 0.04, 0.01, 0.02, 0.05, 0.06])
    np.testing.assert_array_equal(p["bias_hh"], [-0.03, -0.04, -0.01, -0.02, -0.05, -0.06])

    x = np.array([[[0.5], [-1.0], [2.0], [0.25]], [[1.5], [0.3], [-0.7], [1.0]]])  # (2, 4, 1)
    for engine in ("auto", "cells"):
        layer = Recurrent("gru", 1, 2, engine=engine, dtype=D)
        set_layer_params(layer, 0, p)
        np.testing.assert_allclose(run(layer, x), keras_gru(x, G_KERNEL, G_RECURRENT, G_BIAS),
                                   rtol=0, atol=1e-14)


def test_keras_gru_inverse():
    back = to_keras_gru(from_keras_gru(G_KERNEL, G_RECURRENT, G_BIAS))
    for a, b in zip(back, (G_KERNEL, G_RECURRENT, G_BIAS), strict=True):
        np.testing.assert_array_equal(a, b)
    torch.manual_seed(0)
    layer = Recurrent("gru", 3, 4, dtype=D)
    p = layer_params(layer, 0)
    keras = to_keras_gru(p)
    assert [a.shape for a in keras] == [(3, 12), (4, 12), (2, 12)]
    for k, v in from_keras_gru(*keras).items():
        np.testing.assert_array_equal(v, p[k])
    x = np.random.default_rng(1).normal(size=(2, 5, 3))
    np.testing.assert_allclose(keras_gru(x, *keras), run(layer, x), rtol=0, atol=1e-13)
    nb = from_keras_gru(G_KERNEL, G_RECURRENT, None)
    assert not nb["bias_ih"].any() and not nb["bias_hh"].any()


def test_keras_errors():
    with pytest.raises(LstmkitError) as info:
        from_keras_gru(G_KERNEL, G_RECURRENT, G_BIAS[0], reset_after=False)
    assert str(info.value) == (
        "Keras GRU: expected reset_after=True (torch's GRU applies the reset gate after the "
        "recurrent matmul; reset_after=False cannot be represented in the torch layout), "
        "got reset_after=False")
    with pytest.raises(LstmkitError, match=r"^Keras GRU: expected bias of shape \(2, 3H=6\) "
                                           r"\(reset_after=True\), got \(6\)$"):
        from_keras_gru(G_KERNEL, G_RECURRENT, G_BIAS[0])
    with pytest.raises(LstmkitError, match=r"^Keras LSTM: expected kernel of shape "
                                           r"\(F, 4H=8\), got \(8\)$"):
        from_keras_lstm(K_KERNEL[0], K_RECURRENT, K_BIAS)
    with pytest.raises(LstmkitError, match=r"^Keras LSTM: expected recurrent_kernel of shape "
                                           r"\(H, 4H\), got \(2, 6\)$"):
        from_keras_lstm(K_KERNEL, G_RECURRENT, K_BIAS)
    with pytest.raises(LstmkitError, match=r"^Keras LSTM: expected bias of shape \(4H=8\), "
                                           r"got \(2, 8\)$"):
        from_keras_lstm(K_KERNEL, K_RECURRENT, np.zeros((2, 8)))
