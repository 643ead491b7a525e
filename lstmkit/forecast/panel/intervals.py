"""Rolling-origin backtests, and conformal prediction intervals calibrated on them.

**Backtest.** ``W`` cut-offs, ``step`` points apart, the newest ``horizon`` points before
the end of each series: at each, the model forecasts the next ``horizon`` points from the
history before it. With ``refit`` each fold trains its own copy of the model on that
history only (so no fold sees its own test points: covariate scalers and normalisation
included); without, one model trained before the oldest cut-off forecasts every fold in one
batched pass.

**Conformal intervals** (split conformal, per horizon step). A fit with
``conformal_windows = W`` backtests itself with refit on its training part (``W`` folds,
``step = horizon``) and keeps each forecast's error in the units the network works in — the
log ratio ``log(y / f)`` for log-normalised windows, ``y - f`` for scaled ones — divided by
the series' spread (the mean absolute one-step change of its last ``lookback`` values in
those units), so errors of series
of any level and volatility are exchangeable (normalised conformal scores). The interval at
level ``l`` is the forecast moved by the ``ceil((n + 1) l) / n`` quantile ``q`` of the ``n``
absolute scores of its step, times the series' spread ``d``: ``f·exp(±q d)`` or
``f ± q d``. With exchangeable scores it covers at least ``l`` of new points.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd

from lstmkit.core.errors import expected


# ---------------------------------------------------------------------- conformal
def parse_levels(level) -> list[float]:
    """Interval levels in percent (one, or several), each in (0, 100), distinct."""
    levels = [level] if isinstance(level, (int, float)) else list(level or ())
    for lv in levels:
        if isinstance(lv, bool) or not isinstance(lv, (int, float)) or not 0 < lv < 100:
            raise expected("Intervals", "levels in (0, 100)", repr(lv))
    if len(set(levels)) != len(levels):
        raise expected("Intervals", "distinct levels", repr(levels))
    return [float(lv) for lv in levels]


def check_levels(model, level) -> list[float]:
    """Interval levels in percent, checked (and that the model can give them)."""
    levels = parse_levels(level)
    if getattr(model, "calibration_", None) is None:
        for lv in levels:
            if _pair(model, lv) is None:
                raise expected("Intervals", f"a model fitted with conformal_windows >= 1 "
                               f"(--conformal-windows N), or with quantiles "
                               f"{(100 - lv) / 200:g} and {(100 + lv) / 200:g}, for a {lv:g}% "
                               "interval", "a model without either")
        return [float(lv) for lv in levels]
    for lv in levels:
        n = model.calibration_.shape[0]
        need = math.ceil(1 / (1 - lv / 100) - 1)
        if n < need:
            raise expected("Intervals", f"at least {need} calibration errors per step for "
                           f"level {lv:g} (more series or conformal_windows)", n)
    return [float(lv) for lv in levels]


def spread(kind: str, panel, points: int | None = None) -> np.ndarray:
    """(S,) each series' mean absolute one-step change over its last ``points`` (None: all)
    values, in the network's units (logs for log-normalised windows)."""
    out = []
    for y in panel.y:
        v = y[-points:] if points else y
        v = np.log(np.maximum(v, 1e-300)) if kind == "log" else v
        d = float(np.abs(np.diff(v)).mean()) if len(v) > 1 else 0.0
        out.append(d if d > 1e-12 else 1.0)
    return np.asarray(out)


def errors(kind: str, actual: np.ndarray, f: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Forecast errors in the network's units divided by the series' spread, (S, K)."""
    if kind == "log":
        return np.log(np.maximum(actual, 1e-300) / f) / spread[:, None]
    return (actual - f) / spread[:, None]


def quantiles(calibration: np.ndarray, level: float) -> np.ndarray:
    """The conformal quantile of the absolute errors per horizon step, (K,): the
    ``ceil((n + 1) level)``-th smallest of the ``n`` (the largest when that exceeds n)."""
    n = calibration.shape[0]
    k = min(n, math.ceil((n + 1) * level / 100 - 1e-9))  # the k-th smallest, 1-based
    return np.sort(np.abs(calibration), axis=0)[k - 1]


def _pair(model, level: float):
    """The indices of the quantiles ``(1 -/+ level) / 2`` of a quantile head, or None."""
    qs = list(getattr(model, "quantiles", ()) or ())
    lo, hi = (100 - level) / 200, (100 + level) / 200
    i = next((k for k, q in enumerate(qs) if abs(q - lo) < 1e-9), None)
    j = next((k for k, q in enumerate(qs) if abs(q - hi) < 1e-9), None)
    return None if i is None or j is None else (i, j)


def bounds(model, f: np.ndarray, history, level: float, qf: np.ndarray | None = None):
    """(lo, hi) of the interval at ``level`` around the forecasts ``f`` (S, K) made after
    the series of ``history``: conformal when the model is calibrated, else the quantile
    head's outer pair (``qf``: its forecasts, (S, K, Q))."""
    if getattr(model, "calibration_", None) is None:
        i, j = _pair(model, level)
        return qf[..., i], qf[..., j]
    q = quantiles(model.calibration_, level)[None] * spread(model.kind_, history,
                                                            model.lookback)[:, None]
    if model.kind_ == "log":
        return f * np.exp(-q), f * np.exp(q)
    return f - q, f + q


def calibrate(model, panel) -> np.ndarray:
    """A backtest with refit of ``model``'s settings on ``panel``: the errors (n, K). A fold
    leaves out the series too short for it (their errors are pooled with the others')."""
    folds = backtest_folds(model, panel, model.conformal_windows, model.horizon, refit=True,
                           skip_short=True)
    return np.concatenate([errors(model.kind_, a, f, spread(model.kind_, h, model.lookback))
                           for _, h, a, f, _ in folds])


# ---------------------------------------------------------------------- backtests
def _copy(model, calibrated: bool = False):
    """An unfitted model with ``model``'s settings (calibrating itself only if asked)."""
    keep = model.conformal_windows if calibrated else 0
    return type(model)(**{**model.get_params(), "conformal_windows": keep, "progress": False})


def check_windows(panel, n_windows: int, step: int, model) -> None:
    need = model.lookback + model.horizon + step * (n_windows - 1) + model.horizon
    shortest = int(np.argmin(panel.lengths))
    if panel.lengths[shortest] < need:
        most = (panel.lengths[shortest] - model.lookback - 2 * model.horizon) // step + 1
        raise expected("Backtest", f"n_windows x step within every series (lookback "
                       f"{model.lookback} + horizon {model.horizon} to train, then the "
                       f"folds; or skip_short / --skip-short): at most {max(most, 0)} "
                       f"windows of step {step}",
                       f"{n_windows} windows; shortest series '{panel.ids[shortest]}' has "
                       f"{panel.lengths[shortest]} points")


def backtest_folds(model, panel, n_windows: int, step: int, refit: bool,
                   calibrated: bool = False, skip_short: bool = False):
    """``[(offset, history, actual (S_w, K), forecast (S_w, K), fold model)]``, oldest
    first; ``offset``: the points after the fold's cut-off. ``calibrated``: each fold's model
    calibrates its intervals on its own history (``conformal_windows`` more fits).
    ``skip_short``: a fold leaves out the series too short for it (else they are refused)."""
    K, L = model.horizon, model.lookback
    offsets = [K + step * (n_windows - 1 - w) for w in range(n_windows)]

    def members(off: int):  # the series a fold at ``off`` can train on and score
        if not skip_short:
            return panel
        return panel.subset(np.flatnonzero(panel.lengths >= L + K + off))

    if not skip_short:
        check_windows(panel, n_windows, step, model)
    elif not members(offsets[0]).ids:
        raise expected("Backtest", f"a series of at least {L + K + offsets[0]} points for "
                       f"{n_windows} windows of step {step}",
                       f"the longest has {int(panel.lengths.max())}")
    actual = lambda p, off: np.stack([y[len(y) - off: len(y) - off + K] for y in p.y])
    if not refit:
        fitted = _copy(model, calibrated).fit_panel(members(offsets[0]).head(offsets[0]))
        histories = [members(off).head(off) for off in offsets]
        merged = replace(histories[0], **{k: sum((getattr(h, k) for h in histories), [])
                                          for k in ("ids", "y", "ds", "futr", "hist", "future")},
                         static=np.vstack([h.static for h in histories]))
        f = fitted.forecast_arrays(merged)  # every fold in one pass
        ends = np.cumsum([len(h.ids) for h in histories])
        parts = np.split(f, ends[:-1])
        return [(off, histories[w], actual(members(off), off), parts[w], fitted)
                for w, off in enumerate(offsets)]
    out = []
    for off in offsets:
        sub = members(off)
        history = sub.head(off)
        fitted = _copy(model, calibrated).fit_panel(history)
        out.append((off, history, actual(sub, off), fitted.forecast_arrays(history), fitted))
    return out


def backtest_table(model, panel, folds, levels=()) -> pd.DataFrame:
    """The long table ``unique_id, cutoff, ds, y, forecast[, lo_l, hi_l]`` of ``folds``."""
    from lstmkit.forecast.panel.frame import to_long

    cols = model.columns_
    parts = []
    for _, history, actual, f, fitted in folds:
        values = {"y": list(actual), "forecast": list(f)}
        for lv in levels:
            lo, hi = bounds(fitted, f, history, lv)
            values[f"lo_{lv:g}"], values[f"hi_{lv:g}"] = list(lo), list(hi)
        part = to_long(history.ids, history.future_dates(model.horizon), values, cols)
        cut = [d[-1] for d in history.ds]
        part.insert(1, "cutoff", np.repeat(np.asarray(cut), model.horizon))
        parts.append(part)
    return pd.concat(parts, ignore_index=True)
