"""Conformal prediction intervals and rolling-origin backtests of the global forecaster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from panels import synthetic_panel

import lstmkit
from lstmkit.cli.main import main
from lstmkit.core.errors import LstmkitError
from lstmkit.forecast.panel.intervals import quantiles
from lstmkit.forecast.panel.model import GlobalForecaster

FAST = dict(lookback=12, horizon=4, hidden_size=16, epochs=3, steps_per_epoch=20,
            batch_size=64, seeds=1, workers=1, progress=False, season=12)


def test_the_conformal_quantile_is_the_finite_sample_one():
    errors = np.arange(1.0, 20.0)[:, None] * np.array([[1.0, -2.0]])  # n = 19, 2 steps
    # level 90: the ceil(20 * 0.9) = 18th smallest absolute error, per step
    np.testing.assert_array_equal(quantiles(errors, 90), [18.0, 36.0])
    np.testing.assert_array_equal(quantiles(errors, 99), [19.0, 38.0])  # capped at the max


def test_intervals_cover_about_their_level_on_new_points():
    df = synthetic_panel(30, noise=3.0)
    f = GlobalForecaster(**FAST, conformal_windows=3).fit(df)
    assert f.calibration_.shape == (90, 4)
    rep = f.evaluate(level=(80, 95), statistical=False)
    cov = rep["intervals"]["global LSTM"]
    # 120 held-out points: the binomial standard deviation at 80% is 0.037
    assert 0.68 <= cov["coverage_80"] <= 0.92, cov
    assert cov["coverage_95"] >= 0.85 and cov["msis_95"] > 0
    fc = rep["forecast"]
    assert (fc["lo_95"] <= fc["lo_80"]).all() and (fc["lo_80"] <= fc["global LSTM"]).all()
    assert (fc["global LSTM"] <= fc["hi_80"]).all() and (fc["hi_80"] <= fc["hi_95"]).all()
    assert set(rep["intervals"]) == {"global LSTM", "naive", "seasonal naive"}


def test_calibration_is_saved_with_the_model(tmp_path):
    df = synthetic_panel(10)
    f = GlobalForecaster(**FAST, conformal_windows=2).fit(df, test=0)
    f.save(tmp_path / "m")
    g = lstmkit.load(tmp_path / "m")
    np.testing.assert_array_equal(f.calibration_, g.calibration_)
    pd.testing.assert_frame_equal(f.predict(level=[80]), g.predict(df, level=[80]))


def test_a_backtest_fold_never_sees_its_own_test_points():
    # with refit, what follows a cut-off (targets and covariates) cannot change that fold's
    # forecast: change the 4 points between the two cut-offs wildly (the oldest fold's test
    # points, the newest fold's last history)
    df = synthetic_panel(5)
    other = df.copy()
    tail = df.groupby("unique_id").tail(8).groupby(df.unique_id).head(4).index
    other.loc[tail, "y"] *= 100.0
    other.loc[tail, "promo"] = 99.0
    tables = [GlobalForecaster(**FAST).fit(d, hist_exog=["promo"], test=0)
              .backtest(n_windows=2, refit=True) for d in (df, other)]
    first = [t[t.cutoff == t.cutoff.min()] for t in tables]
    pd.testing.assert_series_equal(first[0].forecast, first[1].forecast)  # bitwise
    last = [t[t.cutoff == t.cutoff.max()] for t in tables]
    assert not last[0].forecast.equals(last[1].forecast)  # the newest fold learned from them
    assert list(tables[0].columns) == ["unique_id", "cutoff", "ds", "y", "forecast"]
    assert tables[0].groupby("unique_id").cutoff.nunique().eq(2).all()


def test_without_refit_every_fold_is_forecast_in_one_batched_pass():
    from lstmkit.forecast.panel.intervals import backtest_folds

    f = GlobalForecaster(**FAST).fit(synthetic_panel(4), test=0)
    folds = backtest_folds(f, f.panel_, 3, 2, refit=False)
    model = folds[0][-1]
    for _, history, _, forecast, same in folds:
        assert same is model  # one model for every fold
        torch.testing.assert_close(torch.as_tensor(forecast),
                                   torch.as_tensor(model.forecast_arrays(history)))


def test_bad_interval_and_backtest_requests_are_refused_in_one_line():
    df = synthetic_panel(3)
    plain = GlobalForecaster(**FAST).fit(df)
    with pytest.raises(LstmkitError, match="conformal_windows >= 1"):
        plain.predict(level=[80])  # says how to get intervals
    calibrated = GlobalForecaster(**FAST, conformal_windows=1).fit(df)
    with pytest.raises(LstmkitError, match=r"levels in \(0, 100\), got 100"):
        calibrated.predict(level=[100])
    with pytest.raises(LstmkitError, match=r"at least 99 calibration errors per step for level "
                                           r"99 \(more series or conformal_windows\), got 3"):
        calibrated.predict(level=[99])  # 3 series x 1 window: too few for 99%
    with pytest.raises(LstmkitError, match="at most 23 windows of step 4, got 40 windows; "
                                           "shortest series 's0'"):
        plain.backtest(n_windows=40)


def test_cli_backtest_and_intervals(capsys, tmp_path):
    path = tmp_path / "p.csv"
    synthetic_panel(6).to_csv(path, index=False)
    common = ["--lookback", "12", "--horizon", "4", "--season", "12", "--epochs", "2",
              "--steps-per-epoch", "10", "--seeds", "1", "--quiet"]
    out = tmp_path / "bt"
    assert main(["backtest", "--data", str(path), *common, "--n-windows", "2", "--no-refit",
                 "--out", str(out)]) == 0
    assert "naive2" in capsys.readouterr().out
    bt = pd.read_csv(out / "backtest.csv")
    assert bt.groupby("unique_id").cutoff.nunique().eq(2).all() and len(bt) == 6 * 2 * 4
    for name in ("metrics.json", "metrics_per_step.csv", "error_by_step.png"):
        assert (out / name).is_file()
    assert main(["backtest", "--data", str(path), *common, "--n-windows", "50", "--out",
                 str(tmp_path / "no")]) == 2
    assert "at most" in capsys.readouterr().err and not (tmp_path / "no").exists()
    run = tmp_path / "fit"
    assert main(["fit", "--data", str(path), *common, "--conformal-windows", "2", "--level",
                 "80", "--out", str(run)]) == 0
    assert "coverage_80" in capsys.readouterr().out
    assert {"lo_80", "hi_80"} <= set(pd.read_csv(run / "forecast.csv").columns)
    per_step = pd.read_csv(run / "intervals_per_step.csv")
    assert set(per_step.method) == {"global LSTM", "naive", "seasonal naive", "AutoETS"}
    assert main(["predict", "--model", str(run), "--data", str(path), "--level", "0"]) == 2


def test_skip_short_leaves_the_short_series_out_of_the_folds_they_cannot_fill():
    df = synthetic_panel(4)  # lengths 110, 117, 124, 131
    f = GlobalForecaster(**FAST).fit(df, test=0)
    table = f.backtest(n_windows=25, step=4, refit=False, skip_short=True)
    per_series = table.groupby("unique_id").cutoff.nunique()
    # a fold at offset o needs 12 + 4 + o points: s0 (110) fills the newest 23 folds
    assert per_series.to_dict() == {"s0": 23, "s1": 25, "s2": 25, "s3": 25}
    with pytest.raises(LstmkitError, match="--skip-short"):
        f.backtest(n_windows=25, step=4, refit=False)


def test_a_quantile_head_learns_quantiles_that_never_cross(tmp_path):
    df = synthetic_panel(30, noise=3.0)
    f = GlobalForecaster(**{**FAST, "epochs": 6, "steps_per_epoch": 40},
                         quantiles=(0.1, 0.5, 0.9)).fit(df)
    hist = f.histories_[0]
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]  # the pinball loss falls
    rep = f.evaluate(level=(80,), statistical=False)
    assert set(rep["quantiles"]) == {"0.1", "0.5", "0.9"}
    steps = rep["interval_per_step"]
    assert set(steps.step) == {1, 2, 3, 4} and steps.pinball.notna().sum() == 3 * 4
    own = steps[steps.method == "global LSTM"]
    assert own.coverage.notna().sum() == 4  # the 80% interval, per step
    assert set(steps.method) == {"global LSTM", "naive", "seasonal naive"}
    assert 0.65 <= rep["intervals"]["global LSTM"]["coverage_80"] <= 0.95  # 120 points
    p = f.predict(level=[80])
    assert (p.q_10 <= p.q_50).all() and (p.q_50 <= p.q_90).all()
    assert (p.forecast == p.q_50).all() and (p.lo_80 == p.q_10).all() and (p.hi_80 == p.q_90).all()
    f.save(tmp_path / "m")
    pd.testing.assert_frame_equal(lstmkit.load(tmp_path / "m").predict(df, level=[80]),
                                  f.predict(df, level=[80]))
    with pytest.raises(LstmkitError, match=r"quantiles 0.025 and 0.975, for a 95% interval"):
        f.predict(level=[95])  # no such pair, no calibration


@pytest.mark.parametrize("bad", [(0.5, 0.1), (0.1, 0.1, 0.5), (0.0, 0.5), (0.5, 1.0), (0.1, 0.9)])
def test_bad_quantiles_are_refused(bad):
    with pytest.raises(LstmkitError, match="quantiles"):
        GlobalForecaster(quantiles=bad)
