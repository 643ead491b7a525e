"""Scoring a global forecaster against the baselines, on the same series and steps.

The history is what the model may know; the actuals are the ``horizon`` points that follow
it in every series: the held-out test points of ``fit``, or a separate test table whose ids
must be the history's. Every method forecasts from the same history and is scored with
M4's sMAPE, MASE and OWA (:mod:`.metrics`), overall, per series and per horizon step.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from lstmkit.core.errors import expected
from lstmkit.forecast.panel.baselines import all_baselines
from lstmkit.forecast.panel.frame import to_long
from lstmkit.forecast.panel.metrics import (
    interval_score,
    mase_scale,
    metric_tables,
    pinball_score,
)


def check_same_series(history, test, cols=None) -> None:
    """Refuse a test panel whose series are not the history's (``history``: its ids, or a
    long-format frame with ``cols``)."""
    ids = set(history[cols.id_col].astype(str)) if cols is not None else set(history)
    extra = sorted(ids ^ set(test.ids))
    if extra:
        raise expected("Evaluate", "the same series in the test table as in the history",
                       f"'{extra[0]}' in only one of them ({len(extra)} differ)")


def history_and_actuals(model, test_df, data):
    """(history panel, actuals (S, K), futr_df for the forecast)."""
    K = model.horizon
    if data is not None:
        history = model.read(data)
    elif getattr(model, "panel_", None) is not None:
        history = model.panel_
    else:
        raise expected("Evaluate", "the history to forecast from (data / --data)", "none")
    if test_df is None:
        if data is not None or not getattr(model, "test_", 0):
            raise expected("Evaluate", "test points: a test table (test_df / --test-data), "
                           "or a fit that held the last horizon out (test > 0)", "neither")
        return history.head(K), np.stack(history.tail(K)), None
    test = model.read(test_df)
    check_same_series(history.ids, test)
    order = {k: i for i, k in enumerate(test.ids)}
    rows = [order[k] for k in history.ids]
    short = [history.ids[j] for j, i in enumerate(rows) if len(test.y[i]) < K]
    if short:
        raise expected("Evaluate", f"{K} test points per series", f"fewer in '{short[0]}'")
    dates = history.future_dates(K)
    for j, i in enumerate(rows):
        if not np.array_equal(np.asarray(test.ds[i][:K]), np.asarray(dates[j])):
            raise expected("Evaluate", "test points that follow the history",
                           f"series '{history.ids[j]}' starting at {test.ds[i][0]}")
    actual = np.stack([test.y[i][:K] for i in rows])
    return history, actual, (test_df if model.columns_.futr else None)


def evaluate_panel(model, test_df, data, period: int, statistical: bool, workers,
                   level=()) -> dict:
    from lstmkit.forecast.panel.intervals import bounds, check_levels

    levels = check_levels(model, level)
    history, actual, futr_df = history_and_actuals(model, test_df, data)
    K = model.horizon
    t0 = time.perf_counter()
    qf = model.forecast_quantiles(history, futr_df)
    f = model.point(qf)
    forecasts = {model.label: f}
    intervals = {(model.label, lv): bounds(model, f, history, lv, qf) for lv in levels}
    seconds = {model.label: getattr(model, "fit_seconds_", 0.0) + time.perf_counter() - t0}
    if workers is None:
        from lstmkit.core.parallel import available_cores

        workers = model.workers or available_cores()
    base, secs = all_baselines(history.ids, history.y, K, model.season, period, workers,
                               statistical, levels)
    intervals.update({k: v for k, v in base.items() if isinstance(k, tuple)})
    forecasts.update({k: v for k, v in base.items() if not isinstance(k, tuple)})
    seconds.update(secs)
    scale_m = mase_scale(history.y, period)
    out = metric_tables(actual, forecasts, scale_m, history.ids)
    out["seconds"] = seconds
    out["intervals"] = {}
    steps = []
    columns = {"y": list(actual), **{n: list(f) for n, f in forecasts.items()}}
    for (name, lv), (lo, hi) in intervals.items():
        score = interval_score(actual, lo, hi, scale_m, lv)
        row = out["intervals"].setdefault(name, {})
        row.update({f"coverage_{lv:g}": score["coverage"], f"msis_{lv:g}": score["msis"],
                    f"acd_{lv:g}": score["acd"]})
        steps.append(pd.DataFrame({"method": name, "level": lv, "step": np.arange(1, K + 1),
                                   "coverage": score["step_coverage"],
                                   "msis": score["step_msis"]}))
        if name == model.label:
            columns[f"lo_{lv:g}"], columns[f"hi_{lv:g}"] = list(lo), list(hi)
    out["quantiles"] = {}
    for j, q in enumerate(model.quantiles):  # pinball loss, scaled like MASE
        columns[f"q_{100 * q:g}"] = list(qf[..., j])
        out["quantiles"][f"{q:g}"] = pinball_score(actual, qf[..., j], q, scale_m)
        e = actual - qf[..., j]
        steps.append(pd.DataFrame({"method": model.label, "quantile": q,
                                   "step": np.arange(1, K + 1), "pinball": (np.maximum(
                                       q * e, (q - 1) * e) / scale_m[:, None]).mean(axis=0)}))
    out["interval_per_step"] = pd.concat(steps, ignore_index=True) if steps else None
    out["forecast"] = to_long(history.ids, history.future_dates(K), columns, model.columns_)
    out["period"] = period
    return out


def backtest_report(model, folds, period: int) -> dict:
    """Metrics of a backtest's folds beside naive, seasonal naive and Naive2 forecasting
    from the same histories: ``overall`` (pooled over folds), ``per_fold`` (fold -> method
    -> metrics), ``per_step`` (pooled)."""
    from lstmkit.forecast.panel.baselines import naive, naive2, seasonal_naive

    K = model.horizon
    pooled: dict[str, list] = {}
    actual, scales, ids, per_fold = [], [], [], {}
    for w, (_, history, a, f, _) in enumerate(folds, start=1):
        fc = {model.label: f, "naive": naive(history.y, K),
              "seasonal naive": seasonal_naive(history.y, K, model.season),
              "naive2": naive2(history.y, K, period)}
        scale = mase_scale(history.y, period)
        per_fold[w] = metric_tables(a, fc, scale, history.ids)["overall"]
        for name, v in fc.items():
            pooled.setdefault(name, []).append(v)
        actual.append(a)
        scales.append(scale)
        ids += list(history.ids)
    out = metric_tables(np.vstack(actual), {n: np.vstack(v) for n, v in pooled.items()},
                        np.concatenate(scales), ids)
    out["per_fold"] = per_fold
    return out
