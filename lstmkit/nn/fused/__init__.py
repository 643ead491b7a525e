r"""Fused C++ LSTM kernels for small CPU problems, compiled on first use (optional).

On the course's problems (batch 32, 10 steps, H = 64) a training step is a chain of tiny
matrix products; ``torch.nn.LSTM`` (oneDNN) plus autograd and the optimizer spend about as
much time dispatching work as doing it. ``lstm_fused.cpp`` holds the LSTM equations of
:mod:`lstmkit.ref.lstm` (forward and BPTT, written beside each other) as whole-sequence C++
loops around MKL products, and one further function that runs a complete training step of
the forecaster's ``LSTM -> Linear`` network: mini-batch gather, forward, loss, backward,
gradient clipping and the Adam update, in one call.

* :func:`load` compiles the extension with ``torch.utils.cpp_extension`` (``-O3
  -march=native -ffast-math -fopenmp-simd``; about 30 s once, then cached per source, CPU and torch
  version) and returns it, or None when there is no compiler or ``LSTMKIT_FUSED=0``; every
  caller then keeps the pure-torch path. ``make`` builds it during the install.
* :func:`lstm_layer`: one layer with carried state, differentiable (an autograd Function);
  tested against :mod:`lstmkit.ref.lstm` in float64, outputs, states and gradients over two
  calls (``tests/test_fused.py``, ``lstmkit check``).
* :func:`regressor_grads` / :class:`FusedStep`: the forecaster's loss and gradients, and its
  whole training step; tested against autograd + ``torch.optim.Adam``.

Weight layout: ``torch.nn.LSTM``'s own parameters (rows ``W_i|W_f|W_g|W_o``), used in place.
"""

from __future__ import annotations

import hashlib
import os
import platform
import warnings
from pathlib import Path

import torch

_SRC = Path(__file__).with_name("lstm_fused.cpp")
_EXT = None
_TRIED = False
LOSS_KINDS = {"mse": 0, "mae": 1, "huber": 2}
# -ffast-math lets GCC call glibc's vector expf/tanhf; -fopenmp-simd honours the gate loops'
# `omp simd` (no OpenMP runtime): without either, the gate math is 5x slower.
_FLAGS = ["-O3", "-march=native", "-ffast-math", "-fopenmp-simd"]


def _cpu_tag() -> str:
    """The extension is built with -march=native: tie it to this CPU's features."""
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("flags"))
    except (OSError, StopIteration):
        flags = platform.processor()
    return flags


def load():
    """The compiled extension, or None (no compiler, build error, or ``LSTMKIT_FUSED=0``)."""
    global _EXT, _TRIED
    if _TRIED:
        return _EXT
    _TRIED = True
    if os.environ.get("LSTMKIT_FUSED", "1") == "0":
        return None
    try:
        from torch.utils.cpp_extension import load as build

        try:  # the ninja wheel's binary: torch looks for `ninja` on PATH
            import ninja

            os.environ["PATH"] = ninja.BIN_DIR + os.pathsep + os.environ.get("PATH", "")
        except ImportError:
            pass

        key = hashlib.sha1(_SRC.read_bytes() + " ".join(_FLAGS).encode() +
                           _cpu_tag().encode() + torch.__version__.encode()).hexdigest()[:12]
        _EXT = build(name=f"lstmkit_fused_{key}", sources=[str(_SRC)], extra_cflags=_FLAGS,
                     verbose=False)
    except Exception as err:  # no compiler, no headers, ...: the torch path stays
        warnings.warn(f"lstmkit: fused LSTM kernels unavailable ({type(err).__name__}); "
                      "using torch.nn.LSTM", RuntimeWarning, stacklevel=2)
        _EXT = None
    return _EXT


class _LSTMLayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        ext = load()
        xt = x.transpose(0, 1).contiguous()  # (T, B, F)
        G, C, Hs = ext.lstm_forward(xt, h0.contiguous(), c0.contiguous(), w_ih, w_hh, b_ih,
                                    b_hh)
        ctx.save_for_backward(xt, w_ih, w_hh, G, C, Hs)
        ctx.set_materialize_grads(False)
        return Hs[1:].transpose(0, 1), Hs[-1].clone(), C[-1].clone()  # (B, T, H), h_T, C_T

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, d_out, d_hT, d_cT):
        xt, w_ih, w_hh, G, C, Hs = ctx.saved_tensors
        B, H = Hs.shape[1], Hs.shape[2]
        zeros = lambda: xt.new_zeros(B, H)
        dHs = None if d_out is None else d_out.transpose(0, 1).contiguous()  # (T, B, H)
        dx, dh0, dc0, dw_ih, dw_hh, db = load().lstm_backward(
            xt, w_ih, w_hh, G, C, Hs, dHs, zeros() if d_hT is None else d_hT.contiguous(),
            zeros() if d_cT is None else d_cT.contiguous(), ctx.needs_input_grad[0])
        dx = None if dx is None else dx.transpose(0, 1)  # (B, T, F)
        return dx, dh0, dc0, dw_ih, dw_hh, db, db


def lstm_layer(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh):
    """One LSTM layer, batch-first: x (B, T, F), h0 / c0 (B, H) ->
    (outputs (B, T, H), h_T, C_T); differentiable. Needs :func:`load` to succeed."""
    return _LSTMLayer.apply(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh)


def supports(net, loss: str) -> bool:
    """Whether :class:`FusedStep` can train ``net`` (a forecaster's network)."""
    from lstmkit.forecast.networks import RecurrentRegressor

    if not isinstance(net, RecurrentRegressor) or loss not in LOSS_KINDS:
        return False
    c, enc = net.cfg, net.encoder
    p = next(net.parameters())
    return (c.cell == "lstm" and c.activation == "tanh" and c.num_layers == 1
            and not c.bidirectional and c.dropout == 0 and c.input_dropout == 0
            and c.recurrent_dropout == 0 and c.strategy in ("direct", "recursive")
            and enc.uses_cells() is False and p.device.type == "cpu"
            and p.dtype in (torch.float32, torch.float64))


def _params(net) -> list[torch.Tensor]:
    r = net.encoder.rnn
    return [r.weight_ih_l0, r.weight_hh_l0, r.bias_ih_l0, r.bias_hh_l0, net.head.weight,
            net.head.bias]


def regressor_grads(net, x, last, y, loss: str = "mse"):
    """(loss, [grads of weight_ih, weight_hh, bias_ih, bias_hh, head.weight, head.bias]) of
    ``net`` (see :func:`supports`) on one mini-batch, from the C++ kernel."""
    out = load().regressor_grads(x, last, y.reshape(y.shape[0], -1),
                                 [p.detach() for p in _params(net)], LOSS_KINDS[loss],
                                 net.cfg.residual)
    return float(out[0]), list(out[1:])


class FusedStep:
    """Adam on a forecaster's ``LSTM -> Linear`` network, one C++ call per mini-batch.

    ``step(idx) -> (loss, grad_norm)`` trains on rows ``idx`` of the training tensors;
    the update is ``torch.optim.Adam``'s (betas 0.9, 0.999, eps 1e-8), with
    ``clip_grad_norm_``'s clipping when ``clip_norm`` is set.
    """

    def __init__(self, net, x, last, y, lr: float, loss: str, clip_norm: float | None):
        self.ext = load()
        self.params = [p.detach() for p in _params(net)]
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.x, self.last, self.y = x.contiguous(), last.contiguous(), y.contiguous()
        self.lr, self.loss = float(lr), LOSS_KINDS[loss]
        self.residual, self.clip = bool(net.cfg.residual), float(clip_norm or 0.0)
        self.t = 0

    def step(self, idx: torch.Tensor) -> tuple[float, float]:
        self.t += 1
        loss, norm = self.ext.regressor_step(self.x, self.last, self.y, idx, self.params,
                                             self.m, self.v, self.t, self.lr, 0.9, 0.999,
                                             1e-8, self.loss, self.residual, self.clip)
        return loss, norm
