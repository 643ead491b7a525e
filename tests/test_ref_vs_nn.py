"""lstmkit.ref (NumPy, hand-written backward) == transcribed torch cells == torch.nn.*.

Float64, within 1e-10: outputs, final states, and every gradient (parameters, x, initial
state), for 1- and 2-layer stacks, over two calls where the second starts from the first's
final state. The loss is L = sum(out1*W1) + sum(out2*W2) + sum(h_n*Wh) (+ sum(c_n*Wc)).

The ref is one layer at a time, so the stack is chained by hand: forward layer by layer, and
backward from the top, the d_x of layer k+1 being the d_outputs of layer k. Across calls the
second call's d_state0 is the first call's d_final_state.
"""

from __future__ import annotations

import pytest

from lstmkit.nn.verify import compare, engines_for

ATOL = 1e-10


def cases():
    out = [("lstm", "tanh"), ("lstm", "relu"), ("gru", "tanh"), ("gru", "relu"),
           ("rnn", "tanh"), ("rnn", "relu")]
    return [pytest.param(c, a, L, id=f"{c}-{a}-L{L}") for c, a in out for L in (1, 2)]


@pytest.mark.parametrize("cell,activation,L", cases())
def test_ref_equals_nn(cell, activation, L):
    engines = engines_for(cell, activation)
    assert "cells" in engines  # lstmkit's transcribed cells are always compared
    for engine in engines:
        errors = compare(cell, activation, L, engine)
        assert len(errors) >= 6 + 4 * L  # values, input/state grads, 4 params per layer
        bad = {k: v for k, v in errors.items() if not v <= ATOL}
        assert not bad, f"{engine}: {bad}"
