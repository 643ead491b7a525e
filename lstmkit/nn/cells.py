r"""Recurrent cells transcribed from the equations, one time step at a time.

The same equations as the NumPy reference (:mod:`lstmkit.ref`), written with torch ops so
autograd differentiates them. The parameter layout is exactly torch's
(``torch.nn.LSTMCell/GRUCell/RNNCell``), so weights move between the three implementations
without any reordering.

Each cell exists twice:

* a functional step, ``lstm_step / gru_step / rnn_step(x_t, state, weight_ih, weight_hh,
  bias_ih=None, bias_hh=None, activation="tanh", return_gates=False)``; with
  ``return_gates=True`` it returns ``(new_state, gates)`` where ``gates`` is a dict of
  (B, H) tensors (LSTM ``i f g o c h``, GRU ``r z n h``, RNN ``h``);
* a thin :class:`torch.nn.Module` (:class:`LSTMCell`, :class:`GRUCell`, :class:`RNNCell`)
  with torch's parameter names ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``.

``activation`` is Keras-style: for the LSTM it replaces the tanh on the candidate ``g`` and on
the cell output; for the GRU the tanh on the candidate ``n``; for the plain RNN it is the
nonlinearity. The gates ``i, f, o, r, z`` are always sigmoids.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.core.errors import expected, shape_str
from lstmkit.core.validate import positive_int

ACTIVATIONS = ("tanh", "relu")
GATE_NAMES = {
    "lstm": ("i", "f", "g", "o", "c", "h"),
    "gru": ("r", "z", "n", "h"),
    "rnn": ("h",),
}
NUM_GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def activation_fn(activation: str, component: str = "cell"):
    """``torch.tanh`` or ``torch.relu`` for the name ``"tanh"`` / ``"relu"``."""
    if activation == "tanh":
        return torch.tanh
    if activation == "relu":
        return torch.relu
    raise expected(component, 'activation "tanh" or "relu"', repr(activation))


# --- cores: the equations, given the input projection gi = W_ih x_t + b_ih -----------------
# The layer computes gi for all time steps in one matmul and then calls these per step.


def _lstm_core(gi: Tensor, h: Tensor, c: Tensor, weight_hh: Tensor, bias_hh, act):
    gates = gi + F.linear(h, weight_hh, bias_hh)  # (B, 4H), blocks i|f|g|o
    i, f, g, o = gates.chunk(4, dim=-1)  # each (B, H)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), act(g), torch.sigmoid(o)
    c = f * c + i * g
    h = o * act(c)
    return h, c, (i, f, g, o)


def _gru_core(gi: Tensor, h: Tensor, weight_hh: Tensor, bias_hh, act, h_in=None):
    # h_in: what W_hh reads instead of h (recurrent dropout); the update z*h uses h itself
    gh = F.linear(h if h_in is None else h_in, weight_hh, bias_hh)  # (B, 3H), blocks r|z|n
    i_r, i_z, i_n = gi.chunk(3, dim=-1)  # each (B, H)
    h_r, h_z, h_n = gh.chunk(3, dim=-1)  # each (B, H)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = act(i_n + r * h_n)  # reset applied after the hidden matmul (torch / Keras reset_after)
    h = (1 - z) * n + z * h
    return h, (r, z, n)


def _rnn_core(gi: Tensor, h: Tensor, weight_hh: Tensor, bias_hh, act):
    return act(gi + F.linear(h, weight_hh, bias_hh))  # (B, H)


# --- functional steps ---------------------------------------------------------------------


def lstm_step(x_t, state, weight_ih, weight_hh, bias_ih=None, bias_hh=None,
              activation="tanh", return_gates=False):
    r"""One LSTM step.

    .. math::
        \begin{array}{ll}
            i = \sigma(W_{ii} x + b_{ii} + W_{hi} h + b_{hi}) \\
            f = \sigma(W_{if} x + b_{if} + W_{hf} h + b_{hf}) \\
            g = \phi(W_{ig} x + b_{ig} + W_{hg} h + b_{hg}) \\
            o = \sigma(W_{io} x + b_{io} + W_{ho} h + b_{ho}) \\
            c' = f \odot c + i \odot g \\
            h' = o \odot \phi(c') \\
        \end{array}

    with :math:`\phi` = ``activation`` (tanh, or relu as in Keras ``LSTM(activation='relu')``).

    Inputs: ``x_t`` (B, F); ``state`` = ``(h, c)`` each (B, H).
    Outputs: ``(h', c')`` each (B, H); with ``return_gates=True`` ``((h', c'), gates)``,
    ``gates`` = dict ``i, f, g, o, c, h`` of (B, H) tensors (``c``, ``h`` are ``c'``, ``h'``).

    Weights: ``weight_ih`` (4H, F) = W_ii|W_if|W_ig|W_io stacked by rows, ``weight_hh`` (4H, H)
    = W_hi|W_hf|W_hg|W_ho, ``bias_ih`` / ``bias_hh`` (4H,) in the same order (or ``None``).
    """
    act = activation_fn(activation, "LSTM")
    h, c = state
    gi = F.linear(x_t, weight_ih, bias_ih)  # (B, 4H)
    h, c, (i, f, g, o) = _lstm_core(gi, h, c, weight_hh, bias_hh, act)
    if return_gates:
        return (h, c), {"i": i, "f": f, "g": g, "o": o, "c": c, "h": h}
    return h, c


def gru_step(x_t, state, weight_ih, weight_hh, bias_ih=None, bias_hh=None,
             activation="tanh", return_gates=False):
    r"""One GRU step (torch's formulation: reset applied after the hidden matmul).

    .. math::
        \begin{array}{ll}
            r = \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}) \\
            z = \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}) \\
            n = \phi(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})) \\
            h' = (1 - z) \odot n + z \odot h \\
        \end{array}

    with :math:`\phi` = ``activation`` (tanh or relu). This is Keras' ``GRU(reset_after=True)``.

    Inputs: ``x_t`` (B, F); ``state`` = ``h`` (B, H).
    Outputs: ``h'`` (B, H); with ``return_gates=True`` ``(h', gates)``, ``gates`` = dict
    ``r, z, n, h`` of (B, H) tensors.

    Weights: ``weight_ih`` (3H, F) = W_ir|W_iz|W_in, ``weight_hh`` (3H, H) = W_hr|W_hz|W_hn,
    ``bias_ih`` / ``bias_hh`` (3H,) in the same order (or ``None``).
    """
    act = activation_fn(activation, "GRU")
    gi = F.linear(x_t, weight_ih, bias_ih)  # (B, 3H)
    h, (r, z, n) = _gru_core(gi, state, weight_hh, bias_hh, act)
    if return_gates:
        return h, {"r": r, "z": z, "n": n, "h": h}
    return h


def rnn_step(x_t, state, weight_ih, weight_hh, bias_ih=None, bias_hh=None,
             activation="tanh", return_gates=False):
    r"""One Elman RNN step: :math:`h' = \phi(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})`.

    :math:`\phi` = ``activation`` (torch's ``nonlinearity``): tanh or relu.

    Inputs: ``x_t`` (B, F); ``state`` = ``h`` (B, H).
    Outputs: ``h'`` (B, H); with ``return_gates=True`` ``(h', {"h": h'})``.

    Weights: ``weight_ih`` (H, F), ``weight_hh`` (H, H), ``bias_ih`` / ``bias_hh`` (H,) or ``None``.
    """
    act = activation_fn(activation, "RNN")
    gi = F.linear(x_t, weight_ih, bias_ih)  # (B, H)
    h = _rnn_core(gi, state, weight_hh, bias_hh, act)
    if return_gates:
        return h, {"h": h}
    return h


# --- modules ------------------------------------------------------------------------------


class _CellBase(nn.Module):
    cell = ""
    _name = ""
    _step = None

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 activation: str = "tanh", device=None, dtype=None):
        super().__init__()
        for what, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            positive_int(self._name, what, v)
        activation_fn(activation, self._name)
        self.input_size, self.hidden_size = input_size, hidden_size
        self.bias, self.activation = bool(bias), activation
        G, kw = NUM_GATES[self.cell], {"device": device, "dtype": dtype}
        self.weight_ih = nn.Parameter(torch.empty(G * hidden_size, input_size, **kw))
        self.weight_hh = nn.Parameter(torch.empty(G * hidden_size, hidden_size, **kw))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(G * hidden_size, **kw))
            self.bias_hh = nn.Parameter(torch.empty(G * hidden_size, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's init: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.activation != "tanh":
            s += f", activation={self.activation!r}"
        return s

    def _check(self, x, state):
        F_, H = self.input_size, self.hidden_size
        if not isinstance(x, Tensor) or x.dim() != 2 or x.shape[1] != F_:
            got = shape_str(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise expected(self._name, f"x of shape (B, F={F_})", got)
        B = x.shape[0]
        names = ("h", "c") if self.cell == "lstm" else ("h",)
        if state is None:
            z = x.new_zeros(B, H)
            return (z, z) if self.cell == "lstm" else z
        parts = state if self.cell == "lstm" else (state,)
        if self.cell == "lstm" and (not isinstance(state, (tuple, list)) or len(state) != 2):
            raise expected(self._name, "state (h, c)", type(state).__name__)
        for name, s in zip(names, parts, strict=True):
            if not isinstance(s, Tensor) or tuple(s.shape) != (B, H):
                got = shape_str(s.shape) if isinstance(s, Tensor) else type(s).__name__
                raise expected(self._name, f"{name} of shape (B={B}, H={H})", got)
        return state

    def forward(self, x: Tensor, state=None, return_gates: bool = False):
        """``x`` (B, F), ``state`` (see the step function) -> new state [, gates]."""
        state = self._check(x, state)
        return type(self)._step(x, state, self.weight_ih, self.weight_hh, self.bias_ih,
                                self.bias_hh, self.activation, return_gates)


class LSTMCell(_CellBase):
    """``torch.nn.LSTMCell`` with an ``activation`` option and gate output; see
    :func:`lstm_step`. ``forward(x (B, F), state=(h, c) or None, return_gates=False)``
    -> ``(h, c)`` each (B, H) [, gates]. Parameters ``weight_ih`` (4H, F), ``weight_hh`` (4H, H),
    ``bias_ih``, ``bias_hh`` (4H,), gate blocks i|f|g|o."""

    cell, _name, _step = "lstm", "LSTMCell", lstm_step


class GRUCell(_CellBase):
    """``torch.nn.GRUCell`` with an ``activation`` option and gate output; see :func:`gru_step`.
    ``forward(x (B, F), state=h or None, return_gates=False)`` -> ``h`` (B, H) [, gates].
    Parameters ``weight_ih`` (3H, F), ``weight_hh`` (3H, H), ``bias_ih``, ``bias_hh`` (3H,),
    gate blocks r|z|n."""

    cell, _name, _step = "gru", "GRUCell", gru_step


class RNNCell(_CellBase):
    """``torch.nn.RNNCell``; ``activation`` is torch's ``nonlinearity`` (tanh|relu); see
    :func:`rnn_step`. ``forward(x (B, F), state=h or None, return_gates=False)`` -> ``h`` (B, H)
    [, gates]. Parameters ``weight_ih`` (H, F), ``weight_hh`` (H, H), ``bias_ih``, ``bias_hh``."""

    cell, _name, _step = "rnn", "RNNCell", rnn_step
