r"""Gate traces: every gate, the cell state and the hidden state, per layer and per step.

:func:`trace` runs the transcribed cells (:mod:`lstmkit.nn.cells`) on the model's own weights,
so the values are exactly those of the fast path's forward (the tests check ``h`` and ``c``
against ``torch.nn.LSTM/GRU/RNN`` in float64). For each layer it returns (B, T, H) arrays:

* LSTM: input gate ``i``, forget gate ``f``, candidate ``g`` (C̃), output gate ``o``, cell
  state ``c`` (C) and hidden state ``h``;
* GRU: reset gate ``r``, update gate ``z``, candidate ``n``, hidden state ``h``;
* simple RNN: hidden state ``h``.

Which models work (:func:`find_encoder`): a :class:`lstmkit.nn.Recurrent`; any torch module
with a ``Recurrent`` in one of the attributes :data:`ENCODER_ATTRS` (``encoder``, then
``recurrent``), e.g. the forecasters' ``RecurrentRegressor`` or a classifier or language
model built the same way; a fitted forecaster or classifier (its first seed's network,
``networks_[0]``). ``x`` is the *encoder's* input. A module that transforms its input
before the encoder (an embedding, a standardisation) defines ``encoder_input(x) -> Tensor``
and :func:`trace` calls it first, so raw inputs or token ids can be given directly; without
it, integer ``x`` goes through the module's ``embed`` (an ``nn.Embedding``) if it has one.
For forecasters ``x`` is in scaled units; :func:`forecaster_windows` windows raw data with
the forecaster's own scalers.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn

from lstmkit.core.errors import expected, shape_str
from lstmkit.nn import Recurrent

ENCODER_ATTRS = ("encoder", "recurrent")  # where trace / gradient_flow look for a Recurrent


@dataclass
class Trace:
    """Result of :func:`trace`.

    * ``cell``: ``"lstm"``, ``"gru"`` or ``"rnn"``; ``names``: the traced quantities in order
      (``i f g o c h`` / ``r z n h`` / ``h``).
    * ``layers``: one dict per layer, name -> (B, T, H) float64 array.
    * ``outputs``: (B, T, H) last layer's ``h`` (what the encoder returns).
    * ``final_state``: ``h_n`` (L, B, H), or ``(h_n, c_n)`` for the LSTM, as arrays.
    * ``labels``: optional time-axis labels (T,), e.g. characters or words.
    """

    cell: str
    names: tuple[str, ...]
    layers: list[dict[str, np.ndarray]]
    outputs: np.ndarray
    final_state: object
    labels: list[str] | None = field(default=None)

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    @property
    def steps(self) -> int:
        return int(self.outputs.shape[1])

    def sequence(self, b: int = 0, layer: int = 0) -> dict[str, np.ndarray]:
        """The traces of sequence ``b`` in ``layer``: name -> (T, H) array."""
        B = self.outputs.shape[0]
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or not -B <= b < B:
            raise expected("Trace", f"sequence index in [0, {B})", repr(b))
        if not isinstance(layer, (int, np.integer)) or not 0 <= layer < self.num_layers:
            raise expected("Trace", f"layer in [0, {self.num_layers})", repr(layer))
        return {n: v[b] for n, v in self.layers[layer].items()}


def find_encoder(model) -> tuple[nn.Module, Recurrent]:
    """``(module, encoder)`` for a ``Recurrent``, a module with a ``Recurrent`` attribute
    (:data:`ENCODER_ATTRS`) or a fitted forecaster (first seed's network); else an error."""
    if isinstance(model, Recurrent):
        return model, model
    nets = getattr(model, "networks_", None)
    if nets is not None:  # a fitted NeuralForecaster: first seed's network
        if not nets:
            raise expected("Introspect", "a fitted forecaster", "one without networks")
        model = nets[0]
    elif hasattr(model, "get_params") and not isinstance(model, nn.Module):
        raise expected("Introspect", "a fitted neural forecaster",
                       f"{type(model).__name__} without networks (unfitted or a baseline)")
    if isinstance(model, nn.Module):
        for attr in ENCODER_ATTRS:
            enc = getattr(model, attr, None)
            if isinstance(enc, Recurrent):
                return model, enc
    raise expected("Introspect", "a Recurrent, a module with a Recurrent `encoder` or "
                   "`recurrent` attribute, or a fitted recurrent forecaster",
                   type(model).__name__)


def encoder_inputs(module: nn.Module, encoder: Recurrent, x) -> Tensor:
    """``x`` -> (B, T, F) tensor for ``encoder``: ``module.encoder_input(x)`` if defined (else
    ``module.embed(x)`` for integer ``x`` and an ``nn.Embedding`` ``embed``), then as a tensor
    in the parameters' dtype; a (T, F) input (or (T,) ids) becomes one sequence."""
    hook = getattr(module, "encoder_input", None)
    embed = getattr(module, "embed", None)
    if isinstance(x, np.ndarray):
        x = torch.as_tensor(x)
    if module is not encoder and callable(hook):
        x = hook(x)
    elif isinstance(embed, nn.Embedding) and isinstance(x, Tensor) and not (
            x.is_floating_point() or x.is_complex()):
        x = embed(x if x.dim() == 2 else x.reshape(1, -1))  # (B, T, E)
    if not isinstance(x, Tensor):
        raise expected("Introspect", "x as a (B, T, F) array or tensor", type(x).__name__)
    if not x.is_floating_point():
        raise expected("Introspect", "real-valued x (token ids need a module with an "
                       "embedding)", f"dtype {str(x.dtype).replace('torch.', '')}")
    x = x.to(encoder.rnn.weight_ih_l0.dtype)
    if x.dim() == 2:
        x = x.unsqueeze(0)  # (1, T, F)
    if x.dim() != 3 or x.shape[2] != encoder.input_size:
        raise expected("Introspect", f"x of shape (B, T, F={encoder.input_size}) or (T, F)",
                       shape_str(x.shape))
    return x


@contextlib.contextmanager
def cells_engine(encoder: Recurrent):
    """Run ``encoder`` on its transcribed cells, in eval mode (no dropout), for a while."""
    engine, training = encoder.engine, encoder.training
    encoder.engine = "cells"
    encoder.eval()
    try:
        yield encoder
    finally:
        encoder.engine = engine
        encoder.train(training)


def _np(t: Tensor) -> np.ndarray:
    return t.detach().cpu().double().numpy()


@torch.no_grad()
def trace(model, x, state=None, labels=None) -> Trace:
    """Gates, cell state and hidden state of ``model``'s encoder on ``x``, per layer and step.

    Args:
        model: a ``Recurrent``, a module with a ``Recurrent`` encoder, or a fitted forecaster.
        x: the encoder's input, (B, T, F) or one sequence (T, F), array or tensor (converted
            to the parameters' dtype); for forecasters in scaled units.
        state: initial state as for ``Recurrent.forward`` (None: zeros).
        labels: optional (T,) labels of the time axis, kept on the result for plotting.
    """
    module, enc = find_encoder(model)
    x = encoder_inputs(module, enc, x)  # (B, T, F)
    if labels is not None:
        labels = [str(s) for s in labels]
        if len(labels) != x.shape[1]:
            raise expected("Trace", f"{x.shape[1]} time labels (one per step)", len(labels))
    with cells_engine(enc):
        out, final, gates = enc(x, state, return_gates=True)
    final = tuple(_np(s) for s in final) if isinstance(final, tuple) else _np(final)
    layers = [{n: _np(v) for n, v in g.items()} for g in gates]  # each (B, T, H)
    return Trace(enc.cell, tuple(enc.gate_names), layers, _np(out), final, labels)


def forecaster_windows(forecaster, data=None) -> np.ndarray:
    """Scaled input windows ``X`` (M, L, F) of ``data`` (or of the held-out test split) for
    a fitted forecaster: ``forecaster.windows_for(data).X``."""
    if not hasattr(forecaster, "windows_for"):
        raise expected("Introspect", "a fitted forecaster", type(forecaster).__name__)
    return forecaster.windows_for(data).X
