"""Forecast error metrics.

All metrics compare ``y_true`` and ``y_pred`` of shape ``(M, K, D)`` (``M`` windows,
horizon ``K``, ``D`` targets); ``(M, D)`` is accepted and read as ``K = 1``.

Metrics (``e = y_pred - y_true``):

``mae``
    mean ``|e|`` (:func:`sklearn.metrics.mean_absolute_error`).
``mse``
    mean ``e**2`` (:func:`sklearn.metrics.mean_squared_error`).
``rmse``
    ``sqrt(mse)``.
``mre``
    mean relative error, the course's metric, as a **fraction**: mean ``|e| / |y|``
    (:func:`sklearn.metrics.mean_absolute_percentage_error`, which despite its name returns
    a fraction). Zero targets follow scikit-learn's convention: the denominator is
    ``max(|y|, eps)`` with ``eps = np.finfo(np.float64).eps``, so a zero target with a
    non-zero error makes the value huge (deliberately visible) instead of silently
    skipping it. Relative errors only make sense on series that stay away from zero
    (e.g. unscaled physical units), not on standardised data.
``mape``
    ``100 * mre`` (percent).
``smape``
    symmetric MAPE in percent: mean ``200 * |e| / (|y| + |y_pred|)``, where a term with
    ``|y| + |y_pred| == 0`` (hence ``e == 0``) counts as 0.
``mase``
    mean absolute scaled error: ``mae / scale`` per target, where ``scale`` is the
    in-sample MAE of the one-step naive forecast on the *training* series
    (:func:`naive_mae_scale`). The overall value is the mean of the per-target values
    (MAEs of different targets are in different units, so they are not pooled).
    ``None`` when no scale is given.

:func:`compute_metrics` returns plain Python floats so the result is JSON-serialisable.

MAE, MSE and MRE are scikit-learn's formulas written out in NumPy (``tests/test_metrics.py``
holds them equal to ``sklearn.metrics``): importing ``sklearn.metrics`` pulls in SciPy and
took 2.0 s of a 7.6 s one-epoch ``lstmkit fit`` (``benchmarks/cli_overhead.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from lstmkit.core.errors import expected, shape_str

__all__ = [
    "METRIC_NAMES",
    "compute_metrics",
    "mae",
    "mape",
    "mase",
    "mre",
    "mse",
    "naive_mae_scale",
    "rmse",
    "skill",
    "smape",
]

#: Metric keys in the order :func:`compute_metrics` returns them.
METRIC_NAMES = ("mae", "mse", "rmse", "mre", "mape", "smape", "mase")

_COMPONENT = "Metrics"


# ---------------------------------------------------------------------------
# Single metrics on flat arrays: (N,) -> float, or (N, D) -> (D,) with per_column=True
# ---------------------------------------------------------------------------


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    yt = np.asarray(y_true, dtype=np.float64)
    yp = np.asarray(y_pred, dtype=np.float64)
    if yt.shape != yp.shape:
        raise expected(
            _COMPONENT,
            f"y_pred with the shape of y_true {shape_str(yt.shape)}",
            shape_str(yp.shape),
        )
    if yt.size == 0:
        raise expected(_COMPONENT, "at least one value", "an empty array")
    if not (np.isfinite(yt).all() and np.isfinite(yp).all()):
        raise expected(_COMPONENT, "finite y_true and y_pred", "NaN or inf values")
    return yt, yp


_EPS = np.finfo(np.float64).eps  # scikit-learn's floor for |y| in the relative error


def _mean_abs(yt, yp, axis=None):  # sklearn.metrics.mean_absolute_error
    return np.average(np.abs(yp - yt), axis=axis)


def _mean_sq(yt, yp, axis=None):  # sklearn.metrics.mean_squared_error
    return np.average((yt - yp) ** 2, axis=axis)


def _mean_rel(yt, yp, axis=None):  # sklearn.metrics.mean_absolute_percentage_error
    return np.average(np.abs(yp - yt) / np.maximum(np.abs(yt), _EPS), axis=axis)


def _as_2d(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1, 1) if a.ndim <= 1 else a.reshape(-1, a.shape[-1])


def mae(y_true, y_pred) -> float:
    """Mean absolute error over all values."""
    yt, yp = _pair(y_true, y_pred)
    return float(_mean_abs(yt.reshape(-1, 1), yp.reshape(-1, 1), axis=0)[0])


def mse(y_true, y_pred) -> float:
    """Mean squared error over all values."""
    yt, yp = _pair(y_true, y_pred)
    return float(_mean_sq(yt.reshape(-1, 1), yp.reshape(-1, 1), axis=0)[0])


def rmse(y_true, y_pred) -> float:
    """Root mean squared error over all values."""
    return math.sqrt(mse(y_true, y_pred))


def mre(y_true, y_pred) -> float:
    """Mean relative error ``mean |e| / max(|y|, eps)`` as a fraction (see module doc)."""
    yt, yp = _pair(y_true, y_pred)
    return float(_mean_rel(yt.reshape(-1, 1), yp.reshape(-1, 1), axis=0)[0])


def mape(y_true, y_pred) -> float:
    """Mean absolute percentage error, ``100 * mre`` (percent)."""
    return 100.0 * mre(y_true, y_pred)


def _smape_terms(yt: np.ndarray, yp: np.ndarray) -> np.ndarray:
    num = 200.0 * np.abs(yp - yt)
    den = np.abs(yt) + np.abs(yp)
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)  # 0/0 -> 0
    return out


def smape(y_true, y_pred) -> float:
    """Symmetric MAPE in percent, ``mean 200 |e| / (|y| + |y_pred|)`` with 0/0 = 0."""
    yt, yp = _pair(y_true, y_pred)
    return float(_smape_terms(yt, yp).mean())


def mase(y_true, y_pred, scale) -> float:
    """Mean absolute scaled error ``mae / scale`` for a single series (scalar scale)."""
    s = float(scale)
    if not (math.isfinite(s) and s > 0):
        raise expected(_COMPONENT, "a positive finite MASE scale", scale)
    return mae(y_true, y_pred) / s


def naive_mae_scale(train_series, names: Sequence[str] | None = None) -> np.ndarray:
    """In-sample MAE of the one-step naive forecast, per column: ``mean |y_t - y_{t-1}|``.

    ``train_series`` is ``(N, D)`` (a 1-d array is read as ``D = 1``) and must have at least
    two rows. Returns a float64 array ``(D,)``. A constant column has a zero scale and MASE
    would be undefined, so it raises :class:`~lstmkit.core.errors.LstmkitError` (``names``, if
    given, is used to name the column in the message).
    """
    a = np.asarray(train_series, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise expected("MASE scale", "a training series (N, D)", shape_str(a.shape))
    if a.shape[0] < 2:
        raise expected("MASE scale", "a training series with at least 2 rows", a.shape[0])
    if not np.isfinite(a).all():
        raise expected("MASE scale", "a finite training series", "NaN or inf values")
    scale = np.abs(np.diff(a, axis=0)).mean(axis=0)
    bad = np.flatnonzero(scale <= 0)
    if bad.size:
        j = int(bad[0])
        label = repr(names[j]) if names is not None and j < len(names) else f"column {j}"
        raise expected(
            "MASE scale",
            "a non-constant training series for every target",
            f"constant {label}",
        )
    return scale


def skill(mse_model: float, mse_naive: float) -> float:
    """Skill score ``1 - mse_model / mse_naive`` (1 is perfect, 0 is as good as naive)."""
    m, n = float(mse_model), float(mse_naive)
    if not (math.isfinite(n) and n > 0):
        raise expected("Skill", "a positive finite naive MSE", mse_naive)
    if not (math.isfinite(m) and m >= 0):
        raise expected("Skill", "a non-negative finite model MSE", mse_model)
    return 1.0 - m / n


def skill_table(model: dict, naive: dict) -> dict:
    """:func:`skill` overall and per target, from two :func:`compute_metrics` results; NaN
    where it is undefined (constant test windows, where the naive MSE is 0, or a model MSE
    that is not finite)."""
    def one(m: float, n: float) -> float:
        return skill(m, n) if n > 0 and math.isfinite(n) and math.isfinite(m) else math.nan

    out = {"overall": one(model["overall"]["mse"], naive["overall"]["mse"])}
    for name, m in model["per_target"].items():
        out[name] = one(m["mse"], naive["per_target"][name]["mse"])
    return out


# ---------------------------------------------------------------------------
# The metric table
# ---------------------------------------------------------------------------


def _block(yt: np.ndarray, yp: np.ndarray) -> dict:
    """Metrics pooled over rows, per column: (N, D) arrays -> dict of (D,) arrays."""
    m_abs = _mean_abs(yt, yp, axis=0)
    m_sq = _mean_sq(yt, yp, axis=0)
    m_rel = _mean_rel(yt, yp, axis=0)
    return {
        "mae": np.asarray(m_abs, dtype=np.float64),
        "mse": np.asarray(m_sq, dtype=np.float64),
        "rmse": np.sqrt(m_sq),
        "mre": np.asarray(m_rel, dtype=np.float64),
        "mape": 100.0 * np.asarray(m_rel, dtype=np.float64),
        "smape": _smape_terms(yt, yp).mean(axis=0),
    }


def compute_metrics(
    y_true,
    y_pred,
    target_names: Sequence[str],
    mase_scale=None,
    *,
    scale=None,
) -> dict:
    """Forecast metrics overall and per target.

    Parameters
    ----------
    y_true, y_pred
        ``(M, K, D)`` arrays (``(M, D)`` is read as ``K = 1``), in the units the metrics
        should be reported in (usually unscaled).
    target_names
        ``D`` names, keys of ``per_target``.
    mase_scale
        ``(D,)`` MASE denominators (from :func:`naive_mae_scale` on the training series),
        or ``None`` to leave ``mase`` as ``None``. ``scale`` is an alias (the name in
        ``docs/contracts.md``); give at most one of them.

    Returns
    -------
    ``{"overall": {metric: float}, "per_target": {name: {metric: float}}}`` with the keys
    of :data:`METRIC_NAMES`. ``per_target`` pools all windows and horizon steps of one
    target; ``overall`` pools every value of every target, except ``mase`` which is the
    mean of the per-target MASE values. All values are plain Python floats (or ``None``).
    """
    if mase_scale is not None and scale is not None:
        raise expected(_COMPONENT, "one of mase_scale= or scale=", "both")
    if mase_scale is None:
        mase_scale = scale

    yt, yp = _pair(y_true, y_pred)
    if yt.ndim not in (2, 3):
        raise expected(_COMPONENT, "y_true of shape (M, K, D) or (M, D)", shape_str(yt.shape))
    d = yt.shape[-1]
    names = [str(n) for n in target_names] if not isinstance(target_names, str) else None
    if names is None or len(names) != d:
        got = repr(target_names) if names is None else f"{len(names)} names"
        raise expected(_COMPONENT, f"{d} target names (one per target)", got)
    if len(set(names)) != len(names):
        raise expected(_COMPONENT, "distinct target names", names)

    scale_arr = None
    if mase_scale is not None:
        scale_arr = np.asarray(mase_scale, dtype=np.float64).reshape(-1)
        if scale_arr.shape != (d,):
            raise expected(
                _COMPONENT, f"a MASE scale of shape ({d},)", shape_str(np.shape(mase_scale))
            )
        if not (np.isfinite(scale_arr).all() and (scale_arr > 0).all()):
            raise expected(_COMPONENT, "positive finite MASE scales", scale_arr.tolist())

    yt2, yp2 = _as_2d(yt), _as_2d(yp)  # (M*K, D): pool windows and horizon steps
    per = _block(yt2, yp2)
    flat = _block(yt2.reshape(-1, 1), yp2.reshape(-1, 1))  # pool everything

    per_mase = per["mae"] / scale_arr if scale_arr is not None else None
    overall = {k: float(v[0]) for k, v in flat.items()}
    overall["mase"] = float(per_mase.mean()) if per_mase is not None else None

    per_target = {}
    for j, name in enumerate(names):
        row = {k: float(v[j]) for k, v in per.items()}
        row["mase"] = float(per_mase[j]) if per_mase is not None else None
        per_target[name] = row
    return {"overall": overall, "per_target": per_target}
