"""The fused C++ kernels (lstmkit.nn.fused, lstmkit.forecast.fused_step) against the reference
and against autograd."""

from __future__ import annotations

import numpy as np
import pandas as pd
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
    # the kernel's own network: no skip (the forecaster subtracts a fixed skip from the targets
    # before the kernel sees them; test_forecaster_trains_the_same_with_either_kernel has one)
    cfg = NetworkConfig(input_size=3, n_targets=2, horizon=horizon, hidden_size=5,
                        residual=residual, linear_skip=False)
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
    # nonlinear and noisy, so that the fixed linear skip (fused: subtracted from the targets;
    # torch: added to the output) leaves the LSTM something to learn
    t = np.arange(150)
    noise = 0.05 * np.random.default_rng(0).standard_normal((150, 2))
    data = np.column_stack([np.tanh(2 * np.sin(t / 7)), np.cos(t / 11) ** 3]) + noise
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


# ---------------------------------------------------------------------- the whole input range
SCALES = (1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0, 1e3, 1e4)


@needs_ext
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_fused_layer_equals_torch_over_the_whole_input_range(dtype):
    # -ffast-math once turned saturated gates into NaN (inputs of a few hundred, float32):
    # outputs, states and gradients must match torch.nn.LSTM at every scale, saturated
    # gates giving torch's values (tanh exactly ±1, σ exactly 1 and ~0), never NaN.
    # Tolerances, relative to each quantity's largest entry: the weight gradients sum
    # T·B = 24 products of x (up to 1e4) and gate derivatives of mixed sign, so float32's
    # 6e-8 rounding grows to ~2e-5 of the largest (measured at scale 1e3): 1e-4 leaves room;
    # float64 1e-12.
    tol = 1e-4 if dtype == torch.float32 else 1e-12
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 5, batch_first=True, dtype=dtype)
    weights = [lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0]
    for scale in SCALES:
        x = (torch.randn(4, 6, 3, dtype=dtype) * scale).requires_grad_(True)
        h0 = (torch.randn(4, 5, dtype=dtype) * 0.5).requires_grad_(True)
        c0 = (torch.randn(4, 5, dtype=dtype) * 0.5).requires_grad_(True)
        R = torch.randn(4, 6, 5, dtype=dtype)
        want, (hT, cT) = lstm(x, (h0[None], c0[None]))
        loss = (want * R).sum() + hT.sum() + cT.sum()
        g_want = torch.autograd.grad(loss, [x, h0, c0, *weights])
        got, gh, gc = fused.lstm_layer(x, h0, c0, *weights)
        loss = (got * R).sum() + gh.sum() + gc.sum()
        g_got = torch.autograd.grad(loss, [x, h0, c0, *weights])
        for name, a, b in [("out", got, want), ("h", gh, hT[0]), ("c", gc, cT[0]),
                           *zip(["dx", "dh0", "dc0", "dw_ih", "dw_hh", "db_ih", "db_hh"],
                                g_got, g_want, strict=True)]:
            assert torch.isfinite(a).all(), (scale, name)
            a, b = a.detach(), b.detach()
            err = float((a - b).abs().max()) / max(1.0, float(b.abs().max()))
            assert err <= tol, (scale, name, err)
    # saturated gates are exact, as torch's: where torch's σ or tanh gives exactly 0, 1 or
    # -1 (at the first step, z = W_ih x + b), the kernel gives the same value
    for scale in (1e2, 1e4):
        xt = torch.randn(1, 3, 3, dtype=dtype) * scale  # (T=1, B, F), time-major
        zeros = torch.zeros(3, 5, dtype=dtype)
        with torch.no_grad():
            G = fused.load().lstm_forward(xt, zeros, zeros, *weights)[0][0]  # (B, 4H)
            z = xt[0] @ weights[0].T + weights[2] + weights[3]
            i, f, g, o = z.split(5, dim=1)
            ref = torch.cat([i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()], dim=1)
        exact = torch.isin(ref, torch.tensor([0.0, 1.0, -1.0], dtype=dtype))
        assert exact.any() and torch.equal(G[exact], ref[exact]), scale
        torch.testing.assert_close(G, ref, rtol=tol, atol=tol)


@needs_ext
def test_unscaled_inputs_train_the_same_with_both_kernels():
    # the reported case: a sine x300 with --scaler none was NaN from the first epoch
    t = np.arange(160, dtype=np.float64)
    frame = pd.DataFrame({"y": 300 * np.sin(t / 6)})
    fits = {}
    for kernel in ("auto", "torch"):
        # no linear skip: it would fit the sine exactly and leave the LSTM only rounding noise
        fits[kernel] = NeuralForecaster(8, 1, hidden_size=6, epochs=3, scaler="none",
                                        linear_skip=False, kernel=kernel, workers=1,
                                        progress=False).fit(frame, test=20)
    la = [r["train_loss"] for r in fits["auto"].histories_[0]]
    lt = [r["train_loss"] for r in fits["torch"].histories_[0]]
    assert np.isfinite(la).all()
    np.testing.assert_allclose(la, lt, rtol=1e-4)


# ---------------------------------------------------------------------- build safety
def test_a_stale_build_lock_does_not_stop_the_next_build(monkeypatch, tmp_path, capsys):
    # a build killed midway leaves torch's `lock` file in the build folder, on which every
    # later build waited forever; now the next build removes it and starts compiling
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    monkeypatch.setenv("LSTMKIT_BUILD_TIMEOUT", "12")
    monkeypatch.setattr(fused, "_BUILT", {})
    src = tmp_path / "probe.cpp"
    src.write_text('#include "lstm_layer.h"\nPYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {\n'
                   '  m.def("lstm_forward", &lstmkit_fused::lstm_forward, "");\n}\n')
    name = fused.kernel_name("lstmkit_probe", [src], ())
    folder = fused._build_dir(name)
    folder.mkdir(parents=True)
    (folder / "lock").write_text("")  # what a killed build leaves behind
    import time

    t0 = time.perf_counter()
    with pytest.warns(RuntimeWarning, match="longer than 12 s to build"):
        assert fused.build_extension("lstmkit_probe", [src]) is None
    assert time.perf_counter() - t0 < 40  # it gave up at its limit: no hang
    assert (folder / "build.ninja").exists()  # it got past the stale lock and compiled
    assert "building the fused C++ kernel lstmkit_probe, one time" in capsys.readouterr().err


def test_the_kernel_cache_is_per_python_environment(monkeypatch):
    a = fused.kernel_name("lstmkit_lstm_layer", [fused._LAYER_SRC], ())
    monkeypatch.setattr("sys.prefix", "/some/other/venv")
    b = fused.kernel_name("lstmkit_lstm_layer", [fused._LAYER_SRC], ())
    assert a != b and a.startswith("lstmkit_lstm_layer_")


@needs_ext
def test_a_built_kernel_loads_without_the_build_tool():
    # start-up: an already-built kernel is imported from its cache folder; the build tool
    # (torch.utils.cpp_extension, which imports setuptools) is not even imported
    import subprocess
    import sys

    code = ("import sys; from lstmkit.nn import fused; from lstmkit.forecast import fused_step;"
            " assert fused.load() is not None and fused_step.load() is not None;"
            " assert 'torch.utils.cpp_extension' not in sys.modules, 'build tool imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_build_killed_midway_does_not_hang_the_next_fit(tmp_path):
    # the scenario, end to end: a real first build of the forecaster's kernel is
    # killed (SIGKILL, the compiler too) while it compiles; the next `lstmkit fit` must not
    # hang on what the kill left behind: it builds, or gives up at its limit and trains
    # with torch, and writes its run either way
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {**os.environ, "TORCH_EXTENSIONS_DIR": str(tmp_path / "ext"),
           "LSTMKIT_BUILD_TIMEOUT": "20"}
    code = ("from lstmkit.forecast import fused_step as f; from lstmkit.nn import fused; "
            "fused.build_here(fused.kernel_name('lstmkit_forecast_step', [f._SRC], "
            "(fused.HERE / 'lstm_layer.h',)), [str(f._SRC)])")
    build = subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list((tmp_path / "ext").glob("*/lock")):
        time.sleep(0.1)  # torch takes its `lock` as the compile starts
    assert list((tmp_path / "ext").glob("*/lock")), "the build never started"
    time.sleep(2)  # now compiling
    os.killpg(build.pid, signal.SIGKILL)
    build.wait()
    assert list((tmp_path / "ext").glob("*/lock")), "the kill left no stale lock to test"
    t0 = time.monotonic()
    fit = subprocess.run([sys.executable, "-m", "lstmkit", "fit", "--data", "sine:n=200",
                          "--epochs", "1", "--seeds", "1", "--quiet", "--out",
                          str(tmp_path / "run")], env=env, capture_output=True, text=True,
                         timeout=240)
    assert fit.returncode == 0, fit.stderr
    assert (tmp_path / "run" / "model.safetensors").is_file()
    assert "building the fused C++ kernel lstmkit_forecast_step" in fit.stderr
    assert time.monotonic() - t0 < 200  # at most the build limit (20 s) past a normal fit
