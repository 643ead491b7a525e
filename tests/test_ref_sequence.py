"""lstmkit.ref as sequence models: chaining calls, input checks, init, dtypes, torch parity.

* Running step by step (T = 1 calls chaining the state), or in two chunks with the state
  carried over, equals one call over the whole sequence: outputs, final state, and — by
  backpropagating through the chain, feeding each call's d_state0 to the previous call as
  d_final_state — d_x (concatenated), d_params (summed) and d_state0.
* User errors are one-line LstmkitError messages of the exact documented form.
* lstmkit.ref never imports torch (checked in a fresh interpreter).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from lstmkit.core.errors import LstmkitError
from lstmkit.ref import gru, lstm, rnn

CELLS = [
    pytest.param(rnn, {}, id="rnn-tanh"),
    pytest.param(rnn, {"nonlinearity": "relu"}, id="rnn-relu"),
    pytest.param(lstm, {}, id="lstm-tanh"),
    pytest.param(lstm, {"activation": "relu"}, id="lstm-relu"),
    pytest.param(gru, {}, id="gru"),
]
CLOSE = {"rtol": 1e-12, "atol": 1e-13}


def _parts(module, state):
    return state if module is lstm else (state,)


def _random_case(module, B=3, T=6, F=2, H=4, seed=0):
    rng = np.random.default_rng(seed)
    params = module.init(F, H, rng)
    x = rng.normal(size=(B, T, F))
    h0 = 0.5 * rng.normal(size=(B, H))
    state = (h0, 0.5 * rng.normal(size=(B, H))) if module is lstm else h0
    d_y = rng.normal(size=(B, T, H))
    d_final = tuple(rng.normal(size=(B, H)) for _ in _parts(module, state))
    return params, x, state, d_y, d_final if module is lstm else d_final[0]


def _run_in_chunks(module, params, x, state, d_y, d_final, bounds, options):
    """Forward chunk by chunk carrying the state, then backward through the chain."""
    caches, outputs = [], []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        y, state, cache = module.forward(params, x[:, lo:hi], state, **options)
        outputs.append(y)
        caches.append(cache)
    d_xs, d_params_sum = [], None
    d_state = d_final
    chunks = list(zip(bounds[:-1], bounds[1:], strict=True))
    for (lo, hi), cache in reversed(list(zip(chunks, caches, strict=True))):
        d_x, d_params, d_state = module.backward(cache, d_y[:, lo:hi], d_state)
        d_xs.insert(0, d_x)
        d_params_sum = d_params if d_params_sum is None else {
            k: d_params_sum[k] + d_params[k] for k in d_params}
    return np.concatenate(outputs, axis=1), state, np.concatenate(d_xs, axis=1), \
        d_params_sum, d_state


@pytest.mark.parametrize("split", ["steps", "two-calls"])
@pytest.mark.parametrize("module, options", CELLS)
def test_chained_calls_equal_one_call(module, options, split):
    params, x, state, d_y, d_final = _random_case(module)
    T = x.shape[1]
    bounds = list(range(T + 1)) if split == "steps" else [0, 2, T]

    y, final, cache = module.forward(params, x, state, **options)
    d_x, d_params, d_state0 = module.backward(cache, d_y, d_final)
    y_c, final_c, d_x_c, d_params_c, d_state0_c = _run_in_chunks(
        module, params, x, state, d_y, d_final, bounds, options)

    np.testing.assert_allclose(y_c, y, **CLOSE)
    for a, b in zip(_parts(module, final_c), _parts(module, final), strict=True):
        np.testing.assert_allclose(a, b, **CLOSE)
    np.testing.assert_allclose(d_x_c, d_x, **CLOSE)
    assert set(d_params_c) == set(d_params) == set(params)
    for k in params:
        assert d_params[k].shape == params[k].shape
        np.testing.assert_allclose(d_params_c[k], d_params[k], **CLOSE)
    for a, b in zip(_parts(module, d_state0_c), _parts(module, d_state0), strict=True):
        np.testing.assert_allclose(a, b, **CLOSE)
    # The comparison is not vacuous: the recurrence matters and the gradients are real.
    y_fresh, _, _ = module.forward(params, x[:, 2:], None, **options)
    assert np.abs(y_fresh - y[:, 2:]).max() > 1e-3
    assert min(np.abs(d_params[k]).max() for k in params) > 1e-3


@pytest.mark.parametrize("module, options", CELLS)
def test_none_gradients_mean_zeros(module, options):
    params, x, state, d_y, d_final = _random_case(module, seed=3)
    _, _, cache = module.forward(params, x, state, **options)
    zeros = tuple(np.zeros_like(p) for p in _parts(module, state))
    a = module.backward(cache, None, d_final)
    b = module.backward(cache, np.zeros_like(d_y), d_final)
    c = module.backward(cache, d_y)
    d = module.backward(cache, d_y, zeros if module is lstm else zeros[0])
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(c[0], d[0])
    for k in params:
        np.testing.assert_array_equal(c[1][k], d[1][k])
    # backward may be called twice on one cache (it does not consume it)
    np.testing.assert_array_equal(module.backward(cache, d_y)[0], c[0])


@pytest.mark.parametrize("module, options", CELLS)
def test_forward_does_not_modify_its_inputs(module, options):
    params, x, state, d_y, d_final = _random_case(module, seed=5)
    copies = ({k: v.copy() for k, v in params.items()}, x.copy(),
              [s.copy() for s in _parts(module, state)], d_y.copy())
    y, final, cache = module.forward(params, x, state, **options)
    module.backward(cache, d_y, d_final)
    y[...] = 0  # the returned arrays are not views of the cache
    for p in _parts(module, final):
        p[...] = 0
    for k in params:
        np.testing.assert_array_equal(params[k], copies[0][k])
    np.testing.assert_array_equal(x, copies[1])
    for s, c in zip(_parts(module, state), copies[2], strict=True):
        np.testing.assert_array_equal(s, c)
    np.testing.assert_array_equal(d_y, copies[3])
    y2, _, _ = module.forward(params, x, state, **options)
    assert np.abs(y2).max() > 0


# ----------------------------------------------------------------------------- dtypes, init
@pytest.mark.parametrize("module, options", CELLS)
def test_float32_params_compute_in_float32(module, options):
    params, x, state, d_y, d_final = _random_case(module, seed=4)
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    y64, _, cache64 = module.forward(params, x, state, **options)
    y32, final32, cache32 = module.forward(p32, x, state, **options)  # x, state float64
    assert y32.dtype == np.float32
    assert all(s.dtype == np.float32 for s in _parts(module, final32))
    d_x, d_params, d_state = module.backward(cache32, d_y, d_final)
    assert d_x.dtype == np.float32
    assert all(v.dtype == np.float32 for v in d_params.values())
    np.testing.assert_allclose(y32, y64, atol=1e-5)
    np.testing.assert_allclose(d_x, module.backward(cache64, d_y, d_final)[0], atol=1e-4)


@pytest.mark.parametrize("module, gates", [(rnn, 1), (lstm, 4), (gru, 3)])
def test_init_layout_range_and_dtype(module, gates):
    F, H = 3, 16
    params = module.init(F, H, np.random.default_rng(0))
    shapes = {"weight_ih": (gates * H, F), "weight_hh": (gates * H, H),
              "bias_ih": (gates * H,), "bias_hh": (gates * H,)}
    assert {k: v.shape for k, v in params.items()} == shapes
    bound = 1 / np.sqrt(H)
    for v in params.values():
        assert v.dtype == np.float64
        assert np.abs(v).max() <= bound
        assert np.abs(v).max() > 0.8 * bound  # uses the range, not a tiny one
    p32 = module.init(F, H, np.random.default_rng(0), dtype=np.float32)
    assert all(v.dtype == np.float32 for v in p32.values())
    again = module.init(F, H, np.random.default_rng(0))
    for k in params:
        np.testing.assert_array_equal(params[k], again[k])


def test_lstm_forget_bias_goes_to_the_f_block_of_bias_ih():
    H = 5
    base = lstm.init(2, H, np.random.default_rng(1))
    shifted = lstm.init(2, H, np.random.default_rng(1), forget_bias=1.0)
    diff = shifted["bias_ih"] - base["bias_ih"]
    np.testing.assert_allclose(diff[H:2 * H], 1.0)
    np.testing.assert_array_equal(diff[:H], 0)
    np.testing.assert_array_equal(diff[2 * H:], 0)
    np.testing.assert_array_equal(shifted["bias_hh"], base["bias_hh"])


# ------------------------------------------------------------------------------ user errors
def _lstm_params(F=3, H=4):
    return lstm.init(F, H, np.random.default_rng(0))


def test_x_shape_error_message_is_exact():
    with pytest.raises(LstmkitError) as err:
        lstm.forward(_lstm_params(), np.zeros((4, 3)))
    assert str(err.value) == "LSTM: expected x of shape (B, T, F=3), got (4, 3)"
    with pytest.raises(LstmkitError) as err:
        rnn.forward(rnn.init(2, 4, np.random.default_rng(0)), np.zeros((4, 5, 3)))
    assert str(err.value) == "RNN: expected x of shape (B, T, F=2), got (4, 5, 3)"
    with pytest.raises(LstmkitError) as err:
        gru.forward(gru.init(1, 4, np.random.default_rng(0)), np.zeros(7))
    assert str(err.value) == "GRU: expected x of shape (B, T, F=1), got (7)"


@pytest.mark.parametrize("call, message", [
    (lambda p: lstm.forward(p, np.zeros((2, 5, 3)), np.zeros((2, 4))),
     "LSTM: expected state as a tuple (h, c), got ndarray"),
    (lambda p: lstm.forward(p, np.zeros((2, 5, 3)), (np.zeros((2, 4)), np.zeros((3, 4)))),
     "LSTM: expected state c of shape (B=2, H=4), got (3, 4)"),
    (lambda p: lstm.forward(p, np.zeros((2, 5, 3)), (np.zeros((1, 2, 4)), np.zeros((2, 4)))),
     "LSTM: expected state h of shape (B=2, H=4), got (1, 2, 4)"),
    (lambda p: lstm.forward(p, np.zeros((2, 5, 3)), activation="sigmoid"),
     "LSTM: expected activation 'tanh' or 'relu', got 'sigmoid'"),
    (lambda p: lstm.forward({**p, "weight_hh": p["weight_hh"][:, :3]}, np.zeros((2, 5, 3))),
     "LSTM: expected params['weight_hh'] of shape (4H, H), got (16, 3)"),
    (lambda p: lstm.forward({**p, "bias_hh": p["bias_hh"][:4]}, np.zeros((2, 5, 3))),
     "LSTM: expected params['bias_hh'] of shape (4H=16,), got (4)"),
    (lambda p: lstm.forward({k: v for k, v in p.items() if k != "bias_ih"}, np.zeros((2, 5, 3))),
     "LSTM: expected params with keys weight_ih, weight_hh, bias_ih, bias_hh, "
     "got keys ['bias_hh', 'weight_hh', 'weight_ih']"),
    (lambda p: lstm.forward({k: v.astype(int) for k, v in p.items()}, np.zeros((2, 5, 3))),
     "LSTM: expected floating-point params, got dtype int64"),
    (lambda p: lstm.backward(lstm.forward(p, np.zeros((2, 5, 3)))[2], np.zeros((2, 4, 4))),
     "LSTM: expected d_outputs of shape (B=2, T=5, H=4), got (2, 4, 4)"),
    (lambda p: lstm.backward(lstm.forward(p, np.zeros((2, 5, 3)))[2], None, (None, np.ones(4))),
     "LSTM: expected d_final_state dc of shape (B=2, H=4), got (4)"),
    (lambda p: lstm.init(3, 0, np.random.default_rng(0)),
     "LSTM: expected hidden_size to be a positive integer, got 0"),
    (lambda p: lstm.init(3, 4, 0), "LSTM: expected rng as a numpy.random.Generator, got int"),
])
def test_lstm_user_errors(call, message):
    with pytest.raises(LstmkitError) as err:
        call(_lstm_params())
    assert str(err.value) == message


def test_rnn_and_gru_user_errors():
    rng = np.random.default_rng(0)
    p_rnn, p_gru = rnn.init(2, 4, rng), gru.init(2, 4, rng)
    with pytest.raises(LstmkitError, match=r"^RNN: expected nonlinearity 'tanh' or 'relu', "
                                           r"got 'sigmoid'$"):
        rnn.forward(p_rnn, np.zeros((1, 1, 2)), nonlinearity="sigmoid")
    with pytest.raises(LstmkitError, match=r"^GRU: expected state h of shape \(B=1, H=4\), "
                                           r"got \(1, 1, 4\)$"):
        gru.forward(p_gru, np.zeros((1, 1, 2)), np.zeros((1, 1, 4)))
    with pytest.raises(LstmkitError, match=r"^GRU: expected params\['weight_ih'\] of shape "
                                           r"\(3H=12, F\), got \(8, 2\)$"):
        gru.forward({**p_gru, "weight_ih": p_gru["weight_ih"][:8]}, np.zeros((1, 1, 2)))
    with pytest.raises(LstmkitError, match=r"^RNN: expected d_final_state of shape"):
        rnn.backward(rnn.forward(p_rnn, np.zeros((1, 1, 2)))[2], None, np.zeros((2, 4)))


# ------------------------------------------------------------------------------- no torch
def test_lstmkit_ref_does_not_import_torch():
    code = ("import sys, numpy as np; import lstmkit.ref; "
            "from lstmkit.ref import gradcheck, lstm; "
            "lstm.forward(lstm.init(2, 3, np.random.default_rng(0)), np.zeros((1, 2, 2))); "
            "gradcheck.check_cell('gru'); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------- torch parity
TORCH_CELLS = [c for c in CELLS if c.values[1].get("activation") != "relu"]  # torch: no relu LSTM


@pytest.mark.parametrize("module, options", TORCH_CELLS)
def test_matches_torch_layer(module, options):
    """Same params in torch's layout give torch's outputs and gradients (float64)."""
    torch = pytest.importorskip("torch")
    params, x, state, d_y, d_final = _random_case(module, seed=9)
    B, T, F = x.shape
    H = params["weight_hh"].shape[1]
    kind = {rnn: torch.nn.RNN, lstm: torch.nn.LSTM, gru: torch.nn.GRU}[module]
    layer = kind(F, H, batch_first=True, dtype=torch.float64,
                 **({"nonlinearity": options["nonlinearity"]} if options else {}))
    with torch.no_grad():
        for k, v in params.items():
            getattr(layer, k + "_l0").copy_(torch.from_numpy(v))
    xt = torch.tensor(x, requires_grad=True)
    st = [torch.tensor(s[None], requires_grad=True) for s in _parts(module, state)]
    y_t, final_t = layer(xt, tuple(st) if module is lstm else st[0])
    finals_t = [f[0] for f in (final_t if module is lstm else (final_t,))]
    d_finals = _parts(module, d_final)
    loss = (y_t * torch.from_numpy(d_y)).sum() + sum(
        (f * torch.from_numpy(d)).sum() for f, d in zip(finals_t, d_finals, strict=True))
    loss.backward()

    y, final, cache = module.forward(params, x, state, **options)
    d_x, d_params, d_state = module.backward(cache, d_y, d_final)
    close = {"rtol": 1e-10, "atol": 1e-12}
    np.testing.assert_allclose(y, y_t.detach().numpy(), **close)
    for a, b in zip(_parts(module, final), finals_t, strict=True):
        np.testing.assert_allclose(a, b.detach().numpy(), **close)
    np.testing.assert_allclose(d_x, xt.grad.numpy(), **close)
    for k in params:
        np.testing.assert_allclose(d_params[k], getattr(layer, k + "_l0").grad.numpy(), **close)
    for a, b in zip(_parts(module, d_state), st, strict=True):
        np.testing.assert_allclose(a, b.grad[0].numpy(), **close)
