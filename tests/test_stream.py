"""Streaming: a saved forecaster's state carried from row to row (lstmkit.forecast.stream).

The contract: after any number of updates, ``s.forecast()`` equals
``predict(history_so_far, context="history")``. Both run float32; the stream steps torch's
fused cells one row at a time where ``predict`` runs ``torch.nn.LSTM`` over the whole
history, so they differ by float32 rounding accumulated over ~250 steps: rtol 1e-5 is about
a hundred ulps of the forecast (measured differences are ~1e-7 relative).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from lstmkit import NeuralForecaster, load
from lstmkit.core.errors import LstmkitError
from lstmkit.forecast.data import load_frame

RTOL = 1e-5


@pytest.fixture(scope="module")
def gas():
    return load_frame("gas-furnace")


def _fit(gas, **kw):
    base = dict(lookback=8, horizon=3, hidden_size=12, epochs=4, seeds=2, progress=False)
    return NeuralForecaster(**{**base, **kw}).fit(gas.iloc[:220], target="CO2", test=40)


def _rows(frame, i):
    return frame["CO2"].iloc[i], [frame["GR"].iloc[i]]


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("layers", [1, 2])
def test_forecast_equals_predict_on_the_full_history(gas, cell, layers):
    f = _fit(gas, cell=cell, num_layers=layers)
    s = f.stream(gas.iloc[:200])
    n = 200
    for updates in (0, 1, 7, 25):
        while n < 200 + updates:
            s.update(*_rows(gas, n))
            n += 1
        got = s.forecast()
        want = f.predict(gas.iloc[:n], context="history")
        assert list(got.index) == list(want.index) == [n, n + 1, n + 2]
        np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=RTOL)


def test_transcribed_cells_stream_too(gas):
    """The LayerNorm LSTM and relu gates have no fused torch cell: the encoder steps them."""
    for kw in (dict(cell="lnlstm", num_layers=2), dict(cell="gru", activation="relu")):
        f = _fit(gas, **kw)
        s = f.stream(gas.iloc[:200])
        for i in range(200, 210):
            s.update(*_rows(gas, i))
        np.testing.assert_allclose(s.forecast().to_numpy(), f.predict(
            gas.iloc[:210], context="history").to_numpy(), rtol=RTOL)


def test_state_equals_the_numpy_reference(gas):
    """The carried (h, c) of each layer equals lstmkit.ref's LSTM chained over the scaled
    history, in float64 (float32 stream: atol 1e-5 on values of order 1)."""
    from lstmkit.forecast.data.windows import scaled_rows
    from lstmkit.nn.convert import layer_params
    from lstmkit.ref import lstm as ref

    f = _fit(gas, num_layers=2, seeds=1)
    s = f.stream(gas.iloc[:150])
    for i in range(150, 170):
        s.update(*_rows(gas, i))
    xs, _ = scaled_rows(gas.iloc[:170], f.features_, f.targets_, f.x_scaler_, f.y_scaler_, 8)
    inp = xs[None]  # (1, N, F) float64
    encoder = f.networks_[0].encoder
    for k in range(2):
        params = {n: a.astype(np.float64) for n, a in layer_params(encoder, k).items()}
        inp, (h, c), _ = ref.forward(params, inp)
        np.testing.assert_allclose(s._states[0][k][0].numpy(), h, atol=1e-5)
        np.testing.assert_allclose(s._states[0][k][1].numpy(), c, atol=1e-5)


def test_update_steps_the_carried_state_never_the_history(gas):
    """O(1) in the history: after the warm-up, an update never runs the encoder over a
    sequence (it steps the layer's cells), and the stream keeps only 2·lookback rows."""
    f = _fit(gas)
    s = f.stream(gas.iloc[:200])
    for net in f.networks_:
        net.encoder.forward = lambda *a, **k: pytest.fail("the encoder re-ran a sequence")
    for i in range(200, 230):
        s.update(*_rows(gas, i))
    assert s._buf.shape[1] == 2 * f.lookback
    assert s.forecast().index[0] == 230


def test_many_series_update_together(gas):
    """One stream over three histories of different lengths = three single streams."""
    f = _fit(gas)
    ends = (150, 180, 200)
    batch = f.stream([gas.iloc[:e] for e in ends])
    singles = [f.stream(gas.iloc[:e]) for e in ends]
    for step in range(5):
        ys = [_rows(gas, e + step) for e in ends]
        batch.update([[y] for y, _ in ys], [x for _, x in ys])
        for s, (y, x) in zip(singles, ys, strict=True):
            s.update(y, x)
    got = batch.forecast()  # (3, K, D)
    assert got.shape == (3, 3, 1)
    for j, s in enumerate(singles):
        np.testing.assert_allclose(got[j], s.forecast().to_numpy(), rtol=RTOL)
    assert list(batch.rows_seen) == [e + 5 for e in ends]


def test_saved_model_streams_like_the_fitted_one(gas, tmp_path):
    f = _fit(gas)
    f.save(tmp_path / "m")
    a, b = f.stream(gas.iloc[:200]), load(tmp_path / "m").stream(gas.iloc[:200])
    for i in range(200, 204):
        a.update(*_rows(gas, i))
        b.update(*_rows(gas, i))
    np.testing.assert_array_equal(a.forecast().to_numpy(), b.forecast().to_numpy())


@pytest.mark.parametrize("kw,why", [
    (dict(cell="mlp"), "MLP"),
    (dict(bidirectional=True), "bidirectional"),
    (dict(strategy="seq2seq"), "seq2seq"),
])
def test_models_without_a_carried_state_are_refused(gas, kw, why):
    f = _fit(gas, **{"epochs": 1, "seeds": 1, **kw})
    with pytest.raises(LstmkitError, match=f"^Stream: expected .*{why}"):
        f.stream(gas.iloc[:100])
    with pytest.raises(LstmkitError, match="^Predict: expected"):
        f.predict(gas.iloc[:100], context="history")


def test_bad_updates_are_refused_and_leave_the_state(gas):
    f = _fit(gas, epochs=1, seeds=1)
    s = f.stream(gas.iloc[:200])
    before = s.forecast().to_numpy()
    for args, msg in [((1.0, None), "exog: values of GR"),
                      (([1.0, 2.0], [0.1]), r"y \(CO2\) of 1 value"),
                      ((float("nan"), [0.1]), "finite values")]:
        with pytest.raises(LstmkitError, match=msg):
            s.update(*args)
    np.testing.assert_array_equal(s.forecast().to_numpy(), before)
    assert s.rows_seen[0] == 200
    with pytest.raises(LstmkitError, match="context 'window' or 'history'"):
        f.predict(gas.iloc[:100], context="all")


def _cli(*args, stdin: str):
    return subprocess.run([sys.executable, "-m", "lstmkit", *args], input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_cli_stream_reads_brazilian_rows_and_prints_one_line_each(gas, tmp_path):
    f = _fit(gas)
    f.save(tmp_path / "m")
    gas.iloc[:200].to_csv(tmp_path / "hist.csv", sep=";", decimal=",", index=False)
    new = gas.iloc[200:204][["CO2", "GR"]]  # by name, in another order, after a header
    text = new.to_csv(sep=";", decimal=",", index=False)
    r = _cli("stream", "--model", str(tmp_path / "m"), "--history", str(tmp_path / "hist.csv"),
             stdin=text)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert [ln["row"] for ln in lines] == [201, 202, 203, 204]
    want = f.predict(gas.iloc[:204], context="history")["CO2"].to_numpy()
    np.testing.assert_allclose(lines[-1]["CO2"], want, rtol=RTOL)


def test_cli_stream_refuses_a_bad_row_with_exit_2(gas, tmp_path):
    f = _fit(gas, epochs=1, seeds=1)
    f.save(tmp_path / "m")
    r = _cli("stream", "--model", str(tmp_path / "m"), "--history", "gas-furnace",
             stdin="0.1,53.2\nabc,1\n")
    assert r.returncode == 2
    assert len(r.stdout.splitlines()) == 1  # the good row's forecast, then the refusal
    assert r.stderr.strip().splitlines() == [
        "error: Stream: expected a number in column 'GR' on stdin line 2, got 'abc'"]
    assert "Traceback" not in r.stderr


def test_the_global_forecaster_streams_its_last_lookback_points():
    """The global network normalises each window by its last value, so its stream shifts a
    lookback-long window per series: after updates it forecasts exactly what predict does
    on the whole history (intervals included), and keeps no more than lookback points."""
    import pandas as pd
    from panels import synthetic_panel

    from lstmkit.forecast.panel.model import GlobalForecaster

    df = synthetic_panel(3)
    back = df.groupby("unique_id").cumcount(ascending=False)  # 0: each series' last point
    f = GlobalForecaster(lookback=12, horizon=4, hidden_size=8, epochs=2, steps_per_epoch=5,
                         seeds=1, workers=1, conformal_windows=3, progress=False)
    f.fit(df[back >= 6], hist_exog=["promo"], test=0)
    s = f.stream(df[back >= 6])
    assert all(len(y) == 12 for y in s.panel.y)
    for k in range(5, -1, -1):
        rows = df[back == k].set_index("unique_id").loc[s.ids]
        s.update(rows["y"].to_numpy(), hist=rows[["promo"]].to_numpy())
    got = s.forecast(level=[80])
    want = f.predict(df, level=[80])
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    with pytest.raises(LstmkitError, match=r"^Stream: expected y of 3 series x 1"):
        s.update([1.0, 2.0])
