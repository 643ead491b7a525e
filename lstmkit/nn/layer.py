r"""A batch-first, stateless multi-layer recurrent layer with two engines and one set of weights.

:class:`Recurrent` owns a ``torch.nn.LSTM / GRU / RNN`` (``batch_first=True``) as its submodule
``rnn``. The fast path simply calls it; the transcribed path (:mod:`lstmkit.nn.cells`) reads the
same parameters ``rnn.weight_ih_l{k}``, ... (and ``..._reverse`` for the backward direction of a
bidirectional layer). So both engines always see the same weights, and a checkpoint does not
depend on the engine. The LayerNorm LSTM (``cell="lnlstm"``, :mod:`lstmkit.nn.lnlstm`) has no
``torch.nn`` counterpart: its ``rnn`` is an :class:`~lstmkit.nn.lnlstm.LNLSTMStack` holding its
parameters, and it always runs its own loop.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.core.errors import expected, shape_str
from lstmkit.core.validate import positive_int
from lstmkit.nn.cells import (
    ACTIVATIONS,
    GATE_NAMES,
    NUM_GATES,
    _gru_core,
    _lstm_core,
    _rnn_core,
    activation_fn,
)
from lstmkit.nn.lnlstm import LNLSTMStack

CELLS = ("lstm", "gru", "rnn", "lnlstm")
ENGINES = ("auto", "torch", "cells")
_NAMES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN", "lnlstm": "LNLSTM"}
_GATE_NAMES = dict(GATE_NAMES, lnlstm=GATE_NAMES["lstm"])


def _dtype_str(dtype) -> str:
    return str(dtype).replace("torch.", "")


def _check_rate(name: str, what: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v < 1.0:
        raise expected(name, f"{what} in [0, 1)", repr(v))
    return float(v)


class Recurrent(nn.Module):
    r"""Multi-layer LSTM / LayerNorm LSTM / GRU / Elman RNN, batch-first, optionally
    bidirectional, state passed in and out explicitly.

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
    ``cell="lnlstm"`` (Ba et al. 2016, tanh only): the gate pre-activations are
    :math:`\mathrm{LN}_{ih}(W_{ih} x_t) + \mathrm{LN}_{hh}(W_{hh} h_{t-1}) + b` and
    :math:`h_t = o_t \odot \tanh(\mathrm{LN}_c(c_t))`; see :mod:`lstmkit.nn.lnlstm`.

    Bidirectional (``bidirectional=True``, D = 2): each layer also runs a second cell with its
    own weights backwards in time, :math:`\overleftarrow{h}_t = \mathrm{cell}(x_t,
    \overleftarrow{h}_{t+1})`, and outputs :math:`[h_t \,|\, \overleftarrow{h}_t]` (2H); the
    input of layer :math:`k \ge 1` is then 2H wide. Otherwise D = 1.

    Dropout (training mode only; identity in eval mode; rescaled by 1/(1-p)):

    * ``input_dropout``: on ``x`` before the first layer, element-wise, a new mask per step.
    * ``dropout``: on the outputs of every layer but the last (as ``torch.nn.LSTM``).
    * ``recurrent_dropout``: variational (Gal & Ghahramani 2016): one (B, H) mask per layer and
      direction, drawn once per forward call, multiplies :math:`h_{t-1}` where it enters
      :math:`W_{hh} h_{t-1}`, the same mask at every step of the sequence (the state carried
      to the next step, the outputs and the GRU's :math:`z_t \odot h_{t-1}` are not masked).
      ``torch.nn.*`` cannot do this, so in training mode it runs the transcribed cells.
      The masks are drawn after ``input_dropout``'s, in the order of the state's rows, with
      ``bernoulli_(1 - p)`` on a (B, H) tensor of the parameters' dtype, divided by 1 - p.

    Args:
        cell: ``"lstm"``, ``"gru"``, ``"rnn"`` or ``"lnlstm"``.
        input_size: F, the number of features of ``x``.
        hidden_size: H, the number of features of ``h`` (and ``c``).
        num_layers: L, the number of stacked layers. Default: 1.
        dropout: dropout between layers (on the outputs of all layers but the last).
        activation: ``"tanh"`` or ``"relu"``; Keras-style for lstm/gru (replaces the tanh on the
            candidate, and for the LSTM on the cell output; gates stay sigmoid), torch's
            ``nonlinearity`` for rnn; lnlstm is tanh only.
        engine: ``"auto"`` runs ``torch.nn.*`` unless only the transcribed cells can do what is
            asked (relu for lstm/gru, ``return_gates=True``, ``recurrent_dropout`` in training
            mode); ``"cells"`` always uses the transcribed cells; ``"torch"`` always uses
            ``torch.nn.*`` (an error if impossible). lnlstm always runs its own loop.
        bidirectional: D = 2 directions per layer. Default: False.
        input_dropout: dropout on ``x``. Default: 0.
        recurrent_dropout: variational dropout on :math:`h_{t-1}` into :math:`W_{hh}`. Default: 0.
        device, dtype: keyword-only, passed to the parameters (float32 and float64 both work).

    Inputs: ``forward(x, state=None, return_gates=False)``
        * ``x``: (B, T, F).
        * ``state``: ``h0`` (L·D, B, H) for rnn/gru, ``(h0, c0)`` each (L·D, B, H) for
          lstm/lnlstm, rows [l0, l0 reverse, l1, ...] as torch; ``None`` means zeros. State
          is never stored on the module.

    Outputs: ``(outputs, final_state)`` or ``(outputs, final_state, gates)``
        * ``outputs``: (B, T, D·H), ``h_t`` of the last layer ([forward | backward] for D = 2).
        * ``final_state``: ``h_n`` (L·D, B, H), or ``(h_n, c_n)`` each (L·D, B, H) for
          lstm/lnlstm (the backward direction's final state is the one after step 1).
        * ``gates`` (``return_gates=True``): list of L dicts name -> (B, T, D·H) tensor, names
          ``i f g o c h`` (lstm, lnlstm), ``r z n h`` (gru), ``h`` (rnn); values before
          dropout; for D = 2 both directions concatenated like the outputs.

    Weights (parameters of the submodule ``rnn``, so ``state_dict`` keys are
    ``rnn.weight_ih_l{k}``, ``rnn.weight_hh_l{k}``, ``rnn.bias_ih_l{k}``, ``rnn.bias_hh_l{k}``,
    exactly the keys of ``torch.nn.LSTM/GRU/RNN`` with the prefix ``rnn.``, and the same with
    ``_reverse`` appended for the backward direction):
        * ``weight_ih_l{k}``: (G·H, F) for k = 0, (G·H, D·H) above: W_ii|W_if|W_ig|W_io (lstm,
          G = 4), W_ir|W_iz|W_in (gru, G = 3), W_ih (rnn, G = 1), stacked by rows.
        * ``weight_hh_l{k}``: (G·H, H), W_hi|W_hf|W_hg|W_ho, W_hr|W_hz|W_hn, W_hh.
        * ``bias_ih_l{k}``, ``bias_hh_l{k}``: (G·H,), same block order.
        Initialised as torch does: U(-1/sqrt(H), 1/sqrt(H)). lnlstm: ``rnn.weight_ih_l{k}``,
        ``rnn.weight_hh_l{k}``, ``rnn.bias_l{k}``, ``rnn.ln_{ih,hh,c}_{weight,bias}_l{k}``
        (see :mod:`lstmkit.nn.lnlstm`).
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 dropout: float = 0.0, activation: str = "tanh", engine: str = "auto",
                 bidirectional: bool = False, input_dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, *, device=None, dtype=None):
        super().__init__()
        if cell not in CELLS:
            raise expected("Recurrent", 'cell "lstm", "gru", "rnn" or "lnlstm"', repr(cell))
        name = _NAMES[cell]
        for what, v in (("input_size", input_size), ("hidden_size", hidden_size),
                        ("num_layers", num_layers)):
            positive_int(name, what, v)
        dropout = _check_rate(name, "dropout", dropout)
        input_dropout = _check_rate(name, "input_dropout", input_dropout)
        recurrent_dropout = _check_rate(name, "recurrent_dropout", recurrent_dropout)
        if not isinstance(bidirectional, bool):
            raise expected(name, "bidirectional True or False", repr(bidirectional))
        if activation not in ACTIVATIONS:
            raise expected(name, 'activation "tanh" or "relu"', repr(activation))
        if engine not in ENGINES:
            raise expected(name, 'engine "auto", "torch" or "cells"', repr(engine))
        if cell == "lnlstm" and activation != "tanh":
            raise expected(name, 'activation "tanh" (the LayerNorm LSTM is tanh only)',
                           repr(activation))
        if engine == "torch" and cell == "lnlstm":
            raise expected(name, 'engine "auto" or "cells" (torch.nn has no LayerNorm LSTM)',
                           repr(engine))
        if engine == "torch" and activation != "tanh" and cell != "rnn":
            raise expected(
                name, f'activation="tanh" with engine="torch" (torch.nn.{name} has no '
                f'{activation} activation; use engine="auto" or "cells")',
                f"activation={activation!r}")
        if engine == "torch" and recurrent_dropout:
            raise expected(name, 'recurrent_dropout=0 with engine="torch" (torch.nn cannot '
                           'mask h_{t-1}; use engine="auto" or "cells")',
                           f"recurrent_dropout={recurrent_dropout}")
        self.cell, self.name = cell, name
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.dropout, self.activation, self.engine = dropout, activation, engine
        self.bidirectional, self.num_directions = bidirectional, 2 if bidirectional else 1
        self.input_dropout, self.recurrent_dropout = input_dropout, recurrent_dropout
        self.gate_names = _GATE_NAMES[cell]
        self.num_gates = 4 if cell == "lnlstm" else NUM_GATES[cell]
        kw = dict(num_layers=num_layers, bidirectional=bidirectional, device=device, dtype=dtype)
        if cell == "lnlstm":
            self.rnn = LNLSTMStack(input_size, hidden_size, **kw)
            return
        kw.update(batch_first=True, dropout=dropout if num_layers > 1 else 0.0)  # torch warns
        if cell == "lstm":                                                      # if L = 1
            self.rnn = nn.LSTM(input_size, hidden_size, **kw)
        elif cell == "gru":
            self.rnn = nn.GRU(input_size, hidden_size, **kw)
        else:
            self.rnn = nn.RNN(input_size, hidden_size, nonlinearity=activation, **kw)

    def extra_repr(self) -> str:
        s = f"{self.cell!r}, {self.input_size}, {self.hidden_size}, num_layers={self.num_layers}"
        if self.bidirectional:
            s += ", bidirectional=True"
        for what in ("dropout", "input_dropout", "recurrent_dropout"):
            if getattr(self, what):
                s += f", {what}={getattr(self, what)}"
        if self.activation != "tanh":
            s += f", activation={self.activation!r}"
        if self.engine != "auto":
            s += f", engine={self.engine!r}"
        return s

    def weights(self, k: int, reverse: bool = False):
        """Live parameters of layer ``k`` (its backward direction if ``reverse``):
        ``(weight_ih, weight_hh, bias_ih, bias_hh)``. lstm/gru/rnn only."""
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < self.num_layers:
            raise expected(self.name, f"layer index in [0, {self.num_layers})", repr(k))
        if reverse and not self.bidirectional:
            raise expected(self.name, "reverse=False for a unidirectional layer", "reverse=True")
        if self.cell == "lnlstm":
            raise expected(self.name, 'weights() of cell "lstm", "gru" or "rnn" (LNLSTM '
                           "parameters: layer.rnn.params(k, reverse))", repr(self.cell))
        r, sfx = self.rnn, "_reverse" if reverse else ""
        return tuple(getattr(r, f"{p}_l{k}{sfx}")
                     for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def uses_cells(self, return_gates: bool = False) -> bool:
        """Whether ``forward(..., return_gates)`` runs the transcribed cells (in the module's
        current training / eval mode)."""
        if self.cell == "lnlstm":
            return True
        if self.engine != "auto":
            return self.engine == "cells"
        return (return_gates or (self.cell != "rnn" and self.activation != "tanh")
                or (self.training and self.recurrent_dropout > 0))

    # --- input validation -----------------------------------------------------------------

    def _check(self, x, state):
        """Validate ``x`` and ``state``; return the state as (L·D, B, H) tensors (or zeros)."""
        name, F_, H = self.name, self.input_size, self.hidden_size
        LD = self.num_layers * self.num_directions
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
        pair = self.cell in ("lstm", "lnlstm")
        if state is None:
            z = x.new_zeros(LD, B, H)
            return (z, z) if pair else (z,)
        if pair:
            if not isinstance(state, (tuple, list)) or len(state) != 2:
                raise expected(name, "state (h0, c0)", type(state).__name__)
            parts = tuple(state)
        else:
            parts = (state,)
        rows = f"L={LD}" if self.num_directions == 1 else f"L*2={LD}"
        for sname, s in zip(("h0", "c0")[: len(parts)], parts, strict=True):
            swant = f"{sname} of shape ({rows}, B={B}, H={H})"
            if not isinstance(s, Tensor):
                raise expected(name, f"{swant} as a torch.Tensor", type(s).__name__)
            if tuple(s.shape) != (LD, B, H):
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
        if self.training and self.input_dropout > 0:
            x = F.dropout(x, self.input_dropout, training=True)  # (B, T, F)
        if self.uses_cells(return_gates):
            masks = self.recurrent_masks(x.shape[0], x)
            return self._forward_cells(x, parts, masks, return_gates)
        out, final = self.rnn(x, parts if self.cell == "lstm" else parts[0])  # (B, T, D*H)
        return out, final

    def recurrent_masks(self, batch: int, like: Tensor):
        """The variational recurrent-dropout masks of one forward call: a list of L·D (B, H)
        tensors (rows of the state), entries 0 or 1/(1-p); None when not training or p = 0."""
        p = self.recurrent_dropout
        if not (self.training and p > 0):
            return None
        return [like.new_empty(batch, self.hidden_size).bernoulli_(1 - p).div_(1 - p)
                for _ in range(self.num_layers * self.num_directions)]

    def _forward_cells(self, x: Tensor, parts, masks, return_gates: bool):
        D, pair = self.num_directions, self.cell in ("lstm", "lnlstm")
        inp = x  # (B, T, F) for layer 0, (B, T, D*H) above
        h_n, c_n, traces = [], [], []
        for k in range(self.num_layers):
            outs, gates = [], []
            for d in range(D):
                j = k * D + d  # row of the (L*D, B, H) state
                h, c = parts[0][j], parts[1][j] if pair else None
                mask = None if masks is None else masks[j]
                out, h, c, g = self._direction(k, d == 1, inp, h, c, mask, return_gates)
                outs.append(out)  # (T, B, H), in time order for both directions
                gates.append(g)
                h_n.append(h)
                c_n.append(c)
            out = torch.cat(outs, dim=2) if D == 2 else outs[0]  # (T, B, D*H)
            if return_gates:
                traces.append({n: torch.cat([g[n] for g in gates], dim=2)  # (B, T, D*H)
                               for n in self.gate_names} if D == 2 else gates[0])
            if k < self.num_layers - 1 and self.dropout > 0 and self.training:
                out = F.dropout(out, self.dropout, training=True)  # same draw order as torch
            inp = out.transpose(0, 1)  # (B, T, D*H)
        h_n = torch.stack(h_n, dim=0)  # (L*D, B, H)
        final = (h_n, torch.stack(c_n, dim=0)) if pair else h_n
        out = inp.contiguous()  # (B, T, D*H)
        if return_gates:
            return out, final, traces
        return out, final

    def _direction(self, k: int, reverse: bool, inp: Tensor, h: Tensor, c, mask,
                   return_gates: bool):
        """One direction of layer ``k`` over ``inp`` (B, T, F_k), from state ``h`` (``c``) (B, H).

        Returns ``(outputs (T, B, H) in time order, h_T, c_T, gates dict or None)``;
        ``mask`` (B, H) or None multiplies h_{t-1} where it enters W_hh h_{t-1}.
        """
        if self.cell == "lnlstm":
            return self.rnn.run(k, reverse, inp, h, c, mask, return_gates)
        act = activation_fn(self.activation, self.name)
        w_ih, w_hh, b_ih, b_hh = self.weights(k, reverse)
        gi = F.linear(inp, w_ih, b_ih)  # (B, T, G*H): input projection of all steps at once
        # unbind, not gi[:, t]: its backward is one stack, where T selects would each fill a
        # zero (B, T, G*H) gradient (O(T^2) time).
        gis = gi.unbind(1)  # T x (B, G*H)
        T = inp.shape[1]
        outs, gates = [], []
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            hm = h if mask is None else h * mask  # what W_hh reads (variational dropout)
            if self.cell == "lstm":
                h, c, g = _lstm_core(gis[t], hm, c, w_hh, b_hh, act)
                g = g + (c, h)
            elif self.cell == "gru":
                h, g = _gru_core(gis[t], h, w_hh, b_hh, act, hm)
                g = g + (h,)
            else:
                h = _rnn_core(gis[t], hm, w_hh, b_hh, act)
                g = (h,)
            outs.append(h)
            if return_gates:
                gates.append(g)
        if reverse:
            outs.reverse()
            gates.reverse()
        out = torch.stack(outs, dim=0)  # (T, B, H), time-major as torch's kernels
        if not return_gates:
            return out, h, c, None
        per_name = zip(*gates, strict=True)  # gate -> its T values
        traces = {n: torch.stack(v, dim=1)  # (B, T, H)
                  for n, v in zip(self.gate_names, per_name, strict=True)}
        return out, h, c, traces
