"""Weight converters: ``torch.nn`` state dicts, per-layer NumPy params, Keras arrays.

Layouts (H = hidden size, F = input size of the layer, G = 4 for LSTM, 3 for GRU, 1 for RNN):

* torch / lstmkit (``torch.nn.LSTM``, :class:`~lstmkit.nn.Recurrent`, ``lstmkit.ref``):
  ``weight_ih`` (G·H, F), ``weight_hh`` (G·H, H), ``bias_ih`` (G·H,), ``bias_hh`` (G·H,);
  weights act as ``W @ x`` (rows = gate units); gate blocks stacked by rows, LSTM i|f|g|o,
  GRU r|z|n.
* Keras: ``kernel`` (F, G·H), ``recurrent_kernel`` (H, G·H); weights act as ``x @ W``
  (columns = gate units); gate blocks stacked by columns, LSTM i|f|c|o (same order as torch),
  GRU z|r|h (torch order is r|z|n). LSTM ``bias`` (G·H,): a single bias. GRU with
  ``reset_after=True`` (the Keras 2/3 default): ``bias`` (2, 3H), row 0 the input bias,
  row 1 the recurrent bias.

Only Keras' default ``recurrent_activation="sigmoid"`` maps onto torch's gates (Keras 1's
``hard_sigmoid`` does not). Keras' ``activation`` maps to ``Recurrent(activation=...)``.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch

from lstmkit.core.errors import LstmkitError, expected, shape_str

PARAM_KEYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _torch_keys(layer) -> list[str]:
    return [f"{p}_l{k}" for k in range(layer.num_layers) for p in PARAM_KEYS]


# --- torch.nn state dicts -----------------------------------------------------------------


def to_torch_state_dict(layer) -> OrderedDict:
    """State dict of the equivalent ``torch.nn.LSTM/GRU/RNN(batch_first=True)``.

    Nothing to convert: :class:`~lstmkit.nn.Recurrent` stores a ``torch.nn`` module as
    ``layer.rnn``, so this is ``layer.rnn.state_dict()`` (keys ``weight_ih_l0``, ...), with
    tensors detached and cloned (not sharing memory with the layer).
    """
    return OrderedDict((k, v.detach().clone()) for k, v in layer.rnn.state_dict().items())


def load_torch_state_dict(layer, sd) -> None:
    """Load a ``torch.nn.LSTM/GRU/RNN`` state dict (keys ``weight_ih_l0``, ...) into ``layer``.

    Also accepts ``layer.state_dict()`` itself (keys prefixed ``rnn.``). Sizes must match
    (no bias-free, bidirectional or projected modules); values are copied and cast to the
    layer's dtype. The layout is shared, so no transposition or reordering happens.
    """
    name = layer.name
    if not hasattr(sd, "keys"):
        raise expected(name, "a state dict (mapping)", type(sd).__name__)
    keys = list(sd.keys())
    if keys and all(str(k).startswith("rnn.") for k in keys):
        sd = {k[4:]: v for k, v in sd.items()}
    want = _torch_keys(layer)
    if sorted(sd.keys()) != sorted(want):
        missing = [k for k in want if k not in sd]
        extra = [k for k in sd if k not in want]
        raise expected(name, f"state dict keys {want}",
                       f"missing {missing}, unexpected {extra}")
    own = layer.rnn.state_dict()
    for k in want:
        got = tuple(sd[k].shape)
        if got != tuple(own[k].shape):
            raise expected(name, f"{k} of shape {shape_str(own[k].shape)}", shape_str(got))
    layer.rnn.load_state_dict({k: torch.as_tensor(sd[k]) for k in want})


# --- per-layer NumPy params (the format of lstmkit.ref) -----------------------------------


def layer_params(layer, k: int) -> dict[str, np.ndarray]:
    """Layer ``k`` of ``layer`` as ``lstmkit.ref`` params: a dict ``weight_ih``, ``weight_hh``,
    ``bias_ih``, ``bias_hh`` of NumPy copies, in the parameters' dtype. Same layout, no
    transposition (``weight_ih_l{k}`` -> ``weight_ih``)."""
    weights = layer.weights(k)
    return {key: p.detach().cpu().numpy().copy()
            for key, p in zip(PARAM_KEYS, weights, strict=True)}


def set_layer_params(layer, k: int, params) -> None:
    """Copy ``lstmkit.ref``-style params (dict ``weight_ih``, ``weight_hh``, ``bias_ih``,
    ``bias_hh``; arrays or tensors) into layer ``k``, cast to the layer's dtype."""
    weights = layer.weights(k)
    if not hasattr(params, "keys") or sorted(params.keys()) != sorted(PARAM_KEYS):
        got = sorted(params.keys()) if hasattr(params, "keys") else type(params).__name__
        raise expected(layer.name, f"params with keys {list(PARAM_KEYS)}", got)
    values = {}
    for key, p in zip(PARAM_KEYS, weights, strict=True):
        v = torch.as_tensor(np.asarray(params[key]) if not torch.is_tensor(params[key])
                            else params[key])
        if tuple(v.shape) != tuple(p.shape):
            raise expected(layer.name, f"{key} of layer {k} of shape {shape_str(p.shape)}",
                           shape_str(v.shape))
        values[key] = v
    with torch.no_grad():
        for key, p in zip(PARAM_KEYS, weights, strict=True):
            p.copy_(values[key])


# --- Keras --------------------------------------------------------------------------------


def _arrays(component: str, kernel, recurrent_kernel, G: int):
    kernel, rk = np.asarray(kernel), np.asarray(recurrent_kernel)
    if rk.ndim != 2 or rk.shape[1] != G * rk.shape[0]:
        raise expected(component, f"recurrent_kernel of shape (H, {G}H)", shape_str(rk.shape))
    H = rk.shape[0]
    if kernel.ndim != 2 or kernel.shape[1] != G * H:
        raise expected(component, f"kernel of shape (F, {G}H={G * H})", shape_str(kernel.shape))
    return kernel, rk, H


def from_keras_lstm(kernel, recurrent_kernel, bias=None) -> dict[str, np.ndarray]:
    """Keras ``LSTM`` weights -> torch-layout params of one layer.

    * ``kernel`` (F, 4H), columns i|f|c|o  ->  ``weight_ih = kernel.T`` (4H, F), rows i|f|g|o
      (Keras' c is torch's g; the gate order is the same, only the transposition is needed).
    * ``recurrent_kernel`` (H, 4H)  ->  ``weight_hh = recurrent_kernel.T`` (4H, H).
    * ``bias`` (4H,) (``None`` for ``use_bias=False``)  ->  ``bias_ih = bias``,
      ``bias_hh = 0``: Keras has one bias, torch two that are always summed.
    """
    kernel, rk, H = _arrays("Keras LSTM", kernel, recurrent_kernel, 4)
    bias = np.zeros(4 * H, kernel.dtype) if bias is None else np.asarray(bias)
    if bias.shape != (4 * H,):
        raise expected("Keras LSTM", f"bias of shape (4H={4 * H})", shape_str(bias.shape))
    return {"weight_ih": kernel.T.copy(), "weight_hh": rk.T.copy(),
            "bias_ih": bias.copy(), "bias_hh": np.zeros_like(bias)}


def to_keras_lstm(params):
    """Torch-layout LSTM params -> ``(kernel (F, 4H), recurrent_kernel (H, 4H), bias (4H,))``:
    ``kernel = weight_ih.T``, ``recurrent_kernel = weight_hh.T``, ``bias = bias_ih + bias_hh``
    (the inverse of :func:`from_keras_lstm`; gate order i|f|g|o is Keras' i|f|c|o)."""
    w_ih, w_hh = np.asarray(params["weight_ih"]), np.asarray(params["weight_hh"])
    bias = np.asarray(params["bias_ih"]) + np.asarray(params["bias_hh"])
    return w_ih.T.copy(), w_hh.T.copy(), bias


# Keras GRU column blocks z|r|h; torch row blocks r|z|n. Torch block j is Keras block _GRU[j]
# (the permutation swaps the first two blocks and is its own inverse).
_GRU = (1, 0, 2)


def _swap_zr(a: np.ndarray, axis: int) -> np.ndarray:
    """Reorder the three H-blocks along ``axis`` z|r|h <-> r|z|n (an involution)."""
    blocks = np.split(a, 3, axis=axis)
    return np.concatenate([blocks[j] for j in _GRU], axis=axis)


def from_keras_gru(kernel, recurrent_kernel, bias=None, reset_after=True):
    """Keras ``GRU(reset_after=True)`` weights -> torch-layout params of one layer.

    Keras computes ``z = σ(x W_z + b_z + h U_z + rb_z)``, ``r`` likewise,
    ``hh = tanh(x W_h + b_h + r * (h U_h + rb_h))`` and ``h' = z * h + (1 - z) * hh``, which is
    torch's GRU with n = hh. So:

    * ``kernel`` (F, 3H) columns z|r|h  ->  ``weight_ih`` (3H, F) = ``kernel.T`` with the row
      blocks reordered to r|z|n (the first two blocks swapped).
    * ``recurrent_kernel`` (H, 3H)  ->  ``weight_hh`` (3H, H), same transposition and reordering.
    * ``bias`` (2, 3H) (``None`` for ``use_bias=False``)  ->  ``bias_ih`` = row 0, ``bias_hh`` =
      row 1, both reordered to r|z|n.

    ``reset_after=False`` (Keras 1 / the original Cho et al. GRU) applies ``r`` *before* the
    recurrent matmul, ``(r * h) U_h``; torch's layout cannot represent it: LstmkitError.
    """
    if not reset_after:
        raise LstmkitError(
            "Keras GRU: expected reset_after=True (torch's GRU applies the reset gate after the "
            "recurrent matmul; reset_after=False cannot be represented in the torch layout), "
            "got reset_after=False")
    kernel, rk, H = _arrays("Keras GRU", kernel, recurrent_kernel, 3)
    bias = np.zeros((2, 3 * H), kernel.dtype) if bias is None else np.asarray(bias)
    if bias.shape != (2, 3 * H):
        raise expected("Keras GRU", f"bias of shape (2, 3H={3 * H}) (reset_after=True)",
                       shape_str(bias.shape))
    return {"weight_ih": _swap_zr(kernel.T, 0), "weight_hh": _swap_zr(rk.T, 0),
            "bias_ih": _swap_zr(bias[0], 0), "bias_hh": _swap_zr(bias[1], 0)}


def to_keras_gru(params):
    """Torch-layout GRU params -> Keras ``GRU(reset_after=True)``
    ``(kernel (F, 3H), recurrent_kernel (H, 3H), bias (2, 3H))``: transposes, reorders the
    blocks r|z|n -> z|r|h and stacks ``[bias_ih, bias_hh]`` (the inverse of
    :func:`from_keras_gru`)."""
    w_ih, w_hh = np.asarray(params["weight_ih"]), np.asarray(params["weight_hh"])
    bias = np.stack([_swap_zr(np.asarray(params["bias_ih"]), 0),
                     _swap_zr(np.asarray(params["bias_hh"]), 0)])
    return _swap_zr(w_ih.T, 1), _swap_zr(w_hh.T, 1), bias
