r"""Bidirectional wrapper for any reference cell (BiRNN, BiLSTM, BiGRU, BiLNLSTM).

Two independent cells read the same sequence, one forwards and one backwards in time; the
output at step t is the concatenation of both::

    →h_t = cell_fw(x_t, →h_{t-1})          t = 1 .. T       (the cell's own equations)
    ←h_t = cell_bw(x_t, ←h_{t+1})          t = T .. 1       (the same equations, time reversed)
    y_t  = [→h_t | ←h_t]                   (2H)

so ←h is computed by running ``cell_bw`` over the time-reversed x and reversing its outputs
back. This is ``torch.nn.LSTM/GRU/RNN(bidirectional=True)`` for one layer: ``params_fw`` are
the ``*_l0`` parameters, ``params_bw`` the ``*_l0_reverse`` ones.

Shapes (batch first; for lstm and lnlstm every state item is the pair (h, c))::

    x            (B, T, F)
    state        h_0 (2, B, H), or (h_0, c_0) each (2, B, H); row 0 forward, row 1 backward;
                 None means zeros
    outputs      (B, T, 2H)    [→h_t | ←h_t]
    final_state  like state: row 0 →h_T (after the last step), row 1 ←h_1 (after the backward
                 direction's last step, which is time step 1)

A stack of L bidirectional layers concatenates the per-layer states along axis 0 into
(L·2, B, H), ordered [l0 fw, l0 bw, l1 fw, ...]: torch's ``h_n``. Layer k > 0 reads the
(B, T, 2H) outputs of layer k - 1.

The backward pass is the two cells' own backward passes: ∂L/∂y splits into its two halves,
the backward half is time-reversed like its forward, and ∂L/∂x is the sum of both directions'
(the backward direction's re-reversed).
"""

from __future__ import annotations

import importlib
from types import ModuleType

import numpy as np

from lstmkit.core.errors import expected, shape_str
from lstmkit.ref._common import check_pair

NAME = "Bidirectional"
CELL_NAMES = ("rnn", "lstm", "gru", "lnlstm")


def cell_module(module) -> ModuleType:
    """``lstmkit.ref.lstm`` (etc.) from the module itself or its name."""
    if isinstance(module, ModuleType) and hasattr(module, "forward") \
            and hasattr(module, "STATE_NAMES"):
        return module
    if isinstance(module, str) and module.lower() in CELL_NAMES:
        return importlib.import_module(f"lstmkit.ref.{module.lower()}")
    raise expected(NAME, "a cell module lstmkit.ref.rnn, lstm, gru or lnlstm (or its name)",
                   repr(module))


def _split_state(mod, state):
    """(2, B, H) state (or a pair of them) -> (state_fw, state_bw) in the cell's format."""
    if state is None:
        return None, None
    pair = len(mod.STATE_NAMES) == 2
    parts = check_pair(NAME, "state", state) if pair else (state,)
    arrays = []
    for name, s in zip(mod.STATE_NAMES, parts, strict=True):
        if s is None:  # a None part (zeros) stays None in both directions
            arrays.append((None, None))
            continue
        s = np.asarray(s)
        if s.ndim != 3 or s.shape[0] != 2:
            raise expected(NAME, f"{name} of shape (2, B, H)", shape_str(s.shape))
        arrays.append(s)
    if pair:
        return (arrays[0][0], arrays[1][0]), (arrays[0][1], arrays[1][1])
    return arrays[0][0], arrays[0][1]


def _stack_state(mod, fw, bw):
    """(state_fw, state_bw) in the cell's format -> (2, B, H) (or a pair of them)."""
    if len(mod.STATE_NAMES) == 2:
        return np.stack([fw[0], bw[0]]), np.stack([fw[1], bw[1]])
    return np.stack([fw, bw])


def forward(module, params_fw, params_bw, x, state=None, **kw):
    """Run both directions over ``x``; return ``(outputs (B, T, 2H), final_state, cache)``.

    ``module``: ``lstmkit.ref.lstm``, ``gru``, ``rnn`` or ``lnlstm`` (or the name);
    ``params_fw``, ``params_bw``: that module's params; ``state``: see the module docstring;
    ``kw`` go to both directions' ``forward`` (e.g. ``activation="relu"``).
    """
    mod = cell_module(module)
    s_fw, s_bw = _split_state(mod, state)
    x = np.asarray(x)
    if x.ndim != 3:
        raise expected(NAME, "x of shape (B, T, F)", shape_str(x.shape))
    y_fw, fin_fw, cache_fw = mod.forward(params_fw, x, s_fw, **kw)          # (B, T, H)
    y_bw, fin_bw, cache_bw = mod.forward(params_bw, x[:, ::-1], s_bw, **kw)  # (B, T, H) reversed
    outputs = np.concatenate([y_fw, y_bw[:, ::-1]], axis=2)                  # (B, T, 2H)
    H = y_fw.shape[2]
    cache = {"mod": mod, "H": H, "fw": cache_fw, "bw": cache_bw, "shape": outputs.shape}
    return outputs, _stack_state(mod, fin_fw, fin_bw), cache


def backward(cache, d_outputs=None, d_final_state=None):
    """Backpropagate both directions; return ``(d_x, (d_params_fw, d_params_bw), d_state0)``.

    ``d_outputs``: (B, T, 2H) or None for zeros; ``d_final_state``: like ``state`` (each part
    (2, B, H)), or None for zeros; ``d_state0`` has the format of ``state``.
    """
    mod, H, (B, T, H2) = cache["mod"], cache["H"], cache["shape"]
    if d_outputs is None:
        d_fw = d_bw = None
    else:
        d_outputs = np.asarray(d_outputs)
        if d_outputs.shape != (B, T, H2):
            raise expected(NAME, f"d_outputs of shape (B={B}, T={T}, 2H={H2})",
                           shape_str(d_outputs.shape))
        d_fw = d_outputs[:, :, :H]                               # undo the concatenation
        d_bw = d_outputs[:, ::-1, H:]                            # and the re-reversal
    ds_fw, ds_bw = _split_state(mod, d_final_state)
    dx_fw, dp_fw, d0_fw = mod.backward(cache["fw"], d_fw, ds_fw)
    dx_bw, dp_bw, d0_bw = mod.backward(cache["bw"], d_bw, ds_bw)
    d_x = dx_fw + dx_bw[:, ::-1]                                 # undo x[:, ::-1]; x feeds both
    return d_x, (dp_fw, dp_bw), _stack_state(mod, d0_fw, d0_bw)
