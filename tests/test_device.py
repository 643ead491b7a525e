"""``device="auto" | "cpu" | "cuda"``: resolved, refused where impossible, never saved; and,
on a machine with a GPU (the tests marked ``cuda``, skipped elsewhere), every kind of model
trains and predicts there like on the CPU.

CUDA tolerances: cuDNN and the CPU kernels sum in different orders (and cuDNN may use TF32
off, float32 throughout), so a few training steps agree to ~1e-4 relative, not bitwise;
1e-3 on the forecasts and probabilities leaves a margin of 10x.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from panels import synthetic_panel

from lstmkit import LanguageModel, NeuralForecaster, SequenceClassifier
from lstmkit.core.device import resolve_device
from lstmkit.core.errors import LstmkitError
from lstmkit.forecast.data import load_frame
from lstmkit.forecast.panel.model import GlobalForecaster

GPU = torch.cuda.is_available()
cuda = pytest.mark.skipif(not GPU, reason="no CUDA GPU visible to torch (CPU build or no GPU)")


def test_auto_picks_cuda_only_where_torch_sees_a_gpu():
    assert resolve_device("auto").type == ("cuda" if GPU else "cpu")
    assert resolve_device("cpu").type == "cpu"
    with pytest.raises(LstmkitError, match="^Device: expected auto, cpu or cuda, got 'tpu'"):
        resolve_device("tpu")


@pytest.mark.skipif(GPU, reason="a GPU is visible: cuda is allowed here")
def test_cuda_without_a_gpu_is_refused_at_the_edge(tmp_path):
    with pytest.raises(LstmkitError, match="^Device: expected auto or cpu .*got cuda"):
        resolve_device("cuda")
    r = subprocess.run([sys.executable, "-m", "lstmkit", "fit", "--data", "gas-furnace",
                        "--epochs", "1", "--device", "cuda", "--out", str(tmp_path / "run")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("error: Device: expected auto or cpu")
    assert "Traceback" not in r.stderr and not (tmp_path / "run").exists()


def test_the_device_is_an_execution_setting_never_saved(tmp_path):
    f = NeuralForecaster(8, 2, hidden_size=8, epochs=2, device="cpu", progress=False)
    f.fit(load_frame("gas-furnace"), target="CO2", test=40)
    f.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert "device" not in json.dumps(config)
    auto = NeuralForecaster(8, 2, hidden_size=8, epochs=2, progress=False)
    auto.fit(load_frame("gas-furnace"), target="CO2", test=40)
    if not GPU:  # auto is the CPU here: the same run, bitwise
        np.testing.assert_array_equal(f.predict("gas-furnace"), auto.predict("gas-furnace"))


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-3,
                               atol=1e-3 * float(np.abs(np.asarray(b, float)).max()))


@cuda
@pytest.mark.parametrize("kw", [dict(cell="lstm"), dict(cell="gru", num_layers=2)])
def test_forecaster_trains_and_predicts_on_cuda_like_on_cpu(kw):
    gas = load_frame("gas-furnace")
    fits = [NeuralForecaster(8, 2, hidden_size=16, epochs=3, device=d, kernel="torch",
                             progress=False, **kw).fit(gas, target="CO2", test=40)
            for d in ("cpu", "cuda")]
    assert next(fits[1].networks_[0].parameters()).device.type == "cpu"  # back after training
    _close(fits[1].predict(gas), fits[0].predict(gas))
    fits[0].set_params(device="cuda")  # predict on the GPU with CPU-trained weights
    _close(fits[0].predict(gas), fits[0].set_params(device="cpu").predict(gas))


@cuda
def test_global_forecaster_classifier_and_lm_train_on_cuda():
    df = synthetic_panel(4)
    g = [GlobalForecaster(lookback=12, horizon=4, hidden_size=16, epochs=2, steps_per_epoch=10,
                          seeds=1, workers=1, progress=False, device=d).fit(df)
         for d in ("cpu", "cuda")]
    _close(g[1].predict()["forecast"], g[0].predict()["forecast"])
    c = [SequenceClassifier(hidden_size=16, epochs=2, progress=False, device=d).fit(
        "digits-rows") for d in ("cpu", "cuda")]
    _close(c[1].predict_proba("digits-rows"), c[0].predict_proba("digits-rows"))
    lines = ["o governo anunciou novas medidas hoje ."] * 40
    lm = LanguageModel(level="word", min_count=1, embed_size=8, hidden_size=8, epochs=2,
                       batch_size=4, bptt=8, progress=False, device="cuda").fit(lines)
    assert np.isfinite(lm.history_[-1]["train_ppl"])
    assert next(lm.net_.parameters()).device.type == "cpu"  # back after training
    assert lm.complete("o governo", k=2)  # predicts on the CPU afterwards
