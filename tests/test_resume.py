"""Checkpoints and resume: a fit stopped at any point (an exception, ^C, kill -9) and resumed
ends bitwise as the uninterrupted fit, losing at most the epoch it was in."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

import lstmkit
from lstmkit.core import training
from lstmkit.core.errors import LstmkitError

BIN = Path(sys.executable).parent / "lstmkit"


def _series(n=120) -> pd.DataFrame:
    t = np.arange(n, dtype=np.float64)
    return pd.DataFrame({"y": np.sin(t / 5), "x": np.cos(t / 7)})


def _model(kernel, **kw):
    kw = {"lookback": 6, "hidden_size": 5, "epochs": 12, "seeds": 2, "workers": 1, **kw}
    return lstmkit.LSTMForecaster(kernel=kernel, progress=False, **kw)


def _weights(model) -> dict:
    return {k: v.clone() for k, v in model._state_tensors().items()}


@pytest.mark.parametrize("kernel,dropout", [("auto", 0.0), ("torch", 0.0), ("torch", 0.3)])
def test_a_fit_stopped_after_any_epoch_resumes_bitwise(tmp_path, monkeypatch, kernel, dropout):
    kw = {"patience": 4, "input_dropout": dropout}
    whole = _model(kernel, **kw).fit(_series(), test=20, val=15)
    want = _weights(whole)
    record = training.EpochLog.record
    n0, n1 = len(whole.histories_[0]), len(whole.histories_[1])  # epochs each seed ran
    for stop_at in sorted({1, (n1 + 1) // 2, n1}):  # in seed 1: first, middle, last epoch
        folder = tmp_path / f"ckpt{stop_at}"
        calls = {"n": 0}

        def interrupted(self, row, stop_at=stop_at, calls=calls):
            calls["n"] += 1
            if calls["n"] == n0 + stop_at:  # seed 0 is done; seed 1 is in epoch stop_at
                raise KeyboardInterrupt
            return record(self, row)

        monkeypatch.setattr(training.EpochLog, "record", interrupted)
        with pytest.raises(KeyboardInterrupt):
            _model(kernel, **kw).fit(_series(), test=20, val=15, checkpoint=folder)
        monkeypatch.setattr(training.EpochLog, "record", record)
        seed1 = ["seed1.ckpt"] if stop_at > 1 else []  # seed 1 kept its finished epochs
        assert sorted(p.name for p in folder.iterdir()) == ["seed0.ckpt", *seed1]
        again = _model(kernel, **kw).fit(_series(), test=20, val=15, checkpoint=folder,
                                        resume=True)
        got = _weights(again)
        assert got.keys() == want.keys()
        for k in want:
            assert (got[k] == want[k]).all(), (stop_at, k)
        assert again.histories_ == whole.histories_ and again.best_epochs_ == whole.best_epochs_
        assert not folder.exists()  # a completed fit removes its checkpoint


def test_resume_refuses_another_run_or_none(tmp_path, monkeypatch):
    folder = tmp_path / "c"
    # nothing to resume (killed before an epoch ended): the fit starts at the first epoch
    fresh = _model("auto").fit(_series(), test=20, checkpoint=folder, resume=True)
    plain = _model("auto").fit(_series(), test=20)
    for k, v in _weights(plain).items():
        assert (_weights(fresh)[k] == v).all()
    record = training.EpochLog.record
    calls = {"n": 0}

    def interrupted(self, row):
        calls["n"] += 1
        if calls["n"] == 3:  # epochs 1 and 2 of seed 0 are checkpointed
            raise KeyboardInterrupt
        return record(self, row)

    monkeypatch.setattr(training.EpochLog, "record", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _model("auto").fit(_series(), test=20, checkpoint=folder)
    monkeypatch.setattr(training.EpochLog, "record", record)
    assert (folder / "seed0.ckpt").exists()
    with pytest.raises(LstmkitError, match="^Resume: expected the settings of the interrupted"):
        _model("auto", hidden_size=6).fit(_series(), test=20, checkpoint=folder, resume=True)
    with pytest.raises(LstmkitError, match="^Resume: expected the settings of the interrupted"):
        _model("auto").fit(_series(130), test=20, checkpoint=folder, resume=True)  # other data


def _cli_fit(out: Path, *extra: str) -> list[str]:
    return [str(BIN), "fit", "--data", "gas-furnace", "--epochs", "150", "--seeds", "2",
            "--hidden-size", "16", "--quiet", "--out", str(out), *extra]


def test_kill_9_at_random_points_then_resume_is_bitwise_the_uninterrupted_run(tmp_path):
    subprocess.run(_cli_fit(tmp_path / "whole"), check=True, stdout=subprocess.DEVNULL)
    want = load_file(str(tmp_path / "whole" / "model.safetensors"))
    rng = np.random.default_rng(0)
    killed = 0
    for k, delay in enumerate(sorted(rng.uniform(3.0, 7.0, size=3))):
        out = tmp_path / f"run{k}"
        proc = subprocess.Popen(_cli_fit(out), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.kill()  # kill -9: no cleanup runs
        proc.wait()
        if out.exists():  # it finished before the kill: nothing to resume
            continue
        killed += 1
        subprocess.run(_cli_fit(out, "--resume"), check=True, stdout=subprocess.DEVNULL)
        got = load_file(str(out / "model.safetensors"))
        assert got.keys() == want.keys()
        for name in want:
            assert (got[name] == want[name]).all(), (delay, name)
        assert not (tmp_path / f".run{k}.checkpoint").exists()
    assert killed >= 1, "every run finished before its kill: lengthen the runs"


def test_the_global_forecaster_resumes_bitwise(tmp_path, monkeypatch):
    """The panel model checkpoints every epoch of every seed too (sampler, schedule and
    dropout RNG included): stopped in its second seed, resumed, it ends bitwise."""
    sys.path.insert(0, str(Path(__file__).parent))
    from panels import synthetic_panel

    kw = dict(lookback=12, horizon=4, hidden_size=8, epochs=5, steps_per_epoch=4, seeds=2,
              workers=1, dropout=0.2, num_layers=2, progress=False)
    df = synthetic_panel(4)
    whole = lstmkit.GlobalForecaster(**kw).fit(df, val=4)
    want = {k: v.clone() for k, v in whole._state_tensors().items()}
    record, calls = training.EpochLog.record, {"n": 0}

    def interrupted(self, row):
        calls["n"] += 1
        if calls["n"] == len(whole.histories_[0]) + 2:  # seed 1, epoch 2
            raise KeyboardInterrupt
        return record(self, row)

    monkeypatch.setattr(training.EpochLog, "record", interrupted)
    with pytest.raises(KeyboardInterrupt):
        lstmkit.GlobalForecaster(**kw).fit(df, val=4, checkpoint=tmp_path / "ck")
    monkeypatch.setattr(training.EpochLog, "record", record)
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == ["seed0.ckpt", "seed1.ckpt"]
    again = lstmkit.GlobalForecaster(**kw).fit(df, val=4, checkpoint=tmp_path / "ck",
                                               resume=True)
    got = again._state_tensors()
    assert got.keys() == want.keys()
    for k in want:
        assert torch.equal(got[k], want[k]), k
    assert again.histories_ == whole.histories_
