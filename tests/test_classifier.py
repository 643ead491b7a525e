"""Sequence classifier: padding invariance, API, persistence, data loaders and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from lstmkit.classify.classifier import SequenceClassifier
from lstmkit.classify.data import (
    load_classification,
    pad_sequences,
    read_long_csv,
    read_ts,
    sequences_from,
)
from lstmkit.cli.main import main
from lstmkit.core.errors import LstmkitError
from lstmkit.nn.sequence import SequenceNet, SequenceNetConfig
from lstmkit.registry import load as load_classifier

BIDIR = [False, True]


def _toy(n=60, seed=0, C=2, T=12, variable=True):
    """Two classes: rising vs falling first channel, variable lengths."""
    rng = np.random.default_rng(seed)
    seqs, y = [], []
    for i in range(n):
        L = int(rng.integers(4, T + 1)) if variable else T
        cls = i % 2
        t = np.linspace(0, 1, L)
        ch0 = (t if cls else 1 - t) + 0.1 * rng.normal(size=L)
        rest = rng.normal(size=(L, C - 1))
        seqs.append(np.column_stack([ch0, rest]))
        y.append("up" if cls else "down")
    return seqs, y


# ---------------------------------------------------------------- padding invariance
@pytest.mark.parametrize("pooling", ["last", "mean", "max", "mean+max"])
@pytest.mark.parametrize("bidirectional", BIDIR)
@pytest.mark.parametrize("cell,activation", [("lstm", "tanh"), ("gru", "tanh"),
                                             ("lstm", "relu")])  # relu: transcribed cells
def test_padding_with_garbage_does_not_change_logits(pooling, bidirectional, cell, activation):
    torch.manual_seed(0)
    cfg = SequenceNetConfig(cell=cell, input_size=3, n_classes=4, hidden_size=5, num_layers=2,
                    bidirectional=bidirectional, pooling=pooling, activation=activation)
    net = SequenceNet(cfg).double().eval()
    lengths = [7, 3, 5, 1]
    seqs = [torch.randn(L, 3, dtype=torch.float64) for L in lengths]
    alone = torch.cat([net(s[None], torch.tensor([len(s)])) for s in seqs])  # (4, K)
    T = 10
    x = torch.randn(4, T, 3, dtype=torch.float64) * 100  # garbage everywhere ...
    for i, s in enumerate(seqs):
        x[i, : len(s)] = s  # ... except the real steps
    batched = net(x, torch.tensor(lengths))
    torch.testing.assert_close(batched, alone, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("steps,conv_pooling", [(None, "mean"), (4, "mean"),
                                                 (4, "mean+max")])
@pytest.mark.parametrize("bidirectional", BIDIR)
def test_the_conv_branch_and_segment_means_ignore_padding(steps, conv_pooling, bidirectional):
    # eval mode (batch norm's running statistics): padded garbage changes no logit
    torch.manual_seed(0)
    cfg = SequenceNetConfig(input_size=3, n_classes=4, hidden_size=5, pooling="mean+max",
                            bidirectional=bidirectional, conv_channels=4,
                            recurrent_steps=steps, conv_pooling=conv_pooling)
    net = SequenceNet(cfg).double()
    with torch.no_grad():  # running statistics that are not the identity
        for m in net.conv.norms:
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    net.eval()
    lengths = [9, 3, 5, 1]
    seqs = [torch.randn(L, 3, dtype=torch.float64) for L in lengths]
    alone = torch.cat([net(s[None], torch.tensor([len(s)])) for s in seqs])  # (4, K)
    x = torch.randn(4, 12, 3, dtype=torch.float64) * 100
    for i, s in enumerate(seqs):
        x[i, : len(s)] = s
    torch.testing.assert_close(net(x, torch.tensor(lengths)), alone, rtol=1e-10, atol=1e-10)


def test_masked_batch_norm_trains_on_the_valid_steps_only():
    from lstmkit.nn.sequence import MaskedBatchNorm1d

    torch.manual_seed(0)
    lengths = torch.tensor([6, 2, 4])
    h = torch.randn(3, 5, 6, dtype=torch.float64)  # (B, C, T)
    mask = (torch.arange(6)[None, :] < lengths[:, None]).unsqueeze(1).double()  # (B, 1, T)
    masked, plain = MaskedBatchNorm1d(5).double(), nn.BatchNorm1d(5).double()
    with torch.no_grad():
        masked.weight.uniform_(0.5, 2), masked.bias.uniform_(-1, 1)
        plain.load_state_dict(masked.state_dict())
    # the reference: torch's batch norm on the valid steps laid end to end, (1, C, sum(len))
    valid = torch.cat([h[b, :, :n] for b, n in enumerate(lengths.tolist())], dim=1)[None]
    want = plain(valid)[0]
    h_garbage = h + (1 - mask) * 1e3  # padded steps: huge values must not matter
    got = masked(h_garbage, mask)
    torch.testing.assert_close(torch.cat([got[b, :, :n] for b, n in enumerate(lengths.tolist())],
                                         dim=1), want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(masked.running_mean, plain.running_mean, rtol=1e-12, atol=0)
    torch.testing.assert_close(masked.running_var, plain.running_var, rtol=1e-12, atol=0)
    assert masked.num_batches_tracked == plain.num_batches_tracked == 1
    full = torch.ones_like(mask)  # no padding: exactly nn.BatchNorm1d
    torch.testing.assert_close(masked(h, full), plain(h), rtol=1e-12, atol=1e-12)
    masked.eval(), plain.eval()
    torch.testing.assert_close(masked(h_garbage, mask), plain(h_garbage), rtol=1e-12, atol=0)


def test_segment_means_are_the_means_of_equal_segments():
    from lstmkit.nn.sequence import segment_means

    x = torch.randn(3, 10, 2, dtype=torch.float64)
    out, new = segment_means(x, torch.tensor([10, 7, 3]), 4)
    assert new.tolist() == [4, 4, 3] and out.shape == (3, 4, 2)
    for b, n in enumerate([10, 7, 3]):
        s = min(n, 4)
        edges = [k * n // s for k in range(s + 1)]  # segment k: steps edges[k] .. edges[k+1]-1
        want = torch.stack([x[b, edges[k]:edges[k + 1]].mean(0) for k in range(s)])
        torch.testing.assert_close(out[b, :s], want, rtol=1e-12, atol=1e-12)
        assert (out[b, s:] == 0).all()


def test_token_inputs_refuse_the_numeric_options():
    with pytest.raises(LstmkitError, match="numeric sequences for conv_channels"):
        SequenceNet(SequenceNetConfig(vocab_size=10, embed_size=4, conv_channels=8))


def test_packed_fast_path_matches_cells_path():
    torch.manual_seed(1)
    cfg = SequenceNetConfig(cell="lstm", input_size=2, n_classes=3, hidden_size=4,
                    bidirectional=bool(BIDIR[-1]), pooling="mean+max")
    net = SequenceNet(cfg).double().eval()
    x, lengths = torch.randn(5, 6, 2, dtype=torch.float64), torch.tensor([6, 2, 4, 6, 1])
    fast = net(x, lengths)
    assert not net.encoder.uses_cells()
    net.encoder.engine = "cells"
    torch.testing.assert_close(net(x, lengths), fast, rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------- API
def test_fit_predict_evaluate_save_load_roundtrip(tmp_path):
    seqs, y = _toy()
    clf = SequenceClassifier(hidden_size=8, epochs=15, lr=1e-2, pooling="mean", seeds=2,
                             bidirectional=bool(BIDIR[-1]), progress=False)
    clf.fit(seqs, y, test=0.25, val=0.1)
    rep = clf.evaluate()
    assert rep["n"] == 15 and len(rep["per_seed"]) == 2
    assert set(rep["baselines"]) == {"majority", "1-NN", "1-NN DTW"}
    assert rep["aggregate"]["accuracy"]["mean"] > 0.8  # an easy task
    assert {"mean", "median", "min", "max"} <= set(rep["aggregate"]["accuracy"])
    assert np.asarray(rep["ensemble"]["confusion"]).sum() == 15
    proba = clf.predict_proba(seqs[:5])
    assert proba.shape == (5, 2) and np.allclose(proba.sum(1), 1)
    assert set(clf.predict(seqs[:5])) <= {"down", "up"}
    clf.save(tmp_path / "run")
    again = load_classifier(tmp_path / "run")
    np.testing.assert_allclose(again.predict_proba(seqs[:5]), proba, rtol=1e-6)
    import lstmkit

    generic = lstmkit.load(tmp_path / "run")  # dispatches on config.json's model_class
    assert type(generic) is SequenceClassifier
    np.testing.assert_allclose(generic.predict_proba(seqs[:5]), proba, rtol=1e-6)
    rep2 = again.evaluate(seqs[:20], y[:20])
    assert rep2["baselines"]["1-NN DTW"] == clf.evaluate(seqs[:20], y[:20])["baselines"][
        "1-NN DTW"]  # the saved reference set keeps each sequence's length


def test_errors_are_one_line():
    seqs, y = _toy(20)
    clf = SequenceClassifier(hidden_size=4, epochs=1, progress=False)
    with pytest.raises(LstmkitError, match="fitted model"):
        clf.predict(seqs)
    clf.fit(seqs, y, test=0.25)
    with pytest.raises(LstmkitError, match="C=2 channels"):
        clf.predict(np.zeros((2, 5, 3)))
    with pytest.raises(LstmkitError, match="unknown label"):
        clf.evaluate(seqs[:4], ["up", "down", "sideways", "up"])
    with pytest.raises(LstmkitError, match="pooling"):
        SequenceClassifier(pooling="median")
    with pytest.raises(LstmkitError, match="own test split"):
        SequenceClassifier(epochs=1).fit("digits-rows", test=0.3)
    with pytest.raises(LstmkitError, match="lengths"):
        sequences_from(np.zeros((2, 4, 1)), lengths=[5, 1])


# ---------------------------------------------------------------- data
def test_pad_and_long_csv(tmp_path):
    X, lens = pad_sequences([np.ones((3, 2)), np.ones((5, 2))])
    assert X.shape == (2, 5, 2) and lens.tolist() == [3, 5] and X[0, 3:].sum() == 0
    rows = [{"id": i, "t": t, "a": t * (1 if i % 2 else -1), "b": 0.5, "label": f"c{i % 2}"}
            for i in range(6) for t in range(3 + i)]
    path = tmp_path / "long.csv"
    pd.DataFrame(rows).sample(frac=1, random_state=0).to_csv(path, index=False)  # shuffled
    s, labels, channels = read_long_csv(path)
    assert channels == ["a", "b"] and s.lengths.tolist() == [3, 4, 5, 6, 7, 8]
    assert s.X[1, :4, 0].tolist() == [0, 1, 2, 3]  # sorted by t within id 1
    assert labels == ["c0", "c1"] * 3
    bad = pd.DataFrame(rows)
    bad.loc[0, "label"] = "c1"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(LstmkitError, match="one label per id"):
        read_long_csv(tmp_path / "bad.csv")


def test_read_ts_variable_length_multichannel(tmp_path):
    ts = tmp_path / "X_TRAIN.ts"
    ts.write_text("@problemName X\n@univariate false\n@classLabel true a b\n@data\n"
                  "1,2,3:4,5,6:a\n7,8:9,10:b\n")
    seqs, labels = read_ts(ts)
    assert [s.shape for s in seqs] == [(3, 2), (2, 2)] and labels == ["a", "b"]
    assert seqs[1][:, 1].tolist() == [9, 10]


def test_ucr_missing_package_is_a_clear_error(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(LstmkitError, match="aeon or sktime"):
        load_classification("ucr:GunPoint")


def test_digits_rows_shapes():
    d = load_classification("digits-rows")
    assert d.train.X.shape == (1347, 8, 8) and d.test.X.shape == (450, 8, 8)
    assert len(d.classes) == 10


# ---------------------------------------------------------------- CLI
def test_cli_fit_predict_evaluate(tmp_path, capsys):
    seqs, y = _toy(40, T=8)
    rows = [{"id": f"s{i}", "t": t, "a": float(v[0]), "b": float(v[1]), "label": y[i]}
            for i, s in enumerate(seqs) for t, v in enumerate(s)]
    path = tmp_path / "data.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    out = tmp_path / "run"
    assert main(["classify", "fit", "--data", str(path), "--out", str(out), "--epochs", "3",
                 "--hidden-size", "6", "--test", "0.25", "--quiet"]) == 0
    files = {p.name for p in out.iterdir()}
    assert {"model.safetensors", "config.json", "metrics.json", "history.csv", "loss.png",
            "confusion.png"} <= files
    assert "1-NN" in capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n"] == 10
    pred = tmp_path / "pred.csv"
    assert main(["classify", "predict", "--model", str(out), "--data", str(path),
                 "--out", str(pred)]) == 0
    frame = pd.read_csv(pred)
    assert list(frame.columns[:2]) == ["id", "predicted"] and len(frame) == 40
    assert main(["classify", "evaluate", "--model", str(out), "--data", str(path)]) == 0
    # non-empty --out without --overwrite: refused, nothing written
    assert main(["classify", "fit", "--data", str(path), "--out", str(out)]) == 2
    assert "non-empty" in capsys.readouterr().err
    assert main(["classify", "fit", "--data", "nope.csv", "--out", str(tmp_path / "x")]) == 2
    assert not (tmp_path / "x").exists()


def test_steps_per_epoch_caps_the_batches_of_an_epoch():
    seqs, y = _toy(64)
    kw = dict(hidden_size=4, epochs=3, batch_size=8, seeds=1, progress=False)
    # 40 training sequences = 5 batches; a cap at or above that changes nothing, bitwise
    full = SequenceClassifier(**kw).fit(seqs, y, test=24)
    same = SequenceClassifier(**kw, steps_per_epoch=5).fit(seqs, y, test=24)
    np.testing.assert_array_equal(full.predict_proba(seqs), same.predict_proba(seqs))
    # one batch per epoch: onecycle is sized for 3 steps (it raises if stepped a 4th time)
    one = SequenceClassifier(**kw, steps_per_epoch=1, schedule="onecycle").fit(seqs, y, test=24)
    assert len(one.histories_[0]) == 3
    assert not np.array_equal(one.predict_proba(seqs), full.predict_proba(seqs))


def test_the_encoder_input_is_what_the_recurrent_encoder_reads():
    # introspection (gate traces, gradient flow) runs the encoder on encoder_input(x)
    from lstmkit.nn.sequence import segment_means

    torch.manual_seed(0)
    net = SequenceNet(SequenceNetConfig(input_size=2, n_classes=3, hidden_size=4,
                                        recurrent_steps=5, conv_channels=3)).double().eval()
    net.set_standardization(np.array([1.0, -2.0]), np.array([2.0, 0.5]))
    x = torch.randn(2, 13, 2, dtype=torch.float64)
    full = torch.tensor([13, 13])
    want = net.encode(*segment_means(x, full, 5))  # what forward feeds the pooling
    got, _ = net.encoder(net.encoder_input(x))
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
