"""Forecast accuracy as the M4 competition defined it (per series, then averaged).

* ``sMAPE = mean_h 200 |y - f| / (|y| + |f|)``
* ``MASE = mean_h |y - f| / mean_t |x_t - x_{t-m}|`` over the series' training values ``x``
* ``OWA = (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2`` on the averages over series.

Checked equal to the competition's scorer on M4 Weekly (``tests/test_panel_metrics.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def smape_terms(y: np.ndarray, f: np.ndarray) -> np.ndarray:
    """200 |y - f| / (|y| + |f|), elementwise (0 where both are 0)."""
    den = np.abs(y) + np.abs(f)
    return np.where(den > 0, 200 * np.abs(y - f) / np.where(den > 0, den, 1), 0.0)


def mase_scale(history: list[np.ndarray], period: int) -> np.ndarray:
    """Per series: the mean absolute ``period``-step change of its training values (the
    in-sample seasonal-naive error); a series too short for it uses lag 1."""
    out = []
    for x in history:
        m = period if len(x) > period else 1
        d = np.abs(x[m:] - x[:-m]) if len(x) > m else np.abs(x)
        s = float(d.mean()) if d.size else 1.0
        out.append(s if s > 0 else 1.0)
    return np.asarray(out)


def score(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray) -> dict:
    """sMAPE and MASE of ``forecast`` (S, K) against ``actual`` (S, K): per series (S,),
    per horizon step (K,) and overall."""
    s = smape_terms(actual, forecast)  # (S, K)
    a = np.abs(actual - forecast) / scale[:, None]  # (S, K)
    return {"smape": float(s.mean()), "mase": float(a.mean()),
            "series_smape": s.mean(axis=1), "series_mase": a.mean(axis=1),
            "step_smape": s.mean(axis=0), "step_mase": a.mean(axis=0)}


def owa(m: dict, naive2: dict) -> float:
    """M4's overall weighted average relative to Naive2 (1: as good as Naive2)."""
    return 0.5 * (m["smape"] / naive2["smape"] + m["mase"] / naive2["mase"])


def metric_tables(actual, forecasts: dict[str, np.ndarray], scale, ids) -> dict:
    """Every method's metrics: ``overall`` (method -> sMAPE, MASE, OWA), ``per_series`` and
    ``per_step`` (long DataFrames). ``forecasts`` must hold ``naive2``."""
    scores = {name: score(actual, f, scale) for name, f in forecasts.items()}
    ref = scores["naive2"]
    overall = {name: {"smape": s["smape"], "mase": s["mase"], "owa": owa(s, ref)}
               for name, s in scores.items()}
    per_series = pd.concat([pd.DataFrame({"unique_id": ids, "method": name,
                                          "smape": s["series_smape"], "mase": s["series_mase"]})
                            for name, s in scores.items()], ignore_index=True)
    K = actual.shape[1]
    per_step = pd.concat([pd.DataFrame({"step": np.arange(1, K + 1), "method": name,
                                        "smape": s["step_smape"], "mase": s["step_mase"]})
                          for name, s in scores.items()], ignore_index=True)
    return {"overall": overall, "per_series": per_series, "per_step": per_step}


def interval_score(actual, lo, hi, scale, level: float) -> dict:
    """M4's interval scores of ``[lo, hi]`` (S, K) at ``level`` percent: coverage, MSIS
    (width plus ``2/alpha`` times the miss, scaled like MASE, averaged over series) and ACD
    (``|coverage - level|``); ``step_coverage`` (K,)."""
    alpha = 1 - level / 100
    pen = (hi - lo) + (2 / alpha) * ((lo - actual) * (actual < lo) + (actual - hi) * (actual > hi))
    inside = (actual >= lo) & (actual <= hi)
    cov = float(inside.mean())
    return {"coverage": cov, "msis": float(np.mean(pen.mean(axis=1) / scale)),
            "acd": abs(cov - level / 100), "step_coverage": inside.mean(axis=0),
            "step_msis": (pen / scale[:, None]).mean(axis=0)}


def pinball_score(actual, f, q: float, scale) -> float:
    """The pinball loss of quantile-``q`` forecasts ``f`` (S, K), scaled like MASE and
    averaged over series."""
    e = actual - f
    loss = np.maximum(q * e, (q - 1) * e)  # (S, K)
    return float(np.mean(loss.mean(axis=1) / scale))
