"""statsforecast or statsmodels for the statistical baselines: M4 Weekly accuracy and seconds.

    .venv/bin/python benchmarks/statistical_baselines.py

statsforecast's AutoETS (m = 1: lstmkit gives ETS the season only up to 24) and AutoTheta
(m = 52), as lstmkit's reports use them, against statsmodels' ETSModel with an AICc
selection over the same six non-seasonal models (additive or multiplicative error; no,
additive or damped trend) and its ThetaModel (period 52, its own seasonality test). The
decision this informed (README, "statsforecast or statsmodels") keeps statsforecast and
pins pandas < 3.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from lstmkit.core.table import format_table
from lstmkit.forecast.data import load_frame
from lstmkit.forecast.panel.baselines import naive2, statsforecast_baselines
from lstmkit.forecast.panel.metrics import mase_scale, metric_tables


def _ets(x):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    best = None
    for error in ("add", "mul"):
        for trend, damped in ((None, False), ("add", False), ("add", True)):
            try:
                fit = ETSModel(x, error=error, trend=trend, damped_trend=damped).fit(disp=False)
            except (ValueError, np.linalg.LinAlgError):
                continue
            if best is None or fit.aicc < best.aicc:
                best = fit
    return best.forecast(13)


def main() -> None:
    from statsmodels.tsa.forecasting.theta import ThetaModel

    warnings.filterwarnings("ignore")
    train, test = load_frame("m4-weekly"), load_frame("m4-weekly:part=test")
    ids = list(dict.fromkeys(train.unique_id))
    hist = [g.y.to_numpy() for _, g in train.groupby("unique_id", sort=False)]
    actual = np.stack([test[test.unique_id == k].y.to_numpy() for k in ids])
    forecasts, seconds = {"naive2": naive2(hist, 13, 1)}, {}
    sf, secs = statsforecast_baselines(ids, hist, 13, 52, workers=2)
    for name in ("AutoETS", "AutoTheta"):
        forecasts[f"statsforecast {name}"], seconds[f"statsforecast {name}"] = sf[name], secs[name]
    t0 = time.perf_counter()
    forecasts["statsmodels ETSModel"] = np.stack([_ets(x) for x in hist])
    seconds["statsmodels ETSModel"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    forecasts["statsmodels ThetaModel"] = np.stack([ThetaModel(x, period=52).fit().forecast(13)
                                                    for x in hist])
    seconds["statsmodels ThetaModel"] = time.perf_counter() - t0
    overall = metric_tables(actual, forecasts, mase_scale(hist, 1), ids)["overall"]
    rows = [[n, f"{o['smape']:.3f}", f"{o['mase']:.3f}", f"{o['owa']:.3f}",
             f"{seconds[n]:.1f}"] for n, o in overall.items() if n != "naive2"]
    print(format_table(["method", "sMAPE", "MASE", "OWA", "seconds"], rows,
                       "M4 Weekly, 359 series (statsforecast on 2 workers, statsmodels on 1)",
                       "<>>>>"))


if __name__ == "__main__":
    main()
