"""lstmkit.introspect: traces == fast path, gradient flow vs autograd, CLI inspect/gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lstmkit.cli.main import main
from lstmkit.core.errors import LstmkitError
from lstmkit.introspect import find_encoder, gradient_flow, trace
from lstmkit.introspect.plots import gate_heatmaps, gradient_flow_plot, save_figure
from lstmkit.nn import Recurrent

D = torch.float64
B, T, F, H = 3, 7, 4, 5


def make(cell, L=1, seed=0, F_=F, H_=H):
    torch.manual_seed(seed)
    return Recurrent(cell, F_, H_, num_layers=L, dtype=D)


def inputs(seed=1, b=B, t=T, f=F):
    return torch.randn(b, t, f, generator=torch.Generator().manual_seed(seed), dtype=D)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    import lstmkit

    path = tmp_path_factory.mktemp("models") / "gf"
    f = lstmkit.LSTMForecaster(lookback=8, hidden_size=6, num_layers=2, epochs=1,
                               progress=False)
    f.fit("gas-furnace", test=50).save(path)
    return path


# --- trace ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("L", [1, 2])
def test_trace_equals_fast_path(cell, L):
    m = make(cell, L)
    x = inputs()
    assert not m.uses_cells(False)  # m(x) is torch.nn.LSTM/GRU/RNN
    with torch.no_grad():
        out, final = m(x)
    tr = trace(m, x)
    assert tr.cell == cell and tr.num_layers == L and tr.steps == T
    assert tr.names == {"lstm": ("i", "f", "g", "o", "c", "h"), "gru": ("r", "z", "n", "h"),
                        "rnn": ("h",)}[cell]
    np.testing.assert_allclose(tr.outputs, out.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tr.layers[-1]["h"], out.numpy(), rtol=1e-12, atol=1e-14)
    h_n = final[0] if cell == "lstm" else final  # (L, B, H)
    for k in range(L):
        np.testing.assert_allclose(tr.layers[k]["h"][:, -1], h_n[k].numpy(), rtol=1e-12,
                                   atol=1e-14)
        if cell == "lstm":
            np.testing.assert_allclose(tr.layers[k]["c"][:, -1], final[1][k].numpy(),
                                       rtol=1e-12, atol=1e-14)
        for v in tr.layers[k].values():
            assert v.shape == (B, T, H)
    if cell == "lstm":  # every c_t equals the fast path's final c of the prefix x[:, :t]
        with torch.no_grad():
            _, (_, c3) = m(x[:, :3])
        np.testing.assert_allclose(tr.layers[-1]["c"][:, 2], c3[-1].numpy(), rtol=1e-12)
        g = tr.layers[0]
        assert (g["i"] > 0).all() and (g["f"] < 1).all() and (np.abs(g["g"]) < 1).all()
    assert m.engine == "auto" and m.training  # left as it was


def test_trace_modules_and_forecaster(model_dir):
    import lstmkit

    class Classifier(nn.Module):  # a module with an embedding before its encoder
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(10, F, dtype=D)
            self.encoder = Recurrent("gru", F, H, dtype=D)

        def encoder_input(self, ids):
            return self.embed(ids)

    torch.manual_seed(0)
    clf = Classifier()
    ids = torch.tensor([[1, 2, 3, 4]])
    tr = trace(clf, ids, labels="abcd")
    with torch.no_grad():
        out, _ = clf.encoder(clf.embed(ids))
    np.testing.assert_allclose(tr.outputs, out.numpy(), rtol=1e-12)
    assert tr.labels == ["a", "b", "c", "d"]
    with pytest.raises(LstmkitError, match="time labels"):
        trace(clf, ids, labels="abc")

    f = lstmkit.load(model_dir)
    X = f.windows_for("gas-furnace").X  # (M, 8, 2) scaled
    tr = trace(f, X[:4])
    assert tr.num_layers == 2 and tr.layers[1]["c"].shape == (4, 8, 6)
    assert find_encoder(f)[1] is f.networks_[0].encoder
    seq = tr.sequence(1, layer=1)
    assert set(seq) == {"i", "f", "g", "o", "c", "h"} and seq["h"].shape == (8, 6)
    with pytest.raises(LstmkitError, match="Introspect"):
        trace(nn.Linear(2, 2), X[:1])
    with pytest.raises(LstmkitError, match="unfitted"):
        trace(lstmkit.LSTMForecaster(), X[:1])
    with pytest.raises(LstmkitError, match=r"shape \(B, T, F=2\)"):
        trace(f, np.zeros((1, 8, 3)))


# --- gradient flow -------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gradient_flow_matches_autograd(cell):
    m = make(cell, L=2)
    x, y = inputs(), torch.randn(B, H, dtype=D)
    flow = gradient_flow(m, x, y)
    assert flow["dh"].shape == (T,) and flow["dh_layers"].shape == (2, T)
    assert all(p.grad is None for p in m.parameters())  # the model is left as it was
    # manual dL/dh_t of the top layer at t = 3 (1-based): run the fast path on x[:, :3], make
    # its final state a leaf, continue the fast path from it on x[:, 3:]
    t = 3
    with torch.no_grad():
        _, s = m(x[:, :t])
    h_t = s[0].clone().requires_grad_(True) if cell == "lstm" else s.clone().requires_grad_(True)
    state = (h_t, s[1]) if cell == "lstm" else h_t
    out, _ = m(x[:, t:], state)
    torch.nn.functional.mse_loss(out[:, -1], y).backward()
    np.testing.assert_allclose(flow["dh"][t - 1], h_t.grad[-1].norm().item(), rtol=1e-10)
    # (layer 0's h_t also feeds layer 1 at step t, which this split does not see: skip it)
    # dL/dx_t by plain autograd through the fast path
    xg = x.clone().requires_grad_(True)
    out, _ = m(xg)
    torch.nn.functional.mse_loss(out[:, -1], y).backward()
    np.testing.assert_allclose(flow["dx"], xg.grad.transpose(0, 1).reshape(T, -1).norm(dim=1),
                               rtol=1e-10)


def test_gradient_flow_through_module_and_windows(model_dir):
    import lstmkit

    f = lstmkit.load(model_dir)
    w = f.windows_for("gas-furnace")
    flow = gradient_flow(f, w)  # Windows: x = X, args = (last,), y = Y
    net, f32 = f.networks_[0], torch.float32  # float32: reference on torch's fast path
    x = torch.tensor(w.X, dtype=f32, requires_grad=True)
    pred = net(x, torch.tensor(w.H[:, -1], dtype=f32))
    loss = torch.nn.functional.mse_loss(pred, torch.tensor(w.Y, dtype=f32))
    loss.backward()
    np.testing.assert_allclose(flow["loss"], loss.item(), rtol=1e-5)
    np.testing.assert_allclose(flow["dx"], x.grad.transpose(0, 1).reshape(8, -1).norm(dim=1),
                               rtol=1e-4)
    assert not net.training
    custom = gradient_flow(f, w.X, lambda out: out.sum(), args=(w.H[:, -1],))
    assert custom["dh"].shape == (8,) and np.all(custom["dh"] > 0)
    with pytest.raises(LstmkitError, match="target with"):
        gradient_flow(f, w.X, np.zeros(3), args=(w.H[:, -1],))


def test_gradient_flow_bidirectional_and_fast_path_modules():
    torch.manual_seed(0)
    m = Recurrent("gru", F, H, num_layers=2, bidirectional=True, dtype=D)
    x = inputs()
    flow = gradient_flow(m, x, lambda out: (out**2).sum())
    xg = x.clone().requires_grad_(True)
    (m(xg)[0] ** 2).sum().backward()
    np.testing.assert_allclose(flow["dx"], xg.grad.transpose(0, 1).reshape(T, -1).norm(dim=1),
                               rtol=1e-10)

    class Packed(nn.Module):  # calls the torch module directly when on the fast path
        def __init__(self):
            super().__init__()
            self.encoder = make("lstm")

        def forward(self, x):
            enc = self.encoder
            out = enc(x)[0] if enc.uses_cells() else enc.rnn(x)[0]
            return out[:, -1].sum()

    flow = gradient_flow(Packed(), x, lambda out: out)
    assert flow["dh"].shape == (T,) and flow["dh"][-1] > 0


def test_vanishing_gradient_rnn_vs_lstm_forget_bias_one():
    """At init on a long sequence, the RNN's gradient at the first steps is tiny next to the
    LSTM's with forget bias 1 (measured: ~1e-25 vs ~1e-9 relative to the last step)."""
    Tl, Hl = 100, 16
    x = inputs(seed=0, b=8, t=Tl, f=2)
    ratio = {}
    for cell in ("rnn", "lstm"):
        m = make(cell, F_=2, H_=Hl, seed=0)
        if cell == "lstm":
            with torch.no_grad():
                _, _, b_ih, b_hh = m.weights(0)
                b_ih[Hl : 2 * Hl], b_hh[Hl : 2 * Hl] = 1.0, 0.0  # forget gate bias 1
        flow = gradient_flow(m, x, lambda out: out[:, -1].sum())
        ratio[cell] = flow["dh"][:10].mean() / flow["dh"][-1]
    assert ratio["rnn"] < 1e-6 * ratio["lstm"]


def test_plots_write_png(tmp_path):
    tr = trace(make("lstm"), inputs())
    fig = gate_heatmaps(tr.sequence(0), labels=list("abcdefg"), title="t")
    path = save_figure(fig, tmp_path / "g.png")
    assert path.read_bytes()[:4] == b"\x89PNG" and len(list(tmp_path.iterdir())) == 1
    flow = gradient_flow(make("rnn"), inputs(), lambda out: out.sum())
    save_figure(gradient_flow_plot({"rnn": {"init": flow}}), tmp_path / "f.png")
    with pytest.raises(LstmkitError, match="time labels"):
        gate_heatmaps(tr.sequence(0), labels=["a"])


# --- CLI -----------------------------------------------------------------------------------


def test_cli_inspect(model_dir, tmp_path, capsys):
    out = tmp_path / "insp"
    assert main(["inspect", "--model", str(model_dir), "--data", "gas-furnace", "--index",
                 "-1", "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert names == {"layer0_gates.png", "layer0_top_units.png", "layer1_gates.png",
                     "layer1_top_units.png", "trace.npz"}
    arrays = np.load(out / "trace.npz")
    assert arrays["layer1_c"].shape == (8, 6) and arrays["x"].shape == (8, 2)
    assert "LSTM trace" in capsys.readouterr().out
    # non-empty output dir, bad index, missing model: one line, exit 2
    assert main(["inspect", "--model", str(model_dir), "--data", "gas-furnace",
                 "--out", str(out)]) == 2
    assert "non-empty" in capsys.readouterr().err
    assert main(["inspect", "--model", str(model_dir), "--data", "gas-furnace", "--index",
                 "9999", "--out", str(tmp_path / "x")]) == 2
    assert "--index" in capsys.readouterr().err
    assert main(["inspect", "--model", str(tmp_path / "nope"), "--data", "gas-furnace",
                 "--out", str(tmp_path / "y")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Model:") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_cli_gradients(model_dir, tmp_path, capsys):
    out = tmp_path / "g1"
    assert main(["gradients", "--model", str(model_dir), "--data", "gas-furnace",
                 "--windows", "16", "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"gradients.png", "gradients.csv"}
    import pandas as pd

    table = pd.read_csv(out / "gradients.csv")
    assert set(table["stage"]) == {"init", "trained"} and set(table["cell"]) == {"lstm"}
    assert len(table) == 2 * 8 and (table["dh_norm"] > 0).all()

    out2 = tmp_path / "g2"
    assert main(["gradients", "--data", "gas-furnace", "--target", "CO2", "--lookback", "12",
                 "--epochs", "1", "--hidden-size", "4", "--windows", "8", "--out", str(out2)]) == 0
    assert {p.name for p in out2.iterdir()} == {"gradients.png", "gradients.csv",
                                               "training.csv"}
    table = pd.read_csv(out2 / "gradients.csv")
    assert set(table["cell"]) == {"lstm", "gru", "rnn"} and len(table) == 3 * 2 * 12
    assert np.isfinite(pd.read_csv(out2 / "training.csv")["grad_norm"]).all()
    capsys.readouterr()
    assert main(["gradients", "--model", str(tmp_path / "nope"), "--data", "gas-furnace",
                 "--out", str(tmp_path / "g3")]) == 2
    assert capsys.readouterr().err.startswith("error: Model:")
    assert not (tmp_path / "g3").exists()


# --- language models and classifiers -------------------------------------------------------

LINES = ["segue documento em anexo .", "o presidente da república falou .",
         "a polícia federal investiga o caso ."] * 8


@pytest.fixture(scope="module")
def lm_dir(tmp_path_factory):
    from lstmkit.text.language import LanguageModel

    path = tmp_path_factory.mktemp("models") / "lm"
    lm = LanguageModel(level="word", min_count=1, embed_size=6, hidden_size=6, num_layers=1,
                       epochs=1, batch_size=4, bptt=5, progress=False)
    lm.fit(LINES, val=0.1, test=0.1).save(path)
    corpus = path.parent / "corpus.txt"
    corpus.write_text("\n".join(LINES), encoding="utf-8")
    return path, corpus


def test_cli_inspect_and_gradients_language_model(lm_dir, tmp_path, capsys):
    path, corpus = lm_dir
    out = tmp_path / "i"
    assert main(["inspect", "--model", str(path), "--data", str(corpus), "--index", "1",
                 "--length", "9", "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"layer0_gates.png", "layer0_top_units.png",
                                              "trace.npz"}
    arrays = np.load(out / "trace.npz")
    assert arrays["ids"].shape == (9,) and arrays["layer0_c"].shape == (9, 6)
    assert "LSTM trace of word-level text, line 1" in capsys.readouterr().out
    assert main(["inspect", "--model", str(path), "--text", "o presidente falou",
                 "--out", str(tmp_path / "i2")]) == 0
    assert np.load(tmp_path / "i2" / "trace.npz")["ids"].shape == (4,)  # <eos> + 3 words
    capsys.readouterr()
    assert main(["inspect", "--model", str(path), "--out", str(tmp_path / "i3")]) == 2
    err = capsys.readouterr().err
    assert "--data or --text" in err and len(err.strip().splitlines()) == 1

    out = tmp_path / "g"
    assert main(["gradients", "--model", str(path), "--data", str(corpus), "--lookback", "7",
                 "--windows", "4", "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"gradients.png", "gradients.csv"}
    import pandas as pd

    table = pd.read_csv(out / "gradients.csv")
    assert set(table["stage"]) == {"init", "trained"} and len(table) == 2 * 7
    assert (table["dh_norm"] > 0).all() and (table["dx_norm"] > 0).all()
    capsys.readouterr()
    assert main(["gradients", "--model", str(path), "--data", str(corpus), "--lookback", "999",
                 "--out", str(tmp_path / "g2")]) == 2
    assert "--lookback" in capsys.readouterr().err


def test_cli_inspect_and_gradients_classifier(tmp_path, capsys):
    from lstmkit.classify.classifier import SequenceClassifier

    path = tmp_path / "clf"
    SequenceClassifier(hidden_size=4, epochs=1, progress=False).fit("digits-rows").save(path)
    out = tmp_path / "i"
    assert main(["inspect", "--model", str(path), "--data", "digits-rows", "--index", "-1",
                 "--out", str(out)]) == 0
    arrays = np.load(out / "trace.npz")
    assert arrays["x"].shape == (8, 8) and arrays["layer0_h"].shape == (8, 4)
    assert {p.name for p in out.iterdir()} >= {"layer0_gates.png", "layer0_top_units.png"}
    capsys.readouterr()
    assert main(["inspect", "--model", str(path), "--data", "digits-rows", "--text", "x",
                 "--out", str(tmp_path / "i2")]) == 2
    assert "--text" in capsys.readouterr().err
    out = tmp_path / "g"
    assert main(["gradients", "--model", str(path), "--data", "digits-rows", "--windows", "8",
                 "--out", str(out)]) == 0
    import pandas as pd

    table = pd.read_csv(out / "gradients.csv")
    assert len(table) == 2 * 8 and (table["dh_norm"] > 0).all()
