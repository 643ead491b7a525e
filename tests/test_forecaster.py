"""The forecasting API: fit / predict / evaluate / save / load, seeds, scaling, training."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

import lstmkit
from lstmkit.forecast import BaselineForecaster, LSTMForecaster, NeuralForecaster
from lstmkit.forecast.data import load_frame

FAST = dict(hidden_size=8, epochs=3, progress=False)


@pytest.fixture(scope="module")
def gas():
    return load_frame("gas-furnace")


def weights(model):
    return torch.cat([p.detach().flatten() for net in model.networks_ for p in net.parameters()])


def test_same_seed_is_bitwise_identical(gas):
    a = LSTMForecaster(seed=3, **FAST).fit(gas, test=100)
    b = LSTMForecaster(seed=3, **FAST).fit(gas, test=100)
    c = LSTMForecaster(seed=4, **FAST).fit(gas, test=100)
    assert torch.equal(weights(a), weights(b))
    assert not torch.equal(weights(a), weights(c))
    assert a.histories_ == b.histories_


def test_scaler_is_fitted_on_training_rows_only(gas):
    f = LSTMForecaster(**FAST).fit(gas, test=100, val=30)
    train = gas[["GR", "CO2"]].to_numpy()[: len(gas) - 130]
    np.testing.assert_allclose(f.x_scaler_.transform(train).mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(f.x_scaler_.transform(train).std(0), 1.0, atol=1e-12)
    # changing the test rows leaves the fitted scaler unchanged
    shifted = gas.copy()
    shifted.iloc[-100:] += 1000.0
    g = LSTMForecaster(**FAST).fit(shifted, test=100, val=30)
    assert g.x_scaler_.to_dict() == f.x_scaler_.to_dict()


def test_predictions_are_in_original_units(gas):
    naive = BaselineForecaster(kind="naive").fit(gas, target=["CO2"], test=100)
    pred = naive.predict(gas)
    assert pred.index.tolist() == [len(gas)]
    assert pred["CO2"].iloc[0] == pytest.approx(gas["CO2"].iloc[-1])
    w = naive.predict_windows()
    raw = gas["CO2"].to_numpy()
    np.testing.assert_allclose(w["y_true"][:, 0, 0], raw[w["start"]])
    np.testing.assert_allclose(w["y_pred"][:, 0, 0], raw[w["start"] - 1])


def test_seeds_are_reported_with_spread(gas):
    f = LSTMForecaster(seeds=3, **FAST).fit(gas, test=100)
    rep = f.evaluate()
    assert len(rep["per_seed"]) == 3 and len(f.networks_) == 3
    mse = rep["aggregate"]["normalized"]["overall"]["mse"]
    values = [s["normalized"]["overall"]["mse"] for s in rep["per_seed"]]
    assert mse["min"] == min(values) and mse["max"] == max(values)
    assert mse["min"] < mse["max"]  # different seeds, different models
    assert rep["n_windows"] == 90
    # skill is 1 - MSE/MSE_naive on the same windows
    naive = rep["naive"]["normalized"]["overall"]["mse"]
    assert rep["per_seed"][0]["skill"]["overall"] == pytest.approx(1 - values[0] / naive)
    # metrics exist per target, in both units
    assert set(rep["per_seed"][0]["original"]["per_target"]) == {"GR", "CO2"}


def test_lstm_beats_naive_on_gas_furnace(gas):
    """30 epochs already beat the last-value forecast on the course's test rows."""
    f = LSTMForecaster(hidden_size=32, epochs=30, progress=False).fit(gas, test=100)
    rep = f.evaluate()
    assert rep["per_seed"][0]["skill"]["overall"] > 0.1


def test_save_load_round_trip(tmp_path, gas):
    f = LSTMForecaster(horizon=3, seeds=2, **FAST).fit(gas, target="CO2", test=100)
    f.save(tmp_path / "run")
    g = lstmkit.load(tmp_path / "run")
    assert type(g) is type(f) and g.model_params() == f.model_params()
    # execution settings (progress, workers, threads, kernel) are not model config
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert not {"progress", "workers", "threads", "kernel"} & set(saved["params"])
    assert not {"progress", "workers", "threads", "kernel"} & set(saved["train"])
    assert g.progress is True and f.progress is False
    pd.testing.assert_frame_equal(g.predict(gas), f.predict(gas))
    assert g.predict(gas).shape == (3, 1)
    np.testing.assert_allclose(g.evaluate(gas)["ensemble"]["original"]["overall"]["mse"],
                               f.evaluate(gas)["ensemble"]["original"]["overall"]["mse"])


def test_linear_baseline_round_trip(tmp_path, gas):
    b = BaselineForecaster(kind="linear").fit(gas, test=100)
    b.save(tmp_path / "lin")
    c = lstmkit.load(tmp_path / "lin")
    pd.testing.assert_frame_equal(b.predict(gas), c.predict(gas))


def test_early_stopping_restores_best_weights(gas):
    f = LSTMForecaster(hidden_size=8, epochs=60, lr=0.05, patience=3, progress=False)
    f.fit(gas, test=60, val=40)
    hist = f.histories_[0]
    best = min(hist, key=lambda r: r["val_loss"])
    assert f.best_epochs_[0] == best["epoch"]
    assert len(hist) == best["epoch"] + 3 < 60
    # the kept weights are the best epoch's: their val loss is the minimum
    from lstmkit.forecast.data import prepare

    p = prepare(gas, ["GR", "CO2"], ["GR", "CO2"], 10, 1, test=60, val=40)
    x, y = torch.tensor(p.val.X, dtype=torch.float32), torch.tensor(p.val.Y, dtype=torch.float32)
    last = torch.tensor(p.val.H[:, -1], dtype=torch.float32)
    with torch.no_grad():
        val = torch.nn.functional.mse_loss(f.networks_[0](x, last), y).item()
    assert val == pytest.approx(best["val_loss"], rel=1e-5)


def test_fixed_epochs_without_patience(gas):
    f = LSTMForecaster(hidden_size=4, epochs=7, progress=False).fit(gas, test=100, val=30)
    assert len(f.histories_[0]) == 7 and f.best_epochs_ == [7]


def test_relu_lstm_uses_transcribed_cells_and_trains():
    fib = load_frame("fibonacci")
    # no linear skip: Fibonacci in logs is exactly linear, the skip alone would fit it
    f = NeuralForecaster(3, 1, hidden_size=4, activation="relu", loss="mae", lr=0.01,
                         epochs=30, batch_size=10, scaler="log", linear_skip=False,
                         progress=False)
    f.fit(fib, test=15, val=5)
    assert f.networks_[0].encoder.uses_cells()
    # it learns: the training loss falls (0.47 -> 0.15 measured with seed 0), and on the test
    # rows it beats the naive forecast, which cannot follow the growth (MAE 29k vs 69k)
    hist = f.histories_[0]
    assert hist[-1]["train_loss"] < 0.5 * hist[0]["train_loss"]
    report = f.evaluate()
    assert report["ensemble"]["original"]["overall"]["mae"] < \
        0.6 * report["naive"]["original"]["overall"]["mae"]
    nxt = f.predict(fib)["fib"].iloc[0]
    assert fib["fib"].iloc[-1] < nxt < 3 * fib["fib"].iloc[-1]  # the next Fibonacci is ~1.6x


def test_residual_false_is_the_plain_network(gas):
    f = LSTMForecaster(residual=False, linear_skip=False, **FAST).fit(gas, test=100)
    net = f.networks_[0]
    x = torch.randn(5, 10, 2)
    with torch.no_grad():
        out, _ = net.encoder(x)
        np.testing.assert_allclose(net(x, torch.full((5, 2), 1e6)).numpy(),
                                   net.head(out[:, -1]).view(5, 1, 2).numpy(), rtol=1e-6)


@pytest.mark.parametrize("kw,msg", [
    ({"hidden_size": 0}, "hidden_size to be a positive integer"),
    ({"lookback": 2.5}, "lookback to be a positive integer"),
    ({"cell": "transformer"}, "cell lstm, gru, rnn, lnlstm or mlp"),
    ({"loss": "l3"}, "loss mse, mae or huber"),
])
def test_constructor_validation(kw, msg):
    with pytest.raises(lstmkit.LstmkitError, match=msg):
        NeuralForecaster(**kw)


def test_fraction_test_split_and_predict_before_fit(gas):
    f = BaselineForecaster().fit(gas, test=0.3)
    assert f.evaluate()["n_windows"] == round(0.3 * len(gas)) - 10
    with pytest.raises(lstmkit.LstmkitError, match="before predict"):
        BaselineForecaster().predict(gas)


@pytest.mark.parametrize("cell,strategy", [("lstm", "direct"), ("gru", "recursive"),
                                           ("mlp", "direct")])
def test_the_linear_skip_starts_the_network_as_a_ridge_ar(gas, cell, strategy):
    # with a learning rate of 1e-12 the zero-initialised head stays at zero (to ~1e-9), so the
    # forecaster is its skip: scikit-learn's Ridge on the same windows, with the penalty of
    # the grid that leaves one window out best
    from sklearn.linear_model import Ridge, RidgeCV

    from lstmkit.forecast.data.windows import prepare
    from lstmkit.forecast.networks import RIDGE_GRID

    K = 1 if strategy == "recursive" else 3
    f = NeuralForecaster(lookback=6, horizon=K, cell=cell, strategy=strategy, hidden_size=8,
                         epochs=1, lr=1e-12, progress=False).fit(gas, test=60)
    p = prepare(gas, list(gas.columns), list(gas.columns), 6, K, 60)
    X = p.train.X.reshape(len(p.train.X), -1)  # (B, L·F) scaled windows
    T = (p.train.Y - p.train.H[:, -1:, :]).reshape(len(X), -1)  # residual targets
    Xc = X - X.mean(0)
    scale = np.trace(Xc.T @ Xc) / X.shape[1]
    alpha = RidgeCV(alphas=scale * np.asarray(RIDGE_GRID)).fit(X, T).alpha_
    ridge = Ridge(alpha=alpha).fit(X, T)
    w = p.test.X.reshape(len(p.test.X), -1)
    want = p.test.H[:, -1:, :] + ridge.predict(w).reshape(p.test.Y.shape)  # scaled units
    got = f._predict_scaled(p.test.X, p.test.H).mean(0)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)
    head = f.networks_[0].head if cell != "mlp" else f.networks_[0].net[-1]
    assert float(head.weight.detach().abs().max()) < 1e-8
    # and a trained network moves off it: the skip stays fixed, the head learns
    g = NeuralForecaster(lookback=6, horizon=K, cell=cell, strategy=strategy, hidden_size=8,
                         epochs=3, progress=False).fit(gas, test=60)
    net = g.networks_[0]
    assert torch.equal(net.skip.weight, f.networks_[0].skip.weight)
    head = net.head if cell != "mlp" else net.net[-1]
    assert float(head.weight.detach().abs().max()) > 1e-4


def test_seq2seq_has_no_linear_skip(gas):
    f = NeuralForecaster(6, 3, strategy="seq2seq", **FAST).fit(gas, test=60)
    assert f.get_params()["linear_skip"] and not f.network_config_.linear_skip
    assert not hasattr(f.networks_[0], "skip")


def test_a_wide_window_skip_reads_only_its_latest_steps(monkeypatch):
    # the ridge solve is (steps·F)²: past SKIP_INPUTS values only the latest steps are read
    import lstmkit.forecast.networks as nets

    g = torch.Generator().manual_seed(0)
    x, last = torch.randn(200, 12, 3, generator=g), torch.randn(200, 2, generator=g)
    y = torch.randn(200, 4, 2, generator=g)
    monkeypatch.setattr(nets, "SKIP_INPUTS", 12)  # 4 steps of 3 features
    w, b = nets.fit_linear_skip(x, last, y, residual=True)
    assert w.shape == (8, 36) and bool((w[:, :24] == 0).all())
    monkeypatch.setattr(nets, "SKIP_INPUTS", 2048)
    w4, b4 = nets.fit_linear_skip(x[:, 8:], last, y, residual=True)  # the 4 latest steps
    torch.testing.assert_close(w[:, 24:], w4)
    torch.testing.assert_close(b, b4)


@pytest.mark.parametrize("B,p,T", [(300, 10, 1), (2000, 50, 3), (500, 120, 2), (40, 60, 1)])
def test_the_skip_penalty_is_ridgecvs_leave_one_out_choice(B, p, T):
    # the hand-written eigen path (3x faster) gives scikit-learn's RidgeCV weights; float64
    # throughout, so 1e-9 is rounding (measured ~1e-14). Includes fewer windows than inputs.
    from sklearn.linear_model import RidgeCV

    from lstmkit.forecast.networks import RIDGE_GRID, loo_ridge

    rng = np.random.default_rng(B + p)
    X = rng.standard_normal((B, p)) @ rng.standard_normal((p, p)) * 0.3
    Y = X @ rng.standard_normal((p, T)) * 0.1 + rng.standard_normal((B, T))
    X, Y = X - X.mean(0), Y - Y.mean(0)
    scale = np.trace(X.T @ X) / p
    cv = RidgeCV(alphas=scale * np.asarray(RIDGE_GRID), fit_intercept=False).fit(X, Y)
    np.testing.assert_allclose(loo_ridge(X, Y), cv.coef_.reshape(T, p).T, rtol=0, atol=1e-9)
