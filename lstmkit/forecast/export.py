"""ONNX export of a fitted single-series forecaster: raw rows in, raw forecast out.

The exported graph holds the whole of ``predict`` after the rows are cut: the scaling of the
inputs (each scaler is an affine map, after a log for ``scaler="log"``), every seed's network
(recurrent encoder, head, residual step and linear skip), their mean, and the inverse scaling
of the targets::

    x (B, T, F) raw features,  last (B, D) raw last targets  ->  forecast (B, K, D) raw

The batch axis is dynamic. For a recurrent encoder the time axis is too (T >= lookback):
the encoder reads all T rows and the linear skip the last ``lookback``, so T = lookback is
``predict`` and a longer T is ``predict(context="history")`` on those rows. The MLP reads
exactly ``lookback`` rows, and so does the Elman RNN's graph (torch.export unrolls
``nn.RNN`` over a fixed number of steps).

``stream=True`` exports the state-in/state-out graph of :mod:`lstmkit.forecast.stream`::

    x (B, 1, F) one new raw row, window (B, L, F) the last L raw rows (ending with x),
    last (B, D), h0 [, c0] (S·layers, B, H)  ->  forecast (B, K, D), h [, c]

Start from zero states and feed the history row by row, then each new row, with the
returned state: the forecasts are the stream's (one row per call: torch.export fixes the
time axis of a recurrent layer that is given a state). The direct strategy only (the recursive one
feeds predictions back through the scalers in a loop). Verified against ``predict`` and the
stream with onnxruntime (``tests/test_export.py``). Needs the ``export`` extra (onnx,
onnxscript, onnxruntime).
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

    def scale_x(self, x: torch.Tensor) -> torch.Tensor:
        return ((torch.log(x) if self.x_log else x) - self.x_shift) / self.x_scale  # (B, T, F)

    def scale_y(self, last: torch.Tensor) -> torch.Tensor:
        return ((torch.log(last) if self.y_log else last) - self.y_shift) / self.y_scale  # (B, D)

    def scale_out(self, ys: list[torch.Tensor]) -> torch.Tensor:
        y = torch.stack(ys).mean(0) * self.y_scale + self.y_shift  # (B, K, D): seeds' mean
        return torch.exp(y) if self.y_log else y

    def forward(self, x: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        x, last = self.scale_x(x), self.scale_y(last)
        L = self.nets[0].cfg.lookback
        if self.nets[0].cfg.kind == "mlp":
            return self.scale_out([net(x, last) for net in self.nets])
        ys = []
        for net in self.nets:  # the encoder reads every row, the skip the last L
            out, _ = net.encoder(x)  # (B, T, H)
            ys.append(net.readout(out[:, -1], x[:, -L:], last))
        return self.scale_out(ys)


class StreamGraph(ForecastGraph):
    """The stream's state-in/state-out graph (see the module docstring)."""

    def forward(self, x, window, last, h0, c0=None):
        x, window, last = self.scale_x(x), self.scale_x(window), self.scale_y(last)
        n = self.nets[0].encoder.num_layers
        ys, hs, cs = [], [], []
        for j, net in enumerate(self.nets):
            state = h0[j * n:(j + 1) * n]  # (layers, B, H) of seed j
            if c0 is not None:
                state = (state, c0[j * n:(j + 1) * n])
            out, final = net.encoder(x, state)  # (B, T, H)
            ys.append(net.readout(out[:, -1], window, last))
            hs.append(final[0] if c0 is not None else final)
            if c0 is not None:
                cs.append(final[1])
        forecast = self.scale_out(ys)
        if c0 is None:
            return forecast, torch.cat(hs)
        return forecast, torch.cat(hs), torch.cat(cs)


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


def dynamic_time(forecaster) -> bool:
    """Whether the exported graph's time axis is dynamic: not for the MLP (it reads exactly
    ``lookback`` rows), nor for the Elman RNN (torch.export unrolls ``nn.RNN`` over the
    example's steps)."""
    c = forecaster.network_config_
    return c.kind != "mlp" and c.cell != "rnn"


def export_onnx(forecaster, path, stream: bool = False) -> Path:
    """Write ``forecaster`` as ONNX to ``path`` (atomically); returns the path.
    ``stream``: the state-in/state-out graph instead (see the module docstring)."""
    forecaster._check_fitted("export")
    check_exportable(forecaster)
    f = forecaster
    B, L, F, D = 2, f.lookback, len(f.features_), len(f.targets_)
    x = torch.ones(B, L + 1, F)  # positive: valid for log scalers too
    last = torch.ones(B, D)
    batch = torch.export.Dim("batch", min=1)
    if stream:
        f.check_streamable("Export")
        enc = f.networks_[0].encoder
        if enc.cell not in ("lstm", "gru", "rnn"):
            raise expected("Export", "cell lstm, gru or rnn for the stream graph", enc.cell)
        graph = StreamGraph(f).eval()
        rows = len(f.networks_) * enc.num_layers
        h0 = torch.zeros(rows, B, enc.hidden_size)
        args = (x[:, :1], torch.ones(B, L, F), last, h0) + ((h0.clone(),) if enc.cell == "lstm"
                                                            else ())
        names = ["x", "window", "last", "h0", "c0"][:len(args)]
        # one row per call: torch.export specialises the time axis of an LSTM given a state
        shapes = {"x": {0: batch}, "window": {0: batch}, "last": {0: batch},
                  "h0": {1: batch}, **({"c0": {1: batch}} if len(args) == 5 else {})}
        outputs = ["forecast", "h", "c"][:len(args) - 2]
    else:
        graph = ForecastGraph(f).eval()
        if not dynamic_time(f):
            x = x[:, 1:]
            shapes = {"x": {0: batch}, "last": {0: batch}}
        else:
            shapes = {"x": {0: batch, 1: torch.export.Dim("time", min=L)}, "last": {0: batch}}
        args, names, outputs = (x, last), ["x", "last"], ["forecast"]
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".onnx", dir=path.parent or ".")
    os.close(fd)
    try:
        with torch.no_grad():
            program = torch.onnx.export(graph, args, dynamo=True, verbose=False,
                                        dynamic_shapes=shapes, input_names=names,
                                        output_names=outputs)
        program.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
