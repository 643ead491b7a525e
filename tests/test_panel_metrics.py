"""M4's metrics and baselines: checked against the competition's published figures (the naive
forecast of M4 Weekly is Naive2 there: sMAPE 9.161, MASE 2.777) and against statsmodels."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.forecast.data import load_frame
from lstmkit.forecast.panel import baselines as bl
from lstmkit.forecast.panel.metrics import mase_scale, metric_tables, smape_terms


def _m4():
    train, test = load_frame("m4-weekly"), load_frame("m4-weekly:part=test")
    ids = list(dict.fromkeys(train.unique_id))
    hist = [g.y.to_numpy() for _, g in train.groupby("unique_id", sort=False)]
    actual = np.stack([test[test.unique_id == k].y.to_numpy() for k in ids])
    return ids, hist, actual


def test_naive_on_m4_weekly_scores_the_published_naive2_figures():
    ids, hist, actual = _m4()
    f = bl.naive(hist, 13)
    tables = metric_tables(actual, {"naive2": bl.naive2(hist, 13, 1), "naive": f},
                           mase_scale(hist, 1), ids)
    naive = tables["overall"]["naive"]
    assert round(naive["smape"], 3) == 9.161 and round(naive["mase"], 3) == 2.777
    assert tables["overall"]["naive2"]["owa"] == pytest.approx(1.0)
    assert len(tables["per_series"]) == 2 * 359 and len(tables["per_step"]) == 2 * 13


def test_smape_terms_follow_the_definition():
    y, f = np.array([100.0, 0.0, 10.0]), np.array([110.0, 0.0, -10.0])
    np.testing.assert_allclose(smape_terms(y, f), [200 * 10 / 210, 0.0, 200.0])


def test_mase_scale_is_the_in_sample_seasonal_naive_error():
    x = np.array([1.0, 3.0, 2.0, 6.0, 5.0])
    assert mase_scale([x], 1)[0] == pytest.approx(np.mean([2, 1, 4, 1]))
    assert mase_scale([x], 2)[0] == pytest.approx(np.mean([1, 3, 3]))


def _seasonal(n=96, m=12, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return (100 + 0.3 * t) * (1 + 0.2 * np.sin(2 * np.pi * t / m)) + rng.normal(0, 0.5, n)


def test_the_seasonality_test_uses_the_autocorrelation_statsmodels_computes():
    from statsmodels.tsa.stattools import acf

    x = _seasonal()
    a = acf(x, nlags=12, fft=False)[1:]
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(a[:-1] ** 2)) / len(x))
    assert bool(abs(a[-1]) > limit) and bl.is_seasonal(x, 12)
    weak = x + np.random.default_rng(3).normal(0, 40, len(x))  # near the limit either way
    b = acf(weak, nlags=12, fft=False)[1:]
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(b[:-1] ** 2)) / len(weak))
    assert bl.is_seasonal(weak, 12) == bool(abs(b[-1]) > limit)
    noise = np.random.default_rng(1).normal(100, 1, 96)
    assert not bl.is_seasonal(noise, 12)


def test_seasonal_indices_equal_statsmodels_classical_decomposition():
    from statsmodels.tsa.seasonal import seasonal_decompose

    x = _seasonal()
    idx, n = bl.seasonal_indices(x, 12)
    sm = seasonal_decompose(x, model="multiplicative", period=12).seasonal[:12]
    np.testing.assert_allclose(idx, sm, rtol=1e-10)


def test_naive2_reseasonalises_seasonal_series_and_is_naive_otherwise():
    x = _seasonal()
    f = bl.naive2([x], 12, 12)[0]
    idx, n = bl.seasonal_indices(x, 12)
    np.testing.assert_allclose(f / f[0], idx[np.arange(n, n + 12) % 12] / idx[n % 12])
    flat = np.random.default_rng(2).normal(50, 1, 96)
    np.testing.assert_array_equal(bl.naive2([flat], 5, 12)[0], np.repeat(flat[-1], 5))
    np.testing.assert_array_equal(bl.seasonal_naive([x], 14, 12)[0][[0, 12]], x[[-12, -12]])


def test_statsforecast_baselines_forecast_every_series():
    hist = [_seasonal(60, 12, s) for s in range(3)]
    out, secs = bl.statsforecast_baselines(["a", "b", "c"], hist, 6, 12)
    assert set(out) == {"AutoETS", "AutoTheta"} and set(secs) == set(out)
    for f in out.values():
        assert f.shape == (3, 6) and np.isfinite(f).all()
