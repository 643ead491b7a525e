"""The fused C++ kernels (lstmkit.nn.fused, lstmkit.forecast.fused_step) against the reference
and against autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lstmkit.core.errors import LstmkitError
from lstmkit.forecast import NeuralForecaster
from lstmkit.forecast import fused_step as fstep
from lstmkit.forecast.config import ForecastExecution, TrainConfig
from lstmkit.forecast.networks import NetworkConfig, build_network
from lstmkit.nn import fused

needs_ext = pytest.mark.skipif(fused.load() is None or fstep.load() is None,
                               reason="no C++ compiler for the kernels")

# Float64 sums of a few dozen products: the kernels and the reference/autograd differ only in
# summation order, i.e. by a few ulps (1e-16 relative); 1e-12 leaves room, 1e-10 is lstmkit
# check's bar.
TOL64 = 1e-12


@needs_ext
def test_fused_layer_matches_the_reference_over_two_calls_with_carried_state():
    from lstmkit.nn.verify import compare_fused

    diffs = compare_fused()
    assert len(diffs) == 14  # 6 values, 4 input/state grads, 4 parameter grads
    assert max(diffs.values()) < TOL64, diffs


def _net(residual=True, horizon=2, dtype=torch.float64):
    torch.manual_seed(0)
    cfg = NetworkConfig(input_size=3, n_targets=2, horizon=horizon, hidden_size=5,
                        residual=residual)
    return build_network(cfg).to(dtype)


@needs_ext
@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
@pytest.mark.parametrize("residual", [True, False])
def test_regressor_loss_and_gradients_equal_autograd(loss, residual):
    net = _net(residual)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(7, 4, 3, generator=g, dtype=torch.float64)
    last = torch.randn(7, 2, generator=g, dtype=torch.float64)
    y = 2 * torch.randn(7, 2, 2, generator=g, dtype=torch.float64)  # huber: both branches
    value, grads = fstep.regressor_grads(net, x, last, y, loss)
    want = {"mse": F.mse_loss, "mae": F.l1_loss, "huber": F.huber_loss}[loss](net(x, last), y)
    auto = torch.autograd.grad(want, fstep._params(net))
    assert value == pytest.approx(float(want.detach()), abs=TOL64)
    for a, b in zip(grads, auto, strict=True):
        assert a.shape == b.shape
        assert torch.allclose(a, b, rtol=0, atol=TOL64)


@needs_ext
@pytest.mark.parametrize("clip", [None, 0.05])
def test_fused_step_is_torch_adams_update(clip):
    """Three steps of FusedStep == autograd + clip_grad_norm_ + torch.optim.Adam."""
    a, b = _net(), _net()
    g = torch.Generator().manual_seed(2)
    x = torch.randn(20, 4, 3, generator=g, dtype=torch.float64)
    last = torch.randn(20, 2, generator=g, dtype=torch.float64)
    y = torch.randn(20, 2, 2, generator=g, dtype=torch.float64)
    step = fstep.FusedStep(a, x, last, y, lr=0.01, loss="mse", clip_norm=clip)
    opt = torch.optim.Adam(b.parameters(), lr=0.01)
    for k in range(3):
        idx = torch.arange(k, 20, 3)
        value, norm = step.step(idx)
        loss = F.mse_loss(b(x[idx], last[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        if clip is not None:
            want_norm = float(torch.nn.utils.clip_grad_norm_(b.parameters(), clip))
            assert norm == pytest.approx(want_norm, rel=1e-12)
            assert norm > clip  # the clipping branch really ran
        else:
            assert np.isnan(norm)
        opt.step()
        assert value == pytest.approx(float(loss.detach()), rel=1e-12)
    for pa, pb in zip(fstep._params(a), fstep._params(b), strict=True):
        assert torch.allclose(pa, pb, rtol=0, atol=1e-10)


@needs_ext
def test_forecaster_trains_the_same_with_either_kernel():
    t = np.arange(150)
    data = np.column_stack([np.sin(t / 7), np.cos(t / 11)])
    fits = {k: NeuralForecaster(8, 1, hidden_size=12, epochs=4, batch_size=16, seeds=2,
                                kernel=k, workers=1, progress=False).fit(data, test=30, val=15)
            for k in ("auto", "torch")}
    for ha, hb in zip(fits["auto"].histories_, fits["torch"].histories_, strict=True):
        for ra, rb in zip(ha, hb, strict=True):
            assert ra["train_loss"] == pytest.approx(rb["train_loss"], rel=1e-4)
            assert ra["val_loss"] == pytest.approx(rb["val_loss"], rel=1e-4)
    np.testing.assert_allclose(fits["auto"].predict(data), fits["torch"].predict(data),
                               rtol=1e-4, atol=1e-5)


def test_supports_only_the_plain_lstm_forecaster():
    assert fstep.supports(_net(), "mse")
    assert not fstep.supports(_net(), "quantile")
    for change in ({"cell": "gru"}, {"activation": "relu"}, {"num_layers": 2},
                   {"bidirectional": True}, {"input_dropout": 0.1}, {"kind": "mlp"},
                   {"strategy": "seq2seq"}, {"recurrent_dropout": 0.1}):
        cfg = NetworkConfig(input_size=2, n_targets=1, hidden_size=4, **change)
        assert not fstep.supports(build_network(cfg), "mse"), change
        assert not fstep.supports_config(cfg, "mse"), change


def test_kernel_setting_is_validated():
    with pytest.raises(LstmkitError, match="Training: expected kernel auto or torch"):
        ForecastExecution(kernel="cuda").validate()


def test_without_the_extension_training_falls_back_to_torch(monkeypatch):
    monkeypatch.setattr(fstep, "load", lambda: None)
    from lstmkit.forecast.training import fused_step

    net = _net(dtype=torch.float32)
    xy = (torch.zeros(4, 4, 3), torch.zeros(4, 2), torch.zeros(4, 2, 2))
    assert fused_step(net, xy, TrainConfig()) is None


def test_the_kernel_cache_folder_is_torchs(monkeypatch, tmp_path):
    # lstmkit finds a built kernel without importing the build tool: same folder as torch's
    from torch.utils.cpp_extension import _get_build_directory

    for env in (None, str(tmp_path)):
        if env is None:
            monkeypatch.delenv("TORCH_EXTENSIONS_DIR", raising=False)
        else:
            monkeypatch.setenv("TORCH_EXTENSIONS_DIR", env)
        assert str(fused._build_dir("lstmkit_probe")) == _get_build_directory("lstmkit_probe",
                                                                             False)
