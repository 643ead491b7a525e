r"""Gradient flow through time: how much the loss at the end still "hears" step t.

:func:`gradient_flow` measures :math:`\lVert \partial L / \partial h_t \rVert` and
:math:`\lVert \partial L / \partial x_t \rVert` for t = 1 … T, where L is the loss on the
output read after the last step. In a simple RNN these norms shrink geometrically with
T − t (the vanishing gradient); the LSTM's cell state, whose Jacobian along the carousel
is just the forget gate, lets them survive many more steps.

How: the encoder is re-run step by step on the transcribed cells
(:func:`lstmkit.nn.lstm_step` & co.) with the module's own weights, and every
:math:`h_t` keeps its gradient (``retain_grad``). Each :math:`h_t` feeds both the next step
and the output, so ``h_t.grad`` is the *total* derivative of L. When ``model`` is a module
around the encoder (a forecaster's network, a classifier), the module's own ``forward``
runs with a forward hook that substitutes these step-by-step outputs for the encoder's, so
the head and anything after the encoder are exactly the module's.

Norms are Euclidean over the whole batch: :math:`\lVert \partial L/\partial h_t \rVert_2` of
the (B, H) gradient (with a mean-reduced loss, dividing by B gives a per-sequence scale); for
a bidirectional layer, over both directions' :math:`h_t`. Everything runs in eval mode (no
dropout). Cells ``lstm``, ``gru`` and ``rnn`` (the LayerNorm LSTM keeps its loop to itself).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from lstmkit.core.errors import expected, shape_str
from lstmkit.introspect.trace import cells_engine, encoder_inputs, find_encoder
from lstmkit.nn import Recurrent, gru_step, lstm_step, rnn_step

_STEPS = {"lstm": lstm_step, "gru": gru_step, "rnn": rnn_step}


def unroll(encoder: Recurrent, x: Tensor, state=None):
    """Run ``encoder`` step by step on ``x`` (B, T, F); every ``h_t`` retains its gradient.

    Returns ``(outputs (B, T, D·H), final_state, hs)`` with ``hs[k][d][t]`` the (B, H) tensor
    :math:`h_t` of layer k, direction d (1 = the backward direction of a bidirectional
    layer), part of the graph, ``retain_grad()`` called when it requires grad. ``state`` as
    for ``Recurrent.forward``. Cells ``lstm``, ``gru`` and ``rnn``; eval-mode semantics (no
    dropout).
    """
    if encoder.cell not in _STEPS:
        raise expected("Gradient flow", "an encoder of cell lstm, gru or rnn",
                       repr(encoder.cell))
    parts = encoder._check(x, state)  # the layer's own validation: (L·D, B, H) tensors
    step, act, lstm = _STEPS[encoder.cell], encoder.activation, encoder.cell == "lstm"
    D, T = getattr(encoder, "num_directions", 1), x.shape[1]
    inp, hs, h_n, c_n = x, [], [], []
    for k in range(encoder.num_layers):
        xs = inp.unbind(1)  # T x (B, F_k); unbind, not inp[:, t]: one backward op, not T
        layer = []
        for d in range(D):
            j = k * D + d  # row of the state
            w = encoder.weights(k, reverse=True) if d else encoder.weights(k)
            s = (parts[0][j], parts[1][j]) if lstm else parts[0][j]
            seq: list = [None] * T
            for t in (range(T - 1, -1, -1) if d else range(T)):
                s = step(xs[t], s, *w, activation=act)
                h = s[0] if lstm else s  # (B, H)
                if h.requires_grad:
                    h.retain_grad()
                seq[t] = h
            layer.append(seq)
            h_n.append(h)
            c_n.append(s[1] if lstm else None)
        hs.append(layer)
        inp = torch.cat([torch.stack(seq, dim=1) for seq in layer], dim=2)  # (B, T, D·H)
    final = torch.stack(h_n)  # (L·D, B, H)
    if lstm:
        final = (final, torch.stack(c_n))
    return inp, final, hs


def _as_tensor(v, dtype) -> Tensor:
    if isinstance(v, np.ndarray) or not isinstance(v, Tensor):
        v = torch.as_tensor(np.asarray(v))
    return v.to(dtype) if v.is_floating_point() else v


def gradient_flow(model, x, y_or_loss_fn=None, *, args=(), state=None) -> dict:
    """Norms of ∂L/∂h_t and ∂L/∂x_t for every step t of ``x``.

    Args:
        model: a ``lstmkit.nn.Recurrent``, a module with a ``Recurrent`` encoder (see
            :func:`lstmkit.introspect.find_encoder`) or a fitted forecaster (first seed).
        x: the encoder's input (B, T, F) (or (T, F)); for forecasters, scaled windows or a
            ``Windows`` object (then ``args`` = the last observed target and ``y`` = ``Y``
            are taken from it).
        y_or_loss_fn: a target, and L = MSE(output, target), where the output is the
            module's forward output, or for a bare ``Recurrent`` the last step's h (B, H);
            or a callable ``loss_fn(output) -> scalar`` (for a bare ``Recurrent`` ``output``
            is the whole (B, T, H) sequence).
        args: extra positional inputs of the module's forward (a forecaster network needs
            ``last`` (B, D); the long-lag models need ``lengths``).
        state: initial state of the encoder (None: zeros).

    Returns a dict of arrays: ``t`` (T,) = 1 … T; ``dh`` (T,) ‖∂L/∂h_t‖ of the last layer;
    ``dh_layers`` (L, T) the same per layer; ``dx`` (T,) ‖∂L/∂x_t‖; ``loss`` (a 0-d array);
    and ``cell``, a string.
    """
    if hasattr(x, "X") and hasattr(x, "H") and hasattr(x, "Y"):  # a Windows object
        if y_or_loss_fn is None:
            y_or_loss_fn = x.Y
        if not args:
            args = (x.H[:, -1, :],)
        x = x.X
    if y_or_loss_fn is None:
        raise expected("Gradient flow", "a target y or a loss function", "None")
    module, enc = find_encoder(model)
    dtype = enc.rnn.weight_ih_l0.dtype
    if module is enc:
        x = encoder_inputs(module, enc, x)  # (B, T, F)
    else:  # the module's own input: float data in the parameters' dtype, ids left alone
        x = _as_tensor(x, dtype)
    if x.is_floating_point():
        x = x.detach().clone().requires_grad_(True)
    args = tuple(_as_tensor(a, dtype) for a in args)
    captured: dict = {}

    def substitute(_mod, inputs, kwargs, output):  # recompute the encoder step by step
        if "hs" in captured:
            raise expected("Gradient flow", "a module that calls its encoder once per forward",
                           "several calls")
        xin = inputs[0]
        if xin.requires_grad and not xin.is_leaf:
            xin.retain_grad()  # e.g. an embedding's output
        s0 = inputs[1] if len(inputs) > 1 else kwargs.get("state")
        out, final, captured["hs"] = unroll(enc, xin, s0)
        captured["x"] = xin
        return (out, final, *output[2:])  # keeps gates if the module asked for them

    was_training = module.training
    saved_grads = [(p, p.grad) for p in module.parameters()]
    module.eval()
    try:
        with torch.enable_grad():
            if module is enc:
                out, _, captured["hs"] = unroll(enc, x, state)  # (B, T, H)
                captured["x"] = x
                output = out if callable(y_or_loss_fn) else out[:, -1]
            else:
                handle = enc.register_forward_hook(substitute, with_kwargs=True)
                try:  # engine "cells": a module calling enc.rnn directly on the fast path
                    with cells_engine(enc):  # (packed sequences) calls enc itself instead
                        output = module(x, *args)
                finally:
                    handle.remove()
                if "hs" not in captured:
                    raise expected("Gradient flow", "a module whose forward calls its encoder",
                                   type(module).__name__)
            loss = _loss(output, y_or_loss_fn, dtype)
            loss.backward()
    finally:
        module.train(was_training)
        for p, g in saved_grads:  # the user's gradients, untouched
            p.grad = g
    dh_layers = np.array([[math.hypot(*(_norm(seq[t].grad) for seq in layer))
                            for t in range(len(layer[0]))] for layer in captured["hs"]])
    gx, T = captured["x"].grad, captured["x"].shape[1]
    dx = (np.zeros(T) if gx is None  # (T,): norm over batch and features
          else gx.detach().double().transpose(0, 1).reshape(T, -1).norm(dim=1).numpy())
    return {"t": np.arange(1, T + 1), "dh": dh_layers[-1], "dh_layers": dh_layers, "dx": dx,
            "loss": np.asarray(float(loss.detach())), "cell": enc.cell}


def _norm(g: Tensor | None) -> float:
    return 0.0 if g is None else float(g.detach().double().norm())


def _loss(output, y_or_loss_fn, dtype) -> Tensor:
    if callable(y_or_loss_fn):
        loss = y_or_loss_fn(output)
    else:
        y = _as_tensor(y_or_loss_fn, dtype)
        if y.numel() != output.numel():
            raise expected("Gradient flow", f"a target with {output.numel()} values (the "
                           f"output's shape {shape_str(output.shape)})", shape_str(y.shape))
        loss = F.mse_loss(output, y.reshape(output.shape).to(output.dtype))
    if not isinstance(loss, Tensor) or loss.numel() != 1:
        raise expected("Gradient flow", "a scalar loss", type(loss).__name__)
    return loss.reshape(())


def gradient_table(results: dict[str, dict[str, dict]]) -> list[dict]:
    """Rows ``cell, stage, t, lag, dh_norm, dx_norm`` from ``{cell: {stage: flow}}``
    (``lag`` = T − t, steps before the end), for a CSV file."""
    rows = []
    for cell, stages in results.items():
        for stage, flow in stages.items():
            T = len(flow["t"])
            for t, dh, dx in zip(flow["t"], flow["dh"], flow["dx"], strict=True):
                rows.append({"cell": cell, "stage": stage, "t": int(t), "lag": T - int(t),
                             "dh_norm": float(dh), "dx_norm": float(dx)})
    return rows

