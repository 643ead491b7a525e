"""The readable per-step reference (``step`` / ``step_backward``, the course's equations) equals
the fast whole-sequence reference (``forward`` / ``backward``) of every cell.

Float64 over two calls, the second starting from the first's final state; the loss is
L = Σ out1·R1 + Σ out2·R2 + Σ final2·Rf, so the second call's d_state0 is the first call's
d_final_state. The two codes differ only in summation order, a few ulps: 1e-12 relative to
the values' scale leaves room and is still 10,000x below any real error.
"""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.ref import gru, lnlstm, lstm, rnn
from lstmkit.ref.steps import unroll, unroll_backward

CASES = [(lstm, {}), (lstm, {"activation": "relu"}), (gru, {}), (gru, {"activation": "relu"}),
         (rnn, {}), (rnn, {"nonlinearity": "relu"}), (lnlstm, {})]
TOL = 1e-12


def _rand_state(mod, rng, B, H):
    parts = [rng.normal(size=(B, H)) * 0.5 for _ in mod.STATE_NAMES]
    return tuple(parts) if len(parts) > 1 else parts[0]


def _flat(state):
    return list(state) if isinstance(state, tuple) else [state]


def _close(a, b) -> float:
    scale = max(1.0, float(np.max(np.abs(a))))
    return float(np.max(np.abs(a - b))) / scale


@pytest.mark.parametrize("mod,opts", CASES, ids=lambda c: getattr(c, "NAME", str(c)))
def test_steps_equal_the_sequence_code_over_two_calls(mod, opts):
    rng = np.random.default_rng(7)
    B, T, F, H = 3, 5, 4, 6
    params = mod.init(F, H, rng)
    if mod is lnlstm:  # move the LayerNorm gains and biases off 1 and 0 so they count
        for k in params:
            if k.startswith("ln_"):
                params[k] = params[k] + 0.3 * rng.normal(size=params[k].shape)
    x1, x2 = rng.normal(size=(B, T, F)), rng.normal(size=(B, T, F))
    s0 = _rand_state(mod, rng, B, H)
    R1, R2 = rng.normal(size=(B, T, H)), rng.normal(size=(B, T, H))
    Rf = _rand_state(mod, rng, B, H)

    # forward: call 1 from s0, call 2 from call 1's final state
    y1, f1, c1 = mod.forward(params, x1, s0, **opts)
    y2, f2, c2 = mod.forward(params, x2, f1, **opts)
    z1, g1, k1 = unroll(mod, params, x1, s0, **opts)
    z2, g2, k2 = unroll(mod, params, x2, g1, **opts)
    errors = {"out1": _close(y1, z1), "out2": _close(y2, z2)}
    for n, (a, b) in enumerate(zip(_flat(f2), _flat(g2), strict=True)):
        errors[f"final{n}"] = _close(a, b)

    # backward: call 2 first; its d_state0 flows into call 1's final state
    dx2, dp2, ds2 = mod.backward(c2, R2, Rf)
    dx1, dp1, ds1 = mod.backward(c1, R1, ds2)
    ex2, ep2, es2 = unroll_backward(mod, params, k2, R2, Rf)
    ex1, ep1, es1 = unroll_backward(mod, params, k1, R1, es2)
    errors |= {"dx1": _close(dx1, ex1), "dx2": _close(dx2, ex2)}
    for n, (a, b) in enumerate(zip(_flat(ds1), _flat(es1), strict=True)):
        errors[f"d_state0_{n}"] = _close(a, b)
    for k in params:
        errors[f"d_{k}"] = _close(dp1[k] + dp2[k], ep1[k] + ep2[k])
    assert len(errors) >= 6 + len(params)
    bad = {k: v for k, v in errors.items() if not v <= TOL}
    assert not bad, bad


def test_the_step_is_written_in_the_course_notation():
    import inspect

    src = inspect.getsource(lstm.step)
    for line in ("f_t = σ(W_f·[h_{t-1}, x_t] + b_f)", "i_t = σ(W_i·[h_{t-1}, x_t] + b_i)",
                 "C̃_t = tanh(W_C·[h_{t-1}, x_t] + b_C)", "C_t = f_t * C_{t-1} + i_t * C̃_t",
                 "o_t = σ(W_o·[h_{t-1}, x_t] + b_o)", "h_t = o_t * tanh(C_t)"):
        assert line in src, line


def test_a_wrong_step_backward_is_caught(monkeypatch):
    # the comparison above can fail: break one derivative and it reports the gradients
    rng = np.random.default_rng(0)
    params = rnn.init(2, 3, rng)
    x = rng.normal(size=(2, 4, 2))
    _, _, caches = unroll(rnn, params, x)
    _, _, cache = rnn.forward(params, x)
    R = rng.normal(size=(2, 4, 3))
    good = unroll_backward(rnn, params, caches, R)[1]["weight_hh"]
    original = rnn.step_backward

    def wrong(params, dh, cache):
        dx, dh_prev, grads = original(params, dh, cache)
        return dx, 0.9 * dh_prev, grads

    monkeypatch.setattr(rnn, "step_backward", wrong)
    bad = unroll_backward(rnn, params, caches, R)[1]["weight_hh"]
    want = rnn.backward(cache, R)[1]["weight_hh"]
    assert _close(good, want) <= TOL and _close(bad, want) > 1e-3
