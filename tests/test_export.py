"""ONNX export of the single-series forecaster, checked with onnxruntime against predict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmkit.cli.main import main
from lstmkit.core.errors import LstmkitError
from lstmkit.forecast import NeuralForecaster

ort = pytest.importorskip("onnxruntime", reason="the export extra (onnx, onnxscript, "
                          "onnxruntime) is not installed: pip install 'lstmkit[export]'")
pytest.importorskip("onnxscript", reason="the export extra is not installed")


def _frame(n=260, positive=False):
    t = np.arange(n)
    rng = np.random.default_rng(0)
    a = np.sin(t / 7) + 0.1 * rng.standard_normal(n)
    b = np.cos(t / 11) + 0.05 * t / n
    if positive:
        a, b = np.exp(a), 3 + b
    return pd.DataFrame({"a": a, "b": b})


def _windows(frame, f, m=5, seed=1):
    """m raw windows (m, L, F) and their last raw targets (m, D), cut at random ends."""
    rng = np.random.default_rng(seed)
    ends = rng.integers(f.lookback, len(frame), m)
    x = np.stack([frame[f.features_].to_numpy()[e - f.lookback:e] for e in ends])
    last = np.stack([frame[f.targets_].to_numpy()[e - 1] for e in ends])
    return ends, x.astype(np.float32), last.astype(np.float32)


@pytest.mark.parametrize("kw", [
    dict(cell="lstm"),                                     # the default, linear skip
    dict(cell="gru", scaler="log", num_layers=2),
    dict(cell="rnn", linear_skip=False, scaler="minmax"),
    dict(cell="mlp", residual=False),
])
def test_onnxruntime_matches_predict(tmp_path, kw):
    frame = _frame(positive=kw.get("scaler") == "log")
    f = NeuralForecaster(10, 3, hidden_size=8, epochs=2, seeds=2, progress=False, **kw)
    f.fit(frame, target=["a"], features=["a", "b"], test=40)
    from lstmkit.forecast.export import export_onnx

    path = export_onnx(f, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(path))
    ends, x, last = _windows(frame, f)
    got = session.run(None, {"x": x, "last": last})[0]  # (m, K, D), original units
    assert got.shape == (5, 3, 1)
    for i, e in enumerate(ends):
        want = f.predict(frame.iloc[:e])["a"].to_numpy()  # the same window, through predict
        np.testing.assert_allclose(got[i, :, 0], want, rtol=1e-5,
                                   atol=1e-5 * np.abs(want).max())
    one = session.run(None, {"x": x[:1], "last": last[:1]})[0]  # the batch axis is dynamic
    np.testing.assert_allclose(one[0], got[0], rtol=1e-6, atol=1e-6)
    if kw["cell"] in ("mlp", "rnn"):  # their graphs read exactly lookback rows
        return
    e = int(ends[0])  # the time axis too: 60 rows = predict with the state over all 60
    rows = frame[f.features_].to_numpy()[None, e - 60:e].astype(np.float32)
    got = session.run(None, {"x": rows, "last": last[:1]})[0][0, :, 0]
    want = f.predict(frame.iloc[e - 60:e], context="history")["a"].to_numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_stream_graph_carries_the_state_like_the_stream(tmp_path, cell):
    """The state-in/state-out graph, fed the history row by row from zero states and then
    new rows, forecasts what the stream forecasts (and so predict(context="history"))."""
    frame = _frame()
    f = NeuralForecaster(6, 2, hidden_size=8, epochs=2, seeds=2, num_layers=2, cell=cell,
                         progress=False).fit(frame, target=["a"], features=["a", "b"], test=40)
    from lstmkit.forecast.export import export_onnx

    session = ort.InferenceSession(str(export_onnx(f, tmp_path / "s.onnx", stream=True)))
    assert [i.name for i in session.get_inputs()] == ["x", "window", "last", "h0"] + (
        ["c0"] if cell == "lstm" else [])
    A = frame[f.features_].to_numpy().astype(np.float32)  # (N, F)
    Y = frame[f.targets_].to_numpy().astype(np.float32)  # (N, D)
    zeros = np.zeros((2 * 2, 1, 8), np.float32)  # (seeds · layers, B, H)
    state = {"h0": zeros} | ({"c0": zeros} if cell == "lstm" else {})
    s = f.stream(frame.iloc[:150])
    for i in range(155):
        window = A[max(0, i - 5):i + 1]  # (≤ L, F): padded at the very start only
        window = np.vstack([np.repeat(window[:1], 6 - len(window), 0), window])[None]
        out = session.run(None, {"x": A[None, i:i + 1], "window": window, "last": Y[None, i],
                                 **state})
        state = {"h0": out[1]} | ({"c0": out[2]} if cell == "lstm" else {})
        if i >= 150:
            s.update(Y[i], A[i, 1:])
        if i >= 149:
            want = s.forecast()["a"].to_numpy()
            np.testing.assert_allclose(out[0][0, :, 0], want, rtol=1e-5,
                                       atol=1e-5 * np.abs(want).max())


def test_cli_export_and_what_it_refuses(tmp_path, capsys):
    frame = _frame()
    data = tmp_path / "s.csv"
    frame.to_csv(data, index=False)
    run = tmp_path / "run"
    assert main(["fit", "--data", str(data), "--target", "a", "--lookback", "8", "--horizon", "2",
                 "--epochs", "1", "--hidden-size", "4", "--quiet", "--out", str(run)]) == 0
    capsys.readouterr()
    out = tmp_path / "m.onnx"
    assert main(["export", "--model", str(run), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"wrote {out}: inputs x (batch, time >= 8, 2)")
    assert out.stat().st_size
    assert main(["export", "--model", str(run), "--stream", "--out", str(tmp_path / "s.onnx")]) == 0
    assert "h0 (1, batch, 4) and c0 (same)" in capsys.readouterr().out
    assert main(["export", "--model", str(tmp_path / "none"), "--out",
                 str(tmp_path / "n.onnx")]) == 2
    assert capsys.readouterr().err.startswith("error: Model:")
    assert not (tmp_path / "n.onnx").exists()
    f = NeuralForecaster(8, 2, hidden_size=4, epochs=1, strategy="recursive", progress=False)
    f.fit(frame, target="a", features="a", test=30)
    from lstmkit.forecast.export import export_onnx

    with pytest.raises(LstmkitError, match="Export: expected strategy direct"):
        export_onnx(f, tmp_path / "r.onnx")
    assert not (tmp_path / "r.onnx").exists()
