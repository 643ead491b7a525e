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
    assert printed.startswith(f"wrote {out}: inputs x (batch, 8, 2)") and out.stat().st_size
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
