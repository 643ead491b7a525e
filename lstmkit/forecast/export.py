"""ONNX export of a fitted single-series forecaster: raw window in, raw forecast out.

The exported graph holds the whole of ``predict`` after the window is cut: the scaling of the
inputs (each scaler is an affine map, after a log for ``scaler="log"``), every seed's network
(recurrent encoder, head, residual step and linear skip), their mean, and the inverse scaling
of the targets::

    x (B, L, F) raw features,  last (B, D) raw last targets  ->  forecast (B, K, D) raw

The batch axis is dynamic; the time axis is the lookback the model was trained on (the
linear skip and the MLP read exactly that many steps). The direct strategy only (the
recursive one feeds predictions back through the scalers in a loop).
Verified against ``predict`` with onnxruntime (``tests/test_export.py``). Needs the
``export`` extra (onnx, onnxscript, onnxruntime).
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

import torch
from torch import nn

from lstmkit.core.errors import LstmkitError, expected


def _affine(scaler) -> tuple[bool, torch.Tensor, torch.Tensor]:
    from lstmkit.forecast.data.scaling import affine

    log, shift, scale = affine(scaler)
    return log, torch.as_tensor(shift, dtype=torch.float32), torch.as_tensor(scale,
                                                                              dtype=torch.float32)


class ForecastGraph(nn.Module):
    """Scaling in, the seeds' networks, their mean, scaling out (see the module docstring)."""

    def __init__(self, forecaster):
        super().__init__()
        self.nets = nn.ModuleList(forecaster.networks_)
        self.x_log, x_shift, x_scale = _affine(forecaster.x_scaler_)
        self.y_log, y_shift, y_scale = _affine(forecaster.y_scaler_)
        self.register_buffer("x_shift", x_shift)
        self.register_buffer("x_scale", x_scale)
        self.register_buffer("y_shift", y_shift)
        self.register_buffer("y_scale", y_scale)

    def forward(self, x: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        x = ((torch.log(x) if self.x_log else x) - self.x_shift) / self.x_scale  # (B, L, F)
        last = ((torch.log(last) if self.y_log else last) - self.y_shift) / self.y_scale  # (B, D)
        y = torch.stack([net(x, last) for net in self.nets]).mean(0)  # (B, K, D) scaled
        y = y * self.y_scale + self.y_shift
        return torch.exp(y) if self.y_log else y


def check_exportable(forecaster) -> None:
    from lstmkit.forecast.neural import NeuralForecaster

    if not isinstance(forecaster, NeuralForecaster):
        raise expected("Export", "a neural single-series forecaster (LSTM, GRU, RNN, MLP)",
                       type(forecaster).__name__)
    if forecaster.strategy != "direct":
        raise expected("Export", "strategy direct (recursive and seq2seq loop over the "
                       "horizon)", f"strategy {forecaster.strategy}")
    missing = [m for m in ("onnx", "onnxscript") if importlib.util.find_spec(m) is None]
    if missing:
        raise LstmkitError(f"Export: expected the export extra (pip install -c constraints.txt "
                           f"'lstmkit[export]'), got {', '.join(missing)} missing")


def export_onnx(forecaster, path) -> Path:
    """Write ``forecaster`` as ONNX to ``path`` (atomically); returns the path."""
    forecaster._check_fitted("export")
    check_exportable(forecaster)
    graph = ForecastGraph(forecaster).eval()
    B, L, F, D = 2, forecaster.lookback, len(forecaster.features_), len(forecaster.targets_)
    x = torch.ones(B, L, F)  # positive: valid for log scalers too
    last = torch.ones(B, D)
    batch = torch.export.Dim("batch", min=1)
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".onnx", dir=path.parent or ".")
    os.close(fd)
    try:
        with torch.no_grad():
            program = torch.onnx.export(graph, (x, last), dynamo=True, verbose=False,
                                        dynamic_shapes={"x": {0: batch}, "last": {0: batch}},
                                        input_names=["x", "last"],
                                        output_names=["forecast"])
        program.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
