"""Gradient checks of lstmkit.ref (rnn, lstm, gru) against centred finite differences.

Tolerance: float64, eps = 1e-6, relative error (max |a - n| / max(max|a|, max|n|)) < 1e-6.
The centred difference has truncation error ~eps² |L'''| ≈ 1e-12 and rounding error
~u |L| / eps ≈ 1e-16 * 10 / 1e-6 = 1e-9 for these O(10) losses, against gradients of O(0.1..1):
a correct backward lands near 1e-9 (measured: 1e-11 .. 3e-9), while a wrong term (a missing
gate path, a sign, an off-by-one step) gives errors of 1e-2 and up. 1e-6 sits between the
two with three orders of magnitude to spare on each side.

Relu kinks: a finite difference straddling a pre-activation of exactly 0 is meaningless.
With eps = 1e-6 a kink is hit only if some pre-activation lies within ~1e-6 of 0; with ~100
N(0, ~1) pre-activations per case that happens with probability ~1e-4, and the seeds below
are fixed, so a pass is reproducible (a failure confined to a relu case would point there).
"""

from __future__ import annotations

import time
import types

import numpy as np
import pytest

from lstmkit.ref import gru, lstm, rnn
from lstmkit.ref.gradcheck import check_cell, numerical_grad, relative_error

TOL = 1e-6

CELLS = [
    pytest.param(rnn, {}, id="rnn-tanh"),
    pytest.param(rnn, {"nonlinearity": "relu"}, id="rnn-relu"),
    pytest.param(lstm, {}, id="lstm-tanh"),
    pytest.param(lstm, {"activation": "relu"}, id="lstm-relu"),
    pytest.param(gru, {}, id="gru"),
]
# (B, T, F, H): single sequence, single step, both, and a general case with H != F.
SHAPES = [(1, 1, 1, 1), (1, 4, 2, 3), (3, 1, 2, 3), (2, 5, 3, 4), (4, 3, 1, 5)]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "B{}-T{}-F{}-H{}".format(*s))
@pytest.mark.parametrize("module, options", CELLS)
def test_every_gradient_matches_finite_differences(module, options, shape):
    B, T, F, H = shape
    errors = check_cell(module, input_size=F, hidden_size=H, batch=B, steps=T,
                        rng=np.random.default_rng(1234 + sum(shape)), **options)
    expected_names = {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "x", *module.STATE_NAMES}
    assert set(errors) == expected_names
    bad = {name: err for name, err in errors.items() if not err < TOL}
    assert not bad, f"relative errors above {TOL}: {bad}"


@pytest.mark.parametrize("module, options", CELLS)
def test_none_state_gradient_equals_zero_state_gradient(module, options):
    rng = np.random.default_rng(7)
    B, T, F, H = 3, 4, 2, 5
    params = module.init(F, H, rng)
    x = rng.normal(size=(B, T, F))
    d_y = rng.normal(size=(B, T, H))
    zeros = np.zeros((B, H))
    pair = module is lstm
    d_final = tuple(rng.normal(size=(B, H)) for _ in module.STATE_NAMES)
    d_final = d_final if pair else d_final[0]

    y0, s0, cache0 = module.forward(params, x, None, **options)
    y1, s1, cache1 = module.forward(params, x, (zeros, zeros) if pair else zeros, **options)
    np.testing.assert_array_equal(y0, y1)
    _, _, d_state_none = module.backward(cache0, d_y, d_final)
    _, _, d_state_zero = module.backward(cache1, d_y, d_final)

    parts_none = d_state_none if pair else (d_state_none,)
    parts_zero = d_state_zero if pair else (d_state_zero,)
    assert isinstance(d_state_none, tuple) == pair
    for a, b in zip(parts_none, parts_zero, strict=True):
        assert a.shape == (B, H)
        np.testing.assert_array_equal(a, b)
        assert np.abs(a).max() > 1e-3  # a real gradient, not zeros


@pytest.mark.parametrize("module, options", CELLS)
def test_state_gradient_matches_finite_differences_at_zero(module, options):
    """The zero-state gradient itself (not just None == zeros) is right."""
    rng = np.random.default_rng(11)
    B, T, F, H = 2, 3, 2, 3
    params = module.init(F, H, rng)
    x = rng.normal(size=(B, T, F))
    R = rng.normal(size=(B, T, H))
    h0 = np.zeros((B, H))
    c0 = np.zeros((B, H))
    pair = module is lstm

    def loss():
        y, _, _ = module.forward(params, x, (h0, c0) if pair else h0, **options)
        return float(np.sum(y * R))

    _, _, cache = module.forward(params, x, None, **options)
    _, _, d_state = module.backward(cache, R)
    d_h0 = d_state[0] if pair else d_state
    assert relative_error(d_h0, numerical_grad(loss, h0)) < TOL
    if pair and options.get("activation") != "relu":
        # (Not for relu: at C_0 = 0 a clamped candidate gives C_1 = f_1 * C_0 = 0 exactly, so
        # ±eps on C_0 straddles relu's kink in h_1 = o_1 * relu(C_1); there relu'(0) = 0 by
        # convention, as in torch, and no finite difference can agree.)
        assert relative_error(d_state[1], numerical_grad(loss, c0)) < TOL


def test_gradcheck_detects_a_wrong_backward():
    """check_cell must flag a backward that is slightly off (here: d_weight_hh * 1.01)."""

    def backward(cache, d_outputs=None, d_final_state=None):
        d_x, d_params, d_state = lstm.backward(cache, d_outputs, d_final_state)
        d_params["weight_hh"] = d_params["weight_hh"] * 1.01
        return d_x, d_params, d_state

    broken = types.ModuleType("broken_lstm")
    broken.STATE_NAMES, broken.init, broken.forward = lstm.STATE_NAMES, lstm.init, lstm.forward
    broken.backward = backward
    errors = check_cell(broken, rng=np.random.default_rng(0))
    assert errors["weight_hh"] > 1e-3
    assert errors["weight_ih"] < TOL


def test_numerical_grad_and_relative_error_on_a_known_function():
    a = np.array([[0.5, -1.0, 2.0], [0.0, 3.0, -0.25]])
    grad = numerical_grad(lambda: float(np.sum(np.sin(a) * a)), a)
    np.testing.assert_allclose(grad, np.sin(a) + a * np.cos(a), rtol=0, atol=1e-9)
    np.testing.assert_array_equal(a, [[0.5, -1.0, 2.0], [0.0, 3.0, -0.25]])  # restored
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert relative_error(np.array([1.0, -2.0]), np.array([1.0, -1.0])) == pytest.approx(0.5)
    assert relative_error(np.array([1e-20]), np.array([-1e-20])) == pytest.approx(2.0)


def test_check_cell_accepts_names_and_is_quick():
    t0 = time.perf_counter()
    errors = check_cell("gru", rng=np.random.default_rng(3))
    assert time.perf_counter() - t0 < 1.0
    assert max(errors.values()) < TOL
