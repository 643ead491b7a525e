"""The LSTM forecaster's whole training step as one C++ call (``fused_step.cpp``).

For the forecaster's ``LSTM -> Linear`` network (one tanh layer, no dropout, CPU) a training
step — mini-batch gather, forward, mse/mae/huber loss, BPTT, optional global-norm clipping and
``torch.optim.Adam``'s update — runs in one call of a kernel built on the fused LSTM layer of
:mod:`lstmkit.nn.fused` (``lstm_layer.h``). Tested against autograd + ``torch.optim.Adam``
(``tests/test_fused.py``).

Whether a network can use it is decided in one place, :func:`supports_config`, from the
network's config alone (no network is built to ask).
"""

from __future__ import annotations

from pathlib import Path

import torch

from lstmkit.forecast.networks import NetworkConfig, RecurrentRegressor
from lstmkit.nn import fused

_SRC = Path(__file__).with_name("fused_step.cpp")
LOSS_KINDS = {"mse": 0, "mae": 1, "huber": 2}


def load():
    """The compiled training-step kernel, or None (no compiler, or ``LSTMKIT_FUSED=0``)."""
    return fused.build_extension("lstmkit_forecast_step", [_SRC],
                                 (fused.HERE / "lstm_layer.h",))


def supports_config(cfg: NetworkConfig, loss: str) -> bool:
    """Whether :class:`FusedStep` can train the network of ``cfg`` with ``loss``."""
    return (cfg.kind == "recurrent" and loss in LOSS_KINDS and cfg.cell == "lstm"
            and cfg.activation == "tanh" and cfg.num_layers == 1 and not cfg.bidirectional
            and cfg.dropout == 0 and cfg.input_dropout == 0 and cfg.recurrent_dropout == 0
            and cfg.strategy in ("direct", "recursive"))


def supports(net, loss: str) -> bool:
    """Whether :class:`FusedStep` can train ``net`` (a forecaster's network)."""
    if not isinstance(net, RecurrentRegressor) or not supports_config(net.cfg, loss):
        return False
    p = next(net.parameters())
    return (net.encoder.uses_cells() is False and p.device.type == "cpu"
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


if __name__ == "__main__":  # `python -m lstmkit.forecast.fused_step`: build it once (make)
    import time

    t0 = time.perf_counter()
    ext = load()
    if ext is None:
        print("lstmkit: fused forecaster step unavailable; training uses torch + autograd")
    else:
        print(f"lstmkit: fused forecaster step ready ({time.perf_counter() - t0:.1f} s)")
