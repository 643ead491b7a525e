"""Streaming inference: a saved forecaster's recurrent state, carried from row to row.

``predict`` re-encodes a window for every forecast. A stream encodes the history once, then
consumes one new row per :meth:`ForecastStream.update`: one cell step per layer (and per
seed) on the carried state, whatever the history's length::

    s = lstmkit.load("runs/gas").stream("history.csv")     # warm-up: the whole history
    s.update(y=[53.2], exog=[-0.4])                         # one row: O(1) in the history
    s.forecast()                                            # the next `horizon` rows

**What it equals.** After any number of updates, ``s.forecast()`` equals
``predict(history_so_far, context="history")``: the state is warmed up over *every* row
seen, not re-started on the last ``lookback`` rows as ``predict``'s default
``context="window"`` (the one the network was trained on) does. The linear skip and the
residual still read the last ``lookback`` rows and the last target, kept in a small buffer.
For a well-trained LSTM or GRU the two contexts differ little (the state forgets what lies
beyond the window); ``benchmarks/streaming.py`` measures the difference in test error.

**Several series.** ``stream([h1, h2, ...])`` keeps one state per series and updates them
together: ``update`` then takes ``y`` (B, D) and ``exog`` (B, E).

The cell step is torch's own fused ``lstm_cell`` / ``gru_cell`` / ``rnn_*_cell`` on the
layer's weights (the transcribed cells for the LayerNorm LSTM and relu gates), in inference
mode, with the scalers reduced to affine maps: the per-update cost is a few tensor ops.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from lstmkit.core.errors import expected
from lstmkit.forecast.data.scaling import affine as _affine

__all__ = ["ForecastStream"]


def _advance_fn(encoder):
    """``advance(x (B, F), states)``: one time step of every layer; ``states`` is the list of
    per-layer ``(h, c)`` (LSTMs) or ``(h,)``, each (B, H), replaced in place."""
    cell, act = encoder.cell, encoder.activation
    if cell == "lnlstm" or (cell != "rnn" and act != "tanh"):  # the transcribed cells
        pair = cell in ("lstm", "lnlstm")

        def generic(x, states):
            parts = [torch.stack(p) for p in zip(*states, strict=True)]  # (L, B, H) each
            with torch.no_grad():
                _, final = encoder(x.unsqueeze(1), tuple(parts) if pair else parts[0])
            final = final if pair else (final,)
            states[:] = [tuple(p[k] for p in final) for k in range(len(states))]
        return generic
    steps = []
    for k in range(encoder.num_layers):
        w = [t.detach() for t in encoder.weights(k)]  # no autograd: no grad-mode switch needed
        if cell == "lstm":
            steps.append(lambda x, s, w=w: torch.lstm_cell(x, s, *w))
        elif cell == "gru":
            steps.append(lambda x, s, w=w: (torch.gru_cell(x, s[0], *w),))
        else:
            fn = torch.rnn_tanh_cell if act == "tanh" else torch.rnn_relu_cell
            steps.append(lambda x, s, w=w, fn=fn: (fn(x, s[0], *w),))

    def fused(x, states):
        for k, step in enumerate(steps):
            states[k] = step(x, states[k])  # plain tensors: autograd never records
            x = states[k][0]  # h of layer k feeds layer k + 1
    return fused


class ForecastStream:
    """A fitted recurrent forecaster's state over one or several series (see the module
    docstring). Built by ``forecaster.stream(history)``."""

    def __init__(self, forecaster, history):
        forecaster._check_fitted("stream")
        forecaster.check_streamable("Stream")
        from lstmkit.forecast.data import load_frame
        from lstmkit.forecast.data.windows import scaled_rows

        f = self.forecaster = forecaster
        self.single = not isinstance(history, (list, tuple))
        frames = [load_frame(h) for h in ([history] if self.single else history)]
        if not frames:
            raise expected("Stream", "at least one history", "an empty list")
        self.targets, self.features = list(f.targets_), list(f.features_)
        self.exog = [c for c in self.features if c not in self.targets]
        # the raw feature row is [y | exog] reordered: feature j <- column order[j]
        cols = self.targets + self.exog
        self._order = np.array([cols.index(c) for c in self.features])
        self._x_log, self._x_shift, self._x_scale = _affine(f.x_scaler_)
        self._y_log, self._y_shift, self._y_scale = _affine(f.y_scaler_)
        rows = [scaled_rows(fr, self.features, self.targets, f.x_scaler_, f.y_scaler_,
                            f.lookback) for fr in frames]
        self._history_rows, self._updates = np.array([len(fr) for fr in frames]), 0
        self.nets = [net.eval() for net in f.networks_]
        L = f.lookback
        with torch.no_grad():
            self._states = [self._warm_up(net, rows) for net in self.nets]
        windows = np.stack([x[-L:] for x, _ in rows]).astype(np.float32)  # (B, L, F)
        # the window, written twice: buf[:, p : p + L] is always the last L rows in order
        self._buf = np.concatenate([windows, windows], axis=1)  # (B, 2L, F)
        self._xt = torch.from_numpy(self._buf)  # the same memory, as a tensor
        self._rows = [self._xt[:, i] for i in range(L)]  # (B, F) views, one per position
        self._identity = list(self._order) == list(range(len(self._order)))
        self._pos, self._L = 0, L
        self._last = np.stack([y[-1] for _, y in rows]).astype(np.float32)  # (B, D)
        self._B, self._D = len(rows), len(self.targets)
        self._logs = self._x_log or self._y_log
        self._advance = [_advance_fn(net.encoder) for net in self.nets]

    @staticmethod
    def _warm_up(net, rows) -> list[tuple]:
        """The final state of each layer after encoding every history (B series): a list
        of per-layer ``(h, c)`` / ``(h,)``, each (B, H)."""
        finals = []
        same = len({len(x) for x, _ in rows}) == 1
        batches = [np.stack([x for x, _ in rows])] if same else [x[None] for x, _ in rows]
        for xb in batches:  # one pass over histories of one length; else one per series
            _, final = net.encoder(torch.as_tensor(xb, dtype=torch.float32))  # (L·1, b, H)
            finals.append(final if isinstance(final, tuple) else (final,))
        parts = [torch.cat([fin[j] for fin in finals], dim=1) for j in range(len(finals[0]))]
        return [tuple(p[k] for p in parts) for k in range(net.encoder.num_layers)]

    @property
    def n_series(self) -> int:
        return self._B

    # ------------------------------------------------------------------ update
    def _raw(self, what: str, v, width: int) -> np.ndarray:
        a = np.asarray(v, dtype=np.float64)
        if a.size != self._B * width:
            names = self.targets if what == "y" else self.exog
            want = f"{self._B} x {width}" if self._B > 1 else f"{width} value(s)"
            raise expected("Stream", f"{what} ({', '.join(names)}) of {want}",
                           f"{a.size} value(s)")
        return a.reshape(self._B, width)

    def update(self, y, exog=None) -> None:
        """Consume one new row per series: ``y`` the targets (D values; (B, D) for B
        series), ``exog`` the other features (E values, in :attr:`exog` order)."""
        y = self._raw("y", y, self._D)
        if self.exog:
            if exog is None:
                raise expected("Stream", "exog: values of " + ", ".join(self.exog), "none")
            raw = np.concatenate([y, self._raw("exog", exog, len(self.exog))], axis=1)
            raw = raw[:, self._order]  # (B, F)
        else:
            raw = y if self._identity else y[:, self._order]  # (B, F)
        if not np.isfinite(raw).all():
            raise expected("Stream", "finite values", "NaN or infinity")
        if self._logs and (raw <= 0).any():
            raise expected("Stream", "positive values (the model scales in logs)",
                           "zero or negative ones")
        x = ((np.log(raw) if self._x_log else raw) - self._x_shift) / self._x_scale  # (B, F)
        z = ((np.log(y) if self._y_log else y) - self._y_shift) / self._y_scale  # (B, D)
        L, p = self._L, self._pos
        self._buf[:, p] = x  # numpy views of the tensors the network reads
        self._buf[:, p + L] = x
        self._pos = (p + 1) % L
        self._last[:] = z
        xt = self._rows[p]  # (B, F) float32 tensor, sharing memory with the buffer
        for advance, states in zip(self._advance, self._states, strict=True):
            advance(xt, states)
        self._updates += 1

    @property
    def rows_seen(self) -> np.ndarray:
        """(B,) rows each series' state has read: its history and every update."""
        return self._history_rows + self._updates

    # ------------------------------------------------------------------ forecast
    def forecast_array(self) -> np.ndarray:
        """The next ``horizon`` rows of every series, (B, K, D) in original units (the mean
        of the seeds' forecasts, as ``predict``)."""
        L, p = self.forecaster.lookback, self._pos
        with torch.inference_mode():
            window = self._xt[:, p:p + L]  # (B, L, F): the last L rows in time order
            last = torch.from_numpy(self._last)  # (B, D)
            ys = [net.readout(states[-1][0], window, last)
                  for net, states in zip(self.nets, self._states, strict=True)]
            y = torch.stack(ys).mean(0).double().numpy()  # (B, K, D) scaled
        y = y * self._y_scale + self._y_shift
        return np.exp(y) if self._y_log else y

    def forecast(self):
        """The next ``horizon`` rows: a frame as ``predict``'s for a single series (index:
        the row numbers), else the (B, K, D) array of :meth:`forecast_array`."""
        y = self.forecast_array()
        if not self.single:
            return y
        n = int(self.rows_seen[0])
        return pd.DataFrame(y[0], columns=self.targets,
                            index=pd.RangeIndex(n, n + y.shape[1], name="step"))
