"""The global forecaster on small synthetic panels: it learns, it recovers a known covariate
effect, it never sees the test points, it round-trips through a run directory, and the CLI
does fit -> predict -> evaluate in long format with dates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from panels import synthetic_panel

import lstmkit
from lstmkit.cli.main import main
from lstmkit.core.errors import LstmkitError
from lstmkit.forecast.panel.model import GlobalForecaster

# small and fast: 16 hidden units, 60 steps of 64 windows; one worker (deterministic, cheap)
FAST = dict(lookback=12, horizon=4, hidden_size=16, epochs=3, steps_per_epoch=20,
            batch_size=64, seeds=1, workers=1, progress=False)


def test_it_learns_and_beats_the_naive_forecast_on_seasonal_series():
    df = synthetic_panel(6, noise=0.5)
    f = GlobalForecaster(**{**FAST, "epochs": 6}, season=12).fit(df)
    rep = f.evaluate(statistical=False)
    hist = f.histories_[0]
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]
    assert rep["overall"]["global LSTM"]["mase"] < rep["overall"]["naive"]["mase"]
    assert list(rep["per_step"].step.unique()) == [1, 2, 3, 4]
    fc = f.predict()
    assert list(fc.columns) == ["unique_id", "ds", "forecast"] and len(fc) == 6 * 4
    last = df.groupby("unique_id").ds.max()
    first = fc.groupby("unique_id").ds.min()
    assert (first == last + pd.Timedelta(weeks=1)).all()  # forecasts after the last row


def test_a_known_covariate_effect_is_recovered():
    # sales rise by 30 in promotion weeks; with the promotion as a future-known input the
    # model's forecast must move by about that much when the future promotions change
    # (400 steps: 28.7-32.8 over seeds 0-4 at lr 2e-3, 29.8-32.3 at lr 5e-3; 160 steps
    # were too few, 1.3-40.8)
    df = synthetic_panel(6, promo_effect=30.0, noise=0.5)
    f = GlobalForecaster(**{**FAST, "epochs": 10, "steps_per_epoch": 40}, lr=5e-3,
                         season=12).fit(df, futr_exog=["promo"], test=0)
    dates = f.panel_.future_dates(4)
    futr = lambda v: pd.DataFrame({"unique_id": np.repeat(f.ids_, 4),
                                   "ds": np.concatenate(dates), "promo": v})
    on = f.predict(futr_df=futr(1.0)).forecast.to_numpy()
    off = f.predict(futr_df=futr(0.0)).forecast.to_numpy()
    effect = float(np.mean(on - off))
    assert 24.0 < effect < 36.0, effect  # 30 +- 20%


def test_the_test_points_never_reach_training():
    # change the held-out test points (targets and covariates) wildly: the trained networks
    # and the covariate scalers must be bitwise the same
    df = synthetic_panel(4)
    tail = df.groupby("unique_id").tail(4).index
    other = df.copy()
    other.loc[tail, "y"] *= 1000.0
    other.loc[tail, "promo"] = 50.0
    fits = [GlobalForecaster(**FAST, season=12).fit(d, hist_exog=["promo"]) for d in (df, other)]
    for a, b in zip(fits[0].networks_[0].state_dict().values(),
                    fits[1].networks_[0].state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert fits[0].hist_scaler_ == fits[1].hist_scaler_
    ra, rb = (f.evaluate(statistical=False) for f in fits)
    assert ra["overall"]["global LSTM"]["mase"] != rb["overall"]["global LSTM"]["mase"]


def test_validation_and_early_stopping_keep_the_best_epoch():
    df = synthetic_panel(4)
    f = GlobalForecaster(**{**FAST, "epochs": 5}, patience=2).fit(df, val=4)
    assert all("val_loss" in row for row in f.histories_[0])
    best = min(f.histories_[0], key=lambda r: r["val_loss"])["epoch"]
    assert f.best_epochs_[0] == best


def test_save_and_load_round_trip(tmp_path):
    df = synthetic_panel(3)
    f = GlobalForecaster(**FAST, season=12, embedding=3, calendar=("month",)).fit(
        df, futr_exog=["promo"], static=["region"])
    f.save(tmp_path / "m")
    g = lstmkit.load(tmp_path / "m")
    assert isinstance(g, GlobalForecaster) and g.calendar == ("month",)
    history = df.groupby("unique_id").head(-4)
    futr = df.groupby("unique_id").tail(4)[["unique_id", "ds", "promo"]]
    a, b = f.predict(history, futr_df=futr), g.predict(history, futr_df=futr)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(LstmkitError, match="future values of promo"):
        g.predict(history)  # the future promotions are needed


def test_settings_are_checked():
    with pytest.raises(LstmkitError, match="normalize"):
        GlobalForecaster(normalize="zscore")
    with pytest.raises(LstmkitError, match="calendar"):
        GlobalForecaster(calendar=("fortnight",))
    with pytest.raises(LstmkitError, match="test 0 or the horizon"):
        GlobalForecaster(**FAST).fit(synthetic_panel(2), test=7)
    with pytest.raises(LstmkitError, match="positive target values"):
        df = synthetic_panel(2)
        df.loc[3, "y"] = -1.0
        GlobalForecaster(**FAST, normalize="log").fit(df)


def test_negative_series_use_window_normalisation():
    df = synthetic_panel(3)
    df["y"] -= 200.0  # some series cross zero
    f = GlobalForecaster(**FAST).fit(df)
    assert f.kind_ == "window" and np.isfinite(f.predict().forecast).all()


def test_cli_round_trip_with_dates(capsys, tmp_path):
    df = synthetic_panel(4)
    path = tmp_path / "panel.csv"
    df.drop(columns="region").to_csv(path, sep=";", decimal=",", index=False)  # Brazilian
    run = tmp_path / "run"
    args = ["--lookback", "12", "--horizon", "4", "--season", "12", "--hidden-size", "8",
            "--epochs", "2", "--steps-per-epoch", "10", "--seeds", "1", "--quiet"]
    assert main(["fit", "--data", str(path), *args, "--futr-exog", "promo", "--out",
                 str(run)]) == 0
    out = capsys.readouterr().out
    assert "sMAPE" in out and "naive2" in out and "AutoTheta" in out and "verdict:" in out
    for name in ("model.safetensors", "config.json", "forecast.csv", "metrics.json",
                 "metrics_per_series.csv", "metrics_per_step.csv", "forecast.png"):
        assert (run / name).is_file(), name
    fc = pd.read_csv(run / "forecast.csv", parse_dates=["ds"])
    assert {"unique_id", "ds", "y", "global LSTM", "naive2"} <= set(fc.columns)
    future = df.groupby("unique_id").tail(4)[["unique_id", "ds", "promo"]].copy()
    future["ds"] += pd.Timedelta(weeks=4)
    futr_path = tmp_path / "future.csv"
    future.to_csv(futr_path, index=False)
    assert main(["predict", "--model", str(run), "--data", str(path), "--futr",
                 str(futr_path), "--out", str(tmp_path / "f.csv")]) == 0
    pred = pd.read_csv(tmp_path / "f.csv", parse_dates=["ds"])
    assert list(pred.columns) == ["unique_id", "ds", "forecast"] and len(pred) == 16
    assert (pred.groupby("unique_id").ds.min().to_numpy()
            == (df.groupby("unique_id").ds.max() + pd.Timedelta(weeks=1)).to_numpy()).all()
    capsys.readouterr()
    assert main(["predict", "--model", str(run), "--data", str(path)]) == 2
    assert "future values of promo" in capsys.readouterr().err
    train = df.groupby("unique_id").head(-4).drop(columns="region")
    test = df.groupby("unique_id").tail(4)
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    assert main(["evaluate", "--model", str(run), "--data", str(tmp_path / "train.csv"),
                 "--test-data", str(tmp_path / "test.csv")]) == 0
    assert "OWA" in capsys.readouterr().out


def test_a_production_fit_learns_from_every_row_single_series_too(capsys, tmp_path):
    # --test 0 / test=0: nothing held out, for the global forecaster and the single-series
    # one alike; predict forecasts after the last row
    df = synthetic_panel(2)
    g = GlobalForecaster(**FAST).fit(df, test=0)
    assert len(g.panel_.y[0]) == 110
    with pytest.raises(LstmkitError, match="test points"):
        g.evaluate()
    single = lstmkit.LSTMForecaster(epochs=2, seeds=1, progress=False, workers=1)
    single.fit("gas-furnace", target="CO2", test=0)
    assert single.split_rows_ == [296, 0, 0]
    assert single.predict("gas-furnace").index[0] == 296
    out = tmp_path / "run"
    assert main(["fit", "--data", "gas-furnace", "--target", "CO2", "--test", "0",
                 "--epochs", "2", "--seeds", "1", "--quiet", "--out", str(out)]) == 0
    assert "trained on every row" in capsys.readouterr().out
    assert (out / "model.safetensors").is_file()


def test_a_date_column_in_a_plain_table_gets_the_hint(capsys, tmp_path):
    df = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=40).astype(str),
                       "sales": np.arange(40.0)})
    df.to_csv(tmp_path / "d.csv", index=False)
    assert main(["fit", "--data", str(tmp_path / "d.csv"), "--out", str(tmp_path / "r")]) == 2
    assert "dates? use --time-col date" in capsys.readouterr().err


def test_evaluate_says_how_many_windows_forecast_training_rows(capsys, tmp_path):
    # the single-series evaluate scores every window of the file it is given: windows whose
    # targets are training rows are counted and named in-sample, never called a test
    f = lstmkit.LSTMForecaster(epochs=1, seeds=1, progress=False, workers=1, hidden_size=4)
    f.fit("gas-furnace", test=100)
    full = f.evaluate("gas-furnace")
    assert full["n_windows"] == 286 and full["n_in_sample"] == 196 - 10
    newer = lstmkit.forecast.data.load_frame("gas-furnace").iloc[196:]
    assert f.evaluate(newer)["n_in_sample"] == 0
    f.save(tmp_path / "m")
    assert lstmkit.load(tmp_path / "m").evaluate("gas-furnace")["n_in_sample"] == 186
    assert main(["evaluate", "--model", str(tmp_path / "m"), "--data", "gas-furnace"]) == 0
    assert "186 of them forecast training rows: in-sample, not a test" in capsys.readouterr().out


def test_the_single_series_report_ends_with_a_verdict(capsys, tmp_path):
    # one epoch cannot beat linear AR on the gas furnace: the report must say so
    assert main(["fit", "--data", "gas-furnace", "--epochs", "1", "--seeds", "1", "--quiet",
                 "--no-linear-skip",
                 "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "verdict: LSTM does NOT beat linear AR (test MSE" in out


def test_fit_reads_the_test_table_once_and_as_it_reads_the_data(capsys, tmp_path, monkeypatch):
    # --test-data is read once (the series check and the report share it), and --sep /
    # --decimal apply to it as to --data, in fit and in evaluate
    import lstmkit.forecast.data as data

    df = synthetic_panel(2).drop(columns="region")
    train, test = df.groupby("unique_id").head(-4), df.groupby("unique_id").tail(4)
    paths = {}
    for name, part in (("train", train), ("test", test)):
        paths[name] = str(tmp_path / f"{name}.csv")
        part.to_csv(paths[name], sep=";", decimal=",", index=False)
    reads = []
    real = data.load_frame

    def load_frame(source, *a, **k):
        if isinstance(source, str) and source in paths.values():
            reads.append((Path(source).stem, k.get("sep"), k.get("decimal")))
        return real(source, *a, **k)

    monkeypatch.setattr(data, "load_frame", load_frame)
    brazilian = ["--sep", ";", "--decimal", ","]
    run = tmp_path / "run"
    assert main(["fit", "--data", paths["train"], "--test-data", paths["test"], *brazilian,
                 "--lookback", "12", "--horizon", "4", "--hidden-size", "8", "--epochs", "1",
                 "--steps-per-epoch", "5", "--seeds", "1", "--quiet", "--out", str(run)]) == 0
    assert "OWA" in capsys.readouterr().out
    assert reads == [("train", ";", ","), ("test", ";", ",")]
    reads.clear()
    assert main(["evaluate", "--model", str(run), "--data", paths["train"], "--test-data",
                 paths["test"], *brazilian]) == 0
    assert "OWA" in capsys.readouterr().out
    assert sorted(reads) == [("test", ";", ","), ("train", ";", ",")]
