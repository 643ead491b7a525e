"""Window baselines: behaviour on hand-made and exactly predictable series."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.core.errors import LstmkitError
from lstmkit.forecast.baselines import (
    BASELINES,
    LinearARBaseline,
    MeanBaseline,
    NaiveBaseline,
    SeasonalNaiveBaseline,
    make_baseline,
)


def windows(series: np.ndarray, lookback: int, horizon: int):
    """(N, D) series -> H (M, L, D), Y (M, K, D) with stride 1."""
    s = np.asarray(series, dtype=np.float64)
    if s.ndim == 1:
        s = s[:, None]
    m = len(s) - lookback - horizon + 1
    H = np.stack([s[i : i + lookback] for i in range(m)])
    Y = np.stack([s[i + lookback : i + lookback + horizon] for i in range(m)])
    return H, Y


def test_naive_repeats_last_value():
    H = np.array([[[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]], [[5.0, 0.0], [6.0, -1.0], [7.0, -2.0]]])
    Y = np.zeros((2, 4, 2))
    pred = NaiveBaseline().fit(H, Y).predict(H)
    assert pred.shape == (2, 4, 2)
    np.testing.assert_array_equal(pred[0], [[3.0, 30.0]] * 4)
    np.testing.assert_array_equal(pred[1], [[7.0, -2.0]] * 4)
    assert NaiveBaseline().fit(H, Y).horizon == 4
    assert NaiveBaseline().fit(H, Y).predict(H, horizon=2).shape == (2, 2, 2)
    # unfitted, with an explicit horizon
    np.testing.assert_array_equal(NaiveBaseline().predict(H, horizon=1)[:, 0], H[:, -1])


def test_seasonal_naive_exact_on_periodic_series():
    t = np.arange(60)
    pattern = np.array([3.0, -1.0, 4.0, 1.0, -5.0])  # period 5
    series = np.stack([pattern[t % 5], 10 * pattern[(t + 2) % 5]], axis=1)
    H, Y = windows(series, lookback=7, horizon=12)  # K > period: wraps twice
    model = SeasonalNaiveBaseline(period=5).fit(H, Y)
    pred = model.predict(H)
    assert pred.shape == Y.shape
    np.testing.assert_array_equal(pred, Y)
    # the naive baseline is not exact on this series
    assert not np.allclose(NaiveBaseline().fit(H, Y).predict(H), Y)


def test_seasonal_naive_formula_by_hand():
    H = np.arange(1.0, 7.0).reshape(1, 6, 1)  # y = 1..6, y_t = 6
    pred = SeasonalNaiveBaseline(3).predict(H, horizon=7)[0, :, 0]
    # k=1..3 -> y_{t-2}, y_{t-1}, y_t = 4, 5, 6 ; then repeats
    np.testing.assert_array_equal(pred, [4, 5, 6, 4, 5, 6, 4])
    np.testing.assert_array_equal(
        SeasonalNaiveBaseline(1).predict(H, horizon=3), NaiveBaseline().predict(H, horizon=3)
    )


def test_seasonal_naive_period_too_long():
    H = np.zeros((3, 10, 1))
    Y = np.zeros((3, 2, 1))
    with pytest.raises(LstmkitError) as err:
        SeasonalNaiveBaseline(12).fit(H, Y)
    assert str(err.value) == "SeasonalNaive: expected period <= lookback=10, got 12"
    with pytest.raises(LstmkitError, match="period <= lookback=10, got 12"):
        SeasonalNaiveBaseline(12).predict(H, horizon=1)
    with pytest.raises(LstmkitError, match="^SeasonalNaive: expected period to be a positive"):
        SeasonalNaiveBaseline(0)


def test_mean_baseline_is_window_mean():
    H = np.array([[[1.0, 0.0], [2.0, 4.0], [6.0, 8.0]]])
    Y = np.full((1, 3, 2), 100.0)  # targets do not enter the forecast
    pred = MeanBaseline().fit(H, Y).predict(H)
    np.testing.assert_allclose(pred, [[[3.0, 4.0]] * 3])


def _ar2(n: int, a: float, b: float, y0: float, y1: float) -> np.ndarray:
    y = np.empty(n)
    y[0], y[1] = y0, y1
    for t in range(2, n):
        y[t] = a * y[t - 1] + b * y[t - 2]
    return y


def test_linear_ar_recovers_ar2_and_predicts_exactly():
    a, b = 1.5, -0.8  # damped oscillation, slow decay
    series = _ar2(80, a, b, 1.0, -0.5)
    H, Y = windows(series, lookback=2, horizon=1)
    model = LinearARBaseline().fit(H, Y)
    assert model.coef_.shape == (1, 1, 2)
    # H[:, 0] = y_{t-1}, H[:, 1] = y_t  ->  y_{t+1} = b*y_{t-1} + a*y_t
    np.testing.assert_allclose(model.coef_[0, 0], [b, a], atol=1e-8)
    np.testing.assert_allclose(model.intercept_, [[0.0]], atol=1e-8)
    np.testing.assert_allclose(model.predict(H), Y, atol=1e-9)

    # new, unseen windows from a different start are predicted exactly too
    other = _ar2(30, a, b, -2.0, 3.0)
    H2, Y2 = windows(other, lookback=2, horizon=1)
    np.testing.assert_allclose(model.predict(H2), Y2, atol=1e-8)


def test_linear_ar_multistep_and_multitarget_shapes():
    a, b = 1.5, -0.8
    s1 = _ar2(90, a, b, 1.0, -0.5)
    s2 = _ar2(90, 0.5, 0.3, 2.0, 1.0) + 3.0  # offset -> needs the intercept
    series = np.stack([s1, s2], axis=1)
    H, Y = windows(series, lookback=4, horizon=3)
    model = LinearARBaseline().fit(H, Y)
    assert model.horizon == 3 and model.n_targets == 2 and model.lookback == 4
    assert model.coef_.shape == (3, 2, 8) and model.intercept_.shape == (3, 2)
    pred = model.predict(H)
    assert pred.shape == (H.shape[0], 3, 2)
    np.testing.assert_allclose(pred, Y, atol=1e-6)


def test_linear_ar_ridge_shrinks():
    rng = np.random.default_rng(0)
    H = rng.normal(size=(50, 3, 1))
    Y = (H[:, :, 0] @ np.array([0.5, -1.0, 2.0]))[:, None, None] + 1.0
    ols = LinearARBaseline().fit(H, Y)
    np.testing.assert_allclose(ols.coef_[0, 0], [0.5, -1.0, 2.0], atol=1e-10)
    ridge = LinearARBaseline(ridge=10.0).fit(H, Y)
    assert np.linalg.norm(ridge.coef_) < np.linalg.norm(ols.coef_)
    assert not np.allclose(ridge.predict(H), Y)
    with pytest.raises(LstmkitError, match="^LinearAR: expected ridge as a finite number >= 0"):
        LinearARBaseline(ridge=-1)


def test_linear_ar_errors():
    H = np.zeros((5, 3, 2))
    Y = np.zeros((5, 2, 2))
    with pytest.raises(LstmkitError) as err:
        LinearARBaseline().predict(H)
    assert str(err.value) == "LinearAR: expected a fitted model, got an unfitted one"
    with pytest.raises(LstmkitError, match="expected a fitted model"):
        LinearARBaseline().predict(H, horizon=2)
    model = LinearARBaseline().fit(H, Y)
    with pytest.raises(LstmkitError, match=r"^LinearAR: expected H with D=2 targets .*got 1$"):
        model.predict(np.zeros((5, 3, 1)))
    with pytest.raises(LstmkitError, match=r"expected H with lookback L=3 .*got 4$"):
        model.predict(np.zeros((5, 4, 2)))
    with pytest.raises(LstmkitError, match=r"expected horizon=2 \(the fitted one\), got 3"):
        model.predict(H, horizon=3)
    assert model.predict(H, horizon=2).shape == (5, 2, 2)


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_common_validation(name):
    kw = {"period": 2} if name == "seasonal" else {}
    model = make_baseline(name, **kw)
    comp = model.component
    H = np.arange(24.0).reshape(4, 3, 2)
    Y = np.ones((4, 2, 2))
    with pytest.raises(LstmkitError, match=rf"^{comp}: expected a fitted model"):
        model.predict(H)
    with pytest.raises(
        LstmkitError, match=rf"^{comp}: expected H of shape \(M, L, D\), got \(4, 6\)"
    ):
        model.fit(H.reshape(4, 6), Y)
    with pytest.raises(LstmkitError, match=rf"^{comp}: expected Y \(M, K, D\) matching H"):
        model.fit(H, np.ones((3, 2, 2)))
    with pytest.raises(LstmkitError, match="finite values in H"):
        model.fit(np.full((4, 3, 2), np.nan), Y)
    assert model.fit(H, Y) is model
    out = model.predict(H)
    assert out.shape == (4, 2, 2)
    with pytest.raises(LstmkitError, match=rf"^{comp}: expected H with D=2 targets"):
        model.predict(H[:, :, :1])
    with pytest.raises(LstmkitError, match="horizon to be a positive integer"):
        model.predict(H, horizon=0)


def test_registry_and_make_baseline():
    assert set(BASELINES) == {"naive", "seasonal", "mean", "linear"}
    assert isinstance(make_baseline("naive"), NaiveBaseline)
    assert make_baseline("seasonal", period=4).period == 4
    assert make_baseline("linear", ridge=0.5).ridge == 0.5
    assert isinstance(make_baseline("Mean"), MeanBaseline)
    with pytest.raises(LstmkitError) as err:
        make_baseline("arima")
    assert str(err.value) == (
        "Baselines: expected one of linear, mean, naive, seasonal, got 'arima'"
    )
    with pytest.raises(LstmkitError, match="^Baselines: expected valid arguments for 'naive'"):
        make_baseline("naive", period=3)
