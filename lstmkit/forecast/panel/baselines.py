"""Baselines of the panel forecaster, every one a first-class forecast of the same series:

* ``naive``: the last value; ``seasonal_naive``: the value one season back;
* ``naive2``: M4's seasonally adjusted naive — when a 90% autocorrelation test at lag ``m``
  says a series is seasonal, classical multiplicative decomposition removes the season, the
  naive forecast is made, and the season is put back;
* ``AutoETS`` and ``AutoTheta`` from ``statsforecast`` (a well-kept library; not
  re-implemented). AutoETS gets the season only up to ``m = 24``, as R's ``ets`` (beyond
  that its seasonal states are too many to fit: M4 Weekly took 331 s at m = 52, 10 s at
  m = 1); AutoTheta gets it always.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

ETS_MAX_SEASON = 24


def naive(history: list[np.ndarray], K: int) -> np.ndarray:
    return np.stack([np.repeat(x[-1], K) for x in history])  # (S, K)


def seasonal_naive(history: list[np.ndarray], K: int, m: int) -> np.ndarray:
    out = []
    for x in history:
        if len(x) < m:
            out.append(np.repeat(x[-1], K))
            continue
        season = x[-m:]
        out.append(season[np.arange(K) % m])
    return np.stack(out)


def is_seasonal(x: np.ndarray, m: int) -> bool:
    """M4's test: |acf(m)| > 1.645 sqrt((1 + 2 sum_{k<m} acf(k)^2) / n), for n >= 3m."""
    if m <= 1 or len(x) < 3 * m:
        return False
    xc = x - x.mean()
    den = float(xc @ xc)
    if den == 0:
        return False
    acf = np.array([float(xc[k:] @ xc[: len(x) - k]) / den for k in range(1, m + 1)])
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(acf[:-1] ** 2)) / len(x))
    return bool(abs(acf[-1]) > limit)


def seasonal_indices(x: np.ndarray, m: int) -> np.ndarray:
    """Classical multiplicative decomposition: the ``m`` seasonal indices (mean 1), aligned
    so that index ``t % m`` belongs to ``x[t]``."""
    n = len(x)
    if m % 2 == 0:  # 2 x m centred moving average
        w = np.r_[0.5, np.ones(m - 1), 0.5] / m
    else:
        w = np.ones(m) / m
    trend = np.convolve(x, w, mode="valid")
    start = (len(w) - 1) // 2
    ratio = x[start: start + len(trend)] / trend
    idx = np.array([np.nanmean(ratio[(np.arange(len(ratio)) + start) % m == j])
                    for j in range(m)])
    idx = idx / idx.mean()
    return idx, n


def naive2(history: list[np.ndarray], K: int, m: int) -> np.ndarray:
    out = []
    for x in history:
        if m > 1 and is_seasonal(x, m) and (x > 0).all():
            idx, n = seasonal_indices(x, m)
            adj = x / idx[np.arange(n) % m]
            out.append(adj[-1] * idx[np.arange(n, n + K) % m])
        else:
            out.append(np.repeat(x[-1], K))
    return np.stack(out)


def residual_intervals(history: list[np.ndarray], f: np.ndarray, lag, level: float):
    """Symmetric intervals around ``f`` (S, K) from each series' in-sample errors of the same
    rule: step ``h`` uses the ``level`` quantile of ``|x_t - x_{t - lag(h)}|``."""
    lo, hi = np.empty_like(f), np.empty_like(f)
    for i, x in enumerate(history):
        for h in range(f.shape[1]):
            d = lag(h + 1)
            e = np.abs(x[d:] - x[:-d]) if len(x) > d else np.abs(np.diff(x))
            q = np.quantile(e, level / 100) if e.size else 0.0
            lo[i, h], hi[i, h] = f[i, h] - q, f[i, h] + q
    return lo, hi


def naive_intervals(history, forecasts: dict, m: int, level: float) -> dict:
    """Residual-quantile intervals of the naive and seasonal naive forecasts."""
    return {"naive": residual_intervals(history, forecasts["naive"], lambda h: h, level),
            "seasonal naive": residual_intervals(history, forecasts["seasonal naive"],
                                                 lambda h: m * math.ceil(h / m), level)}


def statsforecast_baselines(ids, history: list[np.ndarray], K: int, m: int,
                            workers: int = 1, levels=()) -> tuple[dict, dict]:
    """AutoETS and AutoTheta forecasts (S, K) and their seconds; with ``levels``, also
    AutoETS's own intervals as ``("AutoETS", level) -> (lo, hi)``."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, AutoTheta

    df = pd.DataFrame({"unique_id": np.repeat(np.asarray(ids, dtype=object),
                                              [len(x) for x in history]),
                       "ds": np.concatenate([np.arange(len(x)) for x in history]),
                       "y": np.concatenate(history)})
    out, seconds = {}, {}
    models = {"AutoETS": AutoETS(season_length=m if m <= ETS_MAX_SEASON else 1),
              "AutoTheta": AutoTheta(season_length=m)}
    for name, model in models.items():
        t0 = time.perf_counter()
        lv = [int(v) if float(v).is_integer() else v for v in levels] \
            if name == "AutoETS" and levels else None
        fc = StatsForecast(models=[model], freq=1, n_jobs=workers).forecast(df=df, h=K,
                                                                           level=lv)
        fc = fc.set_index("unique_id").loc[list(ids)]
        out[name] = fc[name].to_numpy(float).reshape(len(ids), K)
        for v in lv or ():
            out[(name, float(v))] = tuple(fc[f"{name}-{k}-{v}"].to_numpy(float).reshape(
                len(ids), K) for k in ("lo", "hi"))
        seconds[name] = time.perf_counter() - t0
    return out, seconds


def all_baselines(ids, history, K: int, season: int, period: int, workers: int = 1,
                  statistical: bool = True, levels=()) -> tuple[dict, dict]:
    """Every baseline's forecasts (name -> (S, K)) and seconds; ``period``: Naive2's;
    with ``levels``, intervals too: ``(name, level) -> (lo, hi)``."""
    t0 = time.perf_counter()
    out = {"naive": naive(history, K), "seasonal naive": seasonal_naive(history, K, season),
           "naive2": naive2(history, K, period)}
    seconds = dict.fromkeys(out, (time.perf_counter() - t0) / 3)
    for lv in levels:
        for name, lohi in naive_intervals(history, out, season, lv).items():
            out[(name, float(lv))] = lohi
    if statistical:
        more, secs = statsforecast_baselines(ids, history, K, season, workers, levels)
        out.update(more)
        seconds.update(secs)
    return out, seconds
