"""lstmkit.nn: the PyTorch engine.

* :class:`Recurrent`: batch-first multi-layer LSTM / GRU / RNN with explicit state, running
  ``torch.nn.*`` (fast) or the transcribed cells (relu activation, gate traces) on one set of
  weights.
* Cells transcribed from the equations: functional ``lstm_step``, ``gru_step``, ``rnn_step``
  and modules :class:`LSTMCell`, :class:`GRUCell`, :class:`RNNCell`.
* Converters (:mod:`lstmkit.nn.convert`): torch state dicts, ``lstmkit.ref`` params, Keras.
* The LayerNorm LSTM (:mod:`lstmkit.nn.lnlstm`, ``Recurrent(cell="lnlstm")``): its parameter
  container :class:`LNLSTMStack` and time loop :func:`lnlstm_loop`.
"""

from lstmkit.core.lazy import lazy_exports

_LAZY = {  # name -> module; imported on first use, so `lstmkit.nn.config` needs no torch
    **dict.fromkeys(("GRUCell", "LSTMCell", "RNNCell", "gru_step", "lstm_step", "rnn_step"),
                    "lstmkit.nn.cells"),
    **dict.fromkeys(("from_keras_gru", "from_keras_lstm", "layer_params",
                     "load_torch_state_dict", "set_layer_params", "to_keras_gru",
                     "to_keras_lstm", "to_torch_state_dict"), "lstmkit.nn.convert"),
    "Recurrent": "lstmkit.nn.layer",
    "LNLSTMStack": "lstmkit.nn.lnlstm",
    "lnlstm_loop": "lstmkit.nn.lnlstm",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)


__all__ = [
    "Recurrent",
    "LNLSTMStack",
    "lnlstm_loop",
    "LSTMCell",
    "GRUCell",
    "RNNCell",
    "lstm_step",
    "gru_step",
    "rnn_step",
    "to_torch_state_dict",
    "load_torch_state_dict",
    "layer_params",
    "set_layer_params",
    "from_keras_lstm",
    "to_keras_lstm",
    "from_keras_gru",
    "to_keras_gru",
]
