"""lstmkit.ref: the NumPy reference for the recurrent math (the project's source of truth).

Four cell modules with the same interface (see each module's docstring for its equations,
shapes and the mapping to torch's weight layout):

* :mod:`lstmkit.ref.rnn` — h_t = φ(W·[h_{t-1}, x_t] + b), φ tanh or relu;
* :mod:`lstmkit.ref.lstm` — the six LSTM equations (gates i, f, g, o as torch and Keras);
* :mod:`lstmkit.ref.gru` — the GRU with the reset gate after the hidden matmul (torch/cuDNN),
  tanh or relu candidate;
* :mod:`lstmkit.ref.lnlstm` — the layer-normalised LSTM (Ba, Kiros & Hinton 2016).

Each has two codes for the same equations. Open ``step`` / ``step_backward`` to read them:
one time step, line for line in the course's notation (``f_t = σ(W_f·[h_{t-1}, x_t] +
b_f)``), each backward rule beside its forward. ``forward`` / ``backward`` run a whole
sequence, arranged for speed, and are tested equal to the steps (:mod:`lstmkit.ref.steps`,
``tests/test_ref_steps.py``, ``lstmkit check``)::

    params = init(input_size, hidden_size, rng, ...)           # dict, torch layout, float64
    state, cache = step(params, x_t, state_prev, ...)          # one step
    d_x_t, d_state_prev, d_params = step_backward(params, d_state, cache)
    outputs, final_state, cache = forward(params, x, state=None, ...)   # the sequence
    d_x, d_params, d_state0 = backward(cache, d_outputs, d_final_state=None)

``x`` is (B, T, F), ``outputs`` (B, T, H); the state is h (B, H) for rnn/gru and (h, c)
for lstm/lnlstm; None means zeros (for the state and for the incoming gradients).
:mod:`lstmkit.ref.gradcheck` checks ``backward`` against centred finite differences.

NumPy only: importing this package never imports torch (``lint-imports`` enforces it).
"""

from lstmkit.ref import gradcheck, gru, lnlstm, lstm, rnn, steps

CELLS = {"rnn": rnn, "lstm": lstm, "gru": gru, "lnlstm": lnlstm}

__all__ = ["CELLS", "gradcheck", "gru", "lnlstm", "lstm", "rnn", "steps"]
