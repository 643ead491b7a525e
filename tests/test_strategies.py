"""Multi-step strategies (direct, recursive, seq2seq ± attention) and variant combinations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import lstmkit
from lstmkit.forecast import NeuralForecaster
from lstmkit.forecast.data import load_frame
from lstmkit.forecast.networks import NetworkConfig
from lstmkit.forecast.seq2seq import Attention, Seq2SeqRegressor

TINY = dict(hidden_size=4, epochs=1, progress=False)


@pytest.fixture(scope="module")
def sine():
    return load_frame("sine:n=200")


def test_direct_refuses_a_longer_horizon(sine):
    f = NeuralForecaster(8, 3, **TINY).fit(sine, test=40)
    assert f.predict(sine).shape == (3, 1)
    with pytest.raises(lstmkit.LstmkitError, match="horizon 3 for strategy direct"):
        f.predict(sine, horizon=6)


@pytest.mark.parametrize("strategy", ["recursive", "seq2seq"])
def test_longer_horizon_at_predict_time(sine, strategy):
    f = NeuralForecaster(8, 3, strategy=strategy, **TINY).fit(sine, test=40)
    pred = f.predict(sine, horizon=7)
    assert pred.shape == (7, 1) and np.isfinite(pred.to_numpy()).all()
    # the first 3 steps do not depend on how far we look
    np.testing.assert_allclose(pred.to_numpy()[:3], f.predict(sine).to_numpy(), rtol=1e-6)


def test_recursive_feeds_back_its_own_predictions(sine):
    f = NeuralForecaster(8, 2, strategy="recursive", **TINY).fit(sine, test=40)
    net = f.networks_[0]
    assert net.cfg.horizon == 1  # trained as a one-step model
    w = f.windows_for()
    x = torch.tensor(w.X[:4], dtype=torch.float32)
    last = torch.tensor(w.H[:4, -1], dtype=torch.float32)
    with torch.no_grad():
        y1 = net(x, last)[:, 0]  # (4, 1)
        x2 = torch.cat([x[:, 1:], y1[:, None]], dim=1)  # same scaler for the one column
        y2 = net(x2, y1)[:, 0]
    got = f._predict_scaled(w.X[:4], w.H[:4])[0]  # (4, 2, 1)
    np.testing.assert_allclose(got[:, 0], y1.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[:, 1], y2.numpy(), rtol=1e-5, atol=1e-6)


def test_recursive_needs_every_feature_among_targets():
    gas = load_frame("gas-furnace")
    with pytest.raises(lstmkit.LstmkitError, match="future GR unknown"):
        NeuralForecaster(10, 2, strategy="recursive", **TINY).fit(gas, target="CO2", test=50)


def seq2seq(**kw):
    cfg = NetworkConfig(input_size=2, n_targets=2, lookback=6, horizon=4, hidden_size=5,
                        strategy="seq2seq", **kw)
    torch.manual_seed(0)
    return Seq2SeqRegressor(cfg)


def test_teacher_forcing_feeds_the_truth_only_in_training():
    net = seq2seq(teacher_forcing=1.0)
    x, last = torch.randn(3, 6, 2), torch.randn(3, 2)
    y1, y2 = torch.randn(3, 4, 2), torch.randn(3, 4, 2)
    net.train()
    a, b = net(x, last, y1), net(x, last, y2)
    torch.testing.assert_close(a[:, 0], b[:, 0])  # step 1 reads only `last`
    assert not torch.allclose(a[:, 1:], b[:, 1:])  # later steps read the true y
    net.eval()
    torch.testing.assert_close(net(x, last, y1), net(x, last, y2))
    torch.testing.assert_close(net(x, last, y1), net(x, last))


@pytest.mark.parametrize("kind", ["dot", "additive"])
def test_attention_is_a_convex_combination(kind):
    torch.manual_seed(0)
    att = Attention(kind, 3)
    enc = torch.randn(2, 5, 3)
    ctx = att(enc, torch.randn(2, 3))
    lo, hi = enc.min(1).values, enc.max(1).values
    assert ((ctx >= lo - 1e-6) & (ctx <= hi + 1e-6)).all()
    same = enc[:, :1].expand(2, 5, 3)  # identical positions -> that position
    torch.testing.assert_close(att(same, torch.randn(2, 3)), enc[:, 0])


def test_seq2seq_with_bidirectional_encoder_and_layers():
    net = seq2seq(bidirectional=True, num_layers=2, attention="additive")
    assert net.decoder.hidden_size == 10
    assert net(torch.randn(3, 6, 2), torch.randn(3, 2)).shape == (3, 4, 2)


COMBOS = [dict(cell=c, strategy=s, bidirectional=b, attention=a)
          for c, s, b, a in itertools.product(["lstm", "gru", "rnn", "lnlstm"],
                                              ["direct", "recursive", "seq2seq"],
                                              [False, True], [None, "dot"])
          if a is None or s == "seq2seq"]


@pytest.mark.parametrize("kw", COMBOS, ids=lambda kw: "-".join(str(v) for v in kw.values()))
def test_every_sensible_combination_trains(sine, kw):
    f = NeuralForecaster(6, 2, num_layers=2, dropout=0.1, recurrent_dropout=0.1,
                         input_dropout=0.1, **kw, **TINY).fit(sine, test=30)
    assert np.isfinite(f.evaluate()["aggregate"]["normalized"]["overall"]["mse"]["mean"])


def test_save_load_keeps_strategy(tmp_path, sine):
    f = NeuralForecaster(6, 2, strategy="seq2seq", attention="dot", **TINY).fit(sine, test=30)
    f.save(tmp_path / "m")
    g = lstmkit.load(tmp_path / "m")
    np.testing.assert_allclose(g.predict(sine, horizon=5).to_numpy(),
                               f.predict(sine, horizon=5).to_numpy(), rtol=1e-6)
