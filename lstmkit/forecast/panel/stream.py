"""Streaming the global forecaster: the last ``lookback`` points of every series, updated
one time step at a time, forecast after each update.

The global network normalises each window by its own last value (``normalize``), so its
inputs change with every new point and no recurrent state can be carried, as the
single-series stream (:mod:`lstmkit.forecast.stream`) does. This stream keeps, per series,
only the last ``lookback`` points (target, covariates, timestamps): an update shifts them by
one step, O(lookback) whatever the history's length, and :meth:`PanelStream.forecast` runs
the network on that window, which is exactly what ``predict`` reads of the whole history
(tested equal).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from lstmkit.core.errors import expected


class PanelStream:
    """Built by ``GlobalForecaster.stream(history)``; see the module docstring."""

    def __init__(self, model, history):
        from lstmkit.forecast.panel.frame import Panel

        model._check_fitted("stream")
        panel = history if isinstance(history, Panel) else model.read(history)
        L = model.lookback
        panel.check_length(L, f"lookback {L}")
        tail = lambda arrs: [np.array(a[-L:]) for a in arrs]
        self.model = model
        self.panel = replace(panel, y=tail(panel.y), ds=tail(panel.ds), futr=tail(panel.futr),
                             hist=tail(panel.hist), future=[])

    @property
    def ids(self) -> list[str]:
        return list(self.panel.ids)

    def _rows(self, name: str, v, width: int) -> np.ndarray:
        S = len(self.panel.ids)
        a = np.asarray(v if v is not None else np.zeros((S, 0)), dtype=np.float64)
        if a.size != S * width:
            raise expected("Stream", f"{name} of {S} series x {width}", f"{a.size} value(s)")
        a = a.reshape(S, width)
        if not np.isfinite(a).all():
            raise expected("Stream", f"finite {name}", "NaN or infinity")
        return a

    def update(self, y, hist=None, futr=None) -> None:
        """One new time step of every series (in :attr:`ids` order): ``y`` (S,), the
        past-only covariates ``hist`` (S, Fh) and the future-known ones ``futr`` (S, Ff)."""
        cols = self.model.columns_
        y = self._rows("y", y, 1)
        hist = self._rows("hist (" + ", ".join(cols.hist) + ")", hist, len(cols.hist))
        futr = self._rows("futr (" + ", ".join(cols.futr) + ")", futr, len(cols.futr))
        p = self.panel
        last = np.array([d[-1] for d in p.ds])  # (S,) one vectorised step, not S date_ranges
        nxt = (pd.DatetimeIndex(last) + p.freq).to_numpy() if p.is_datetime else last + p.freq
        shift = lambda arrs, new: [np.concatenate([a[1:], n[None]]) for a, n in
                                   zip(arrs, new, strict=True)]
        self.panel = replace(p, y=shift(p.y, y[:, 0]), ds=shift(p.ds, nxt),
                             hist=shift(p.hist, hist), futr=shift(p.futr, futr))

    def forecast(self, futr_df=None, level=()):
        """The next ``horizon`` steps of every series, long format, as ``predict``
        (``futr_df``: the future-known covariates of those steps, when the model has some)."""
        return self.model.predict_panel(self.panel, futr_df, level)
