"""lstmkit.ref: the NumPy reference for the recurrent math (the project's source of truth).

Three modules with the same interface (see each module's docstring for its equations,
shapes and the mapping to torch's weight layout):

* :mod:`lstmkit.ref.rnn` — h_t = φ(W x_t + U h_{t-1} + b), φ tanh or relu;
* :mod:`lstmkit.ref.lstm` — the six LSTM equations (gates i, f, g, o as torch and Keras);
* :mod:`lstmkit.ref.gru` — the GRU with the reset gate after the hidden matmul (torch/cuDNN).

::

    params = init(input_size, hidden_size, rng, ...)           # dict, torch layout, float64
    outputs, final_state, cache = forward(params, x, state=None, ...)
    d_x, d_params, d_state0 = backward(cache, d_outputs, d_final_state=None)

``x`` is (B, T, F), ``outputs`` (B, T, H); the state is h (B, H) for rnn/gru and (h, c)
for lstm; None means zeros (for the state and for the incoming gradients).
:mod:`lstmkit.ref.gradcheck` checks ``backward`` against centred finite differences.

NumPy only: importing this package never imports torch.
"""

from lstmkit.ref import gradcheck, gru, lstm, rnn

CELLS = {"rnn": rnn, "lstm": lstm, "gru": gru}

__all__ = ["CELLS", "gradcheck", "gru", "lstm", "rnn"]
