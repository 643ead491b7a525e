r"""A batch-first, stateless multi-layer recurrent layer with two engines and one set of weights.

:class:`Recurrent` owns a ``torch.nn.LSTM / GRU / RNN`` (``batch_first=True``) as its submodule
``rnn``. The fast path simply calls it; the transcribed path (:mod:`lstmkit.nn.cells`) reads the
same parameters ``rnn.weight_ih_l{k}``, ... So both engines always see the same weights, and a
checkpoint does not depend on the engine.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.errors import expected, shape_str
from lstmkit.nn.cells import (
    ACTIVATIONS,
    GATE_NAMES,
    NUM_GATES,
    _gru_core,
    _lstm_core,
    _rnn_core,
    activation_fn,
)

CELLS = ("lstm", "gru", "rnn")
ENGINES = ("auto", "torch", "cells")
_NAMES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


def _dtype_str(dtype) -> str:
    return str(dtype).replace("torch.", "")


class Recurrent(nn.Module):
    r"""Multi-layer LSTM / GRU / Elman RNN, batch-first, state passed in and out explicitly.

    For each layer and time step (``cell="lstm"``; :math:`\phi` = ``activation``):

    .. math::
        \begin{array}{ll}
            i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) \\
            f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) \\
            g_t = \phi(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \\
            o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) \\
            c_t = f_t \odot c_{t-1} + i_t \odot g_t \\
            h_t = o_t \odot \phi(c_t) \\
        \end{array}

    ``cell="gru"``: :math:`r_t = \sigma(\cdot)`, :math:`z_t = \sigma(\cdot)`,
    :math:`n_t = \phi(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn}))`,
    :math:`h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}`.
    ``cell="rnn"``: :math:`h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})`.

    The input of layer :math:`k \ge 1` is the output :math:`h_t` of layer :math:`k-1`, passed
    through dropout with probability ``dropout`` in training mode (as ``torch.nn.LSTM``).

    Args:
        cell: ``"lstm"``, ``"gru"`` or ``"rnn"``.
        input_size: F, the number of features of ``x``.
        hidden_size: H, the number of features of ``h`` (and ``c``).
        num_layers: L, the number of stacked layers. Default: 1.
        dropout: dropout between layers (on the outputs of all layers but the last).
        activation: ``"tanh"`` or ``"relu"``; Keras-style for lstm/gru (replaces the tanh on the
            candidate, and for the LSTM on the cell output; gates stay sigmoid), torch's
            ``nonlinearity`` for rnn.
        engine: ``"auto"`` runs ``torch.nn.*`` unless only the transcribed cells can do what is
            asked (relu for lstm/gru, ``return_gates=True``); ``"cells"`` always uses the
            transcribed cells; ``"torch"`` always uses ``torch.nn.*`` (an error if impossible).
        device, dtype: keyword-only, passed to the parameters (float32 and float64 both work).

    Inputs: ``forward(x, state=None, return_gates=False)``
        * ``x``: (B, T, F).
        * ``state``: ``h0`` (L, B, H) for rnn/gru, ``(h0, c0)`` each (L, B, H) for lstm;
          ``None`` means zeros. State is never stored on the module.

    Outputs: ``(outputs, final_state)`` or ``(outputs, final_state, gates)``
        * ``outputs``: (B, T, H), ``h_t`` of the last layer.
        * ``final_state``: ``h_n`` (L, B, H), or ``(h_n, c_n)`` each (L, B, H) for lstm.
        * ``gates`` (``return_gates=True``): list of L dicts name -> (B, T, H) tensor, names
          ``i f g o c h`` (lstm), ``r z n h`` (gru), ``h`` (rnn); values before dropout.

    Weights (parameters of the submodule ``rnn``, so ``state_dict`` keys are
    ``rnn.weight_ih_l{k}``, ``rnn.weight_hh_l{k}``, ``rnn.bias_ih_l{k}``, ``rnn.bias_hh_l{k}``,
    exactly the keys of ``torch.nn.LSTM/GRU/RNN`` with the prefix ``rnn.``):
        * ``weight_ih_l{k}``: (G·H, F) for k = 0, (G·H, H) above: W_ii|W_if|W_ig|W_io (lstm,
          G = 4), W_ir|W_iz|W_in (gru, G = 3), W_ih (rnn, G = 1), stacked by rows.
        * ``weight_hh_l{k}``: (G·H, H), W_hi|W_hf|W_hg|W_ho, W_hr|W_hz|W_hn, W_hh.
        * ``bias_ih_l{k}``, ``bias_hh_l{k}``: (G·H,), same block order.
        Initialised as torch does: U(-1/sqrt(H), 1/sqrt(H)).
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 dropout: float = 0.0, activation: str = "tanh", engine: str = "auto",
                 *, device=None, dtype=None):
        super().__init__()
        if cell not in CELLS:
            raise expected("Recurrent", 'cell "lstm", "gru" or "rnn"', repr(cell))
        name = _NAMES[cell]
        for what, v in (("input_size", input_size), ("hidden_size", hidden_size),
                        ("num_layers", num_layers)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise expected(name, f"{what} a positive integer", repr(v))
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0.0 <= dropout < 1.0:
            raise expected(name, "dropout in [0, 1)", repr(dropout))
        if activation not in ACTIVATIONS:
            raise expected(name, 'activation "tanh" or "relu"', repr(activation))
        if engine not in ENGINES:
            raise expected(name, 'engine "auto", "torch" or "cells"', repr(engine))
        if engine == "torch" and activation != "tanh" and cell != "rnn":
            raise expected(
                name, f'activation="tanh" with engine="torch" (torch.nn.{name} has no '
                f'{activation} activation; use engine="auto" or "cells")',
                f"activation={activation!r}")
        self.cell, self.name = cell, name
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.dropout, self.activation, self.engine = float(dropout), activation, engine
        self.gate_names = GATE_NAMES[cell]
        self.num_gates = NUM_GATES[cell]
        kw = dict(num_layers=num_layers, batch_first=True, device=device, dtype=dtype,
                  dropout=self.dropout if num_layers > 1 else 0.0)  # torch warns if L=1
        if cell == "lstm":
            self.rnn = nn.LSTM(input_size, hidden_size, **kw)
        elif cell == "gru":
            self.rnn = nn.GRU(input_size, hidden_size, **kw)
        else:
            self.rnn = nn.RNN(input_size, hidden_size, nonlinearity=activation, **kw)

    def extra_repr(self) -> str:
        s = f"{self.cell!r}, {self.input_size}, {self.hidden_size}, num_layers={self.num_layers}"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.activation != "tanh":
            s += f", activation={self.activation!r}"
        if self.engine != "auto":
            s += f", engine={self.engine!r}"
        return s

    def weights(self, k: int):
        """Live parameters of layer ``k``: ``(weight_ih, weight_hh, bias_ih, bias_hh)``."""
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < self.num_layers:
            raise expected(self.name, f"layer index in [0, {self.num_layers})", repr(k))
        r = self.rnn
        return (getattr(r, f"weight_ih_l{k}"), getattr(r, f"weight_hh_l{k}"),
                getattr(r, f"bias_ih_l{k}"), getattr(r, f"bias_hh_l{k}"))

    def uses_cells(self, return_gates: bool = False) -> bool:
        """Whether ``forward(..., return_gates)`` runs the transcribed cells."""
        if self.engine != "auto":
            return self.engine == "cells"
        return return_gates or (self.cell != "rnn" and self.activation != "tanh")

    # --- input validation -----------------------------------------------------------------

    def _check(self, x, state):
        """Validate ``x`` and ``state``; return the state as (L, B, H) tensors (or zeros)."""
        name, F_, L, H = self.name, self.input_size, self.num_layers, self.hidden_size
        want = f"x of shape (B, T, F={F_})"
        if not isinstance(x, Tensor):
            raise expected(name, f"{want} as a torch.Tensor", type(x).__name__)
        if x.dim() != 3 or x.shape[2] != F_:
            raise expected(name, want, shape_str(x.shape))
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise expected(name, f"{want} with B, T >= 1", shape_str(x.shape))
        dtype = self.rnn.weight_ih_l0.dtype
        if x.dtype != dtype:
            raise expected(name, f"x of dtype {_dtype_str(dtype)} (the parameters' dtype)",
                           _dtype_str(x.dtype))
        B = x.shape[0]
        if state is None:
            z = x.new_zeros(L, B, H)
            return (z, z) if self.cell == "lstm" else (z,)
        if self.cell == "lstm":
            if not isinstance(state, (tuple, list)) or len(state) != 2:
                raise expected(name, "state (h0, c0)", type(state).__name__)
            parts = tuple(state)
        else:
            parts = (state,)
        for sname, s in zip(("h0", "c0")[: len(parts)], parts, strict=True):
            swant = f"{sname} of shape (L={L}, B={B}, H={H})"
            if not isinstance(s, Tensor):
                raise expected(name, f"{swant} as a torch.Tensor", type(s).__name__)
            if tuple(s.shape) != (L, B, H):
                raise expected(name, swant, shape_str(s.shape))
            if s.dtype != dtype:
                raise expected(name, f"{sname} of dtype {_dtype_str(dtype)}",
                               _dtype_str(s.dtype))
        return parts

    # --- forward ----------------------------------------------------------------------------

    def forward(self, x: Tensor, state=None, return_gates: bool = False):
        """``x`` (B, T, F), ``state`` or None -> ``(outputs, final_state[, gates])``."""
        parts = self._check(x, state)
        if self.engine == "torch" and return_gates:
            raise expected(self.name, 'return_gates=False with engine="torch" (gate traces '
                           'need the transcribed cells; use engine="auto" or "cells")',
                           "return_gates=True")
        if self.uses_cells(return_gates):
            return self._forward_cells(x, parts, return_gates)
        out, final = self.rnn(x, parts if self.cell == "lstm" else parts[0])  # (B, T, H)
        return out, final

    def _forward_cells(self, x: Tensor, parts, return_gates: bool):
        act = activation_fn(self.activation, self.name)
        T = x.shape[1]
        inp = x  # (B, T, F) for layer 0, (B, T, H) above
        h_n, c_n, traces = [], [], []
        for k in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = self.weights(k)
            gi = F.linear(inp, w_ih, b_ih)  # (B, T, G*H): input projection of all steps at once
            h = parts[0][k]  # (B, H)
            c = parts[1][k] if self.cell == "lstm" else None
            outs, gates = [], []
            for t in range(T):
                if self.cell == "lstm":
                    h, c, g = _lstm_core(gi[:, t], h, c, w_hh, b_hh, act)
                    g = g + (c, h)
                elif self.cell == "gru":
                    h, g = _gru_core(gi[:, t], h, w_hh, b_hh, act)
                    g = g + (h,)
                else:
                    h = _rnn_core(gi[:, t], h, w_hh, b_hh, act)
                    g = (h,)
                outs.append(h)
                if return_gates:
                    gates.append(g)
            out = torch.stack(outs, dim=0)  # (T, B, H), time-major as torch's kernels
            if return_gates:
                per_name = zip(*gates, strict=True)  # gate -> its T values
                traces.append({n: torch.stack(v, dim=1)  # (B, T, H)
                               for n, v in zip(self.gate_names, per_name, strict=True)})
            h_n.append(h)
            c_n.append(c)
            if k < self.num_layers - 1 and self.dropout > 0 and self.training:
                out = F.dropout(out, self.dropout, training=True)  # same draw order as torch
            inp = out.transpose(0, 1)  # (B, T, H)
        h_n = torch.stack(h_n, dim=0)  # (L, B, H)
        final = (h_n, torch.stack(c_n, dim=0)) if self.cell == "lstm" else h_n
        out = inp.contiguous()  # (B, T, H)
        if return_gates:
            return out, final, traces
        return out, final
