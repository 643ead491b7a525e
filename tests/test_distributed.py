"""Data-parallel training under torchrun: 2 CPU processes (gloo), started by the real
launcher (``python -m torch.distributed.run``), against one process.

* One step: the gradients every rank applies (after DDP's all-reduce) equal the gradients of
  the single-process run whose batch is the union of the ranks' batches. Float32 sums in
  another order: rtol 1e-5 (measured ~1e-7), atol 1e-7 for near-zero entries.
* A short run converges like the single-process one: both final training losses well under
  the first epoch's, within 25% of each other (the runs differ only by float rounding, which
  grows over the steps; 25% is a loose bound for that, not a tolerance for a bug).
* Rank 0 alone writes the run directory; jobs that do not train data-parallel are refused.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.skipif(not torch.distributed.is_available(),
                                reason="this torch build has no torch.distributed")
HERE = Path(__file__).parent
WORKER = HERE / "ddp_worker.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), env.get("PYTHONPATH", "")])
    return env


def torchrun(*args, timeout=300):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
           "--master-addr", "127.0.0.1", "--master-port", str(_free_port()), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_env())


def alone(*args, timeout=300):
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=_env())


@pytest.mark.parametrize("kind,batch", [("global", 16), ("classifier", 8)])
def test_one_step_equals_the_union_batch_in_one_process(tmp_path, kind, batch):
    r = torchrun(WORKER, tmp_path, kind, batch)
    assert r.returncode == 0, r.stderr[-3000:]
    for rank in (0, 1):  # gloo threads alive at exit can abort the process (SIGABRT)
        at_exit = json.loads((tmp_path / f"open-at-exit-rank{rank}.json").read_text())
        assert at_exit["open"] is False and at_exit["gloo_threads"] in (0, None)
    r = alone(WORKER, tmp_path, kind, 2 * batch)
    assert r.returncode == 0, r.stderr[-3000:]
    one = np.load(tmp_path / f"grads-{kind}-rank0-world1.npy")
    for rank in (0, 1):
        got = np.load(tmp_path / f"grads-{kind}-rank{rank}-world2.npy")
        assert got.shape == one.shape and np.abs(one).max() > 0
        np.testing.assert_allclose(got, one, rtol=1e-5, atol=1e-7)


def test_a_short_run_converges_like_one_process(tmp_path):
    r = torchrun(WORKER, tmp_path, "global", 16, 6)
    assert r.returncode == 0, r.stderr[-3000:]
    two = json.loads((tmp_path / "history-global-rank0.json").read_text())
    other = json.loads((tmp_path / "history-global-rank1.json").read_text())
    assert other == two  # every rank logs the union batches' losses
    single = tmp_path / "single"
    single.mkdir()
    r = alone(WORKER, single, "global", 32, 6)
    assert r.returncode == 0, r.stderr[-3000:]
    one = json.loads((single / "history-global-rank0.json").read_text())
    a, b = two[-1]["train_loss"], one[-1]["train_loss"]
    assert a < 0.7 * two[0]["train_loss"] and b < 0.7 * one[0]["train_loss"]
    assert abs(a - b) <= 0.25 * b


def test_rank_0_alone_writes_the_run_directory(tmp_path):
    from panels import synthetic_panel

    synthetic_panel(4).to_csv(tmp_path / "panel.csv", index=False)
    out = tmp_path / "run"
    r = torchrun("-m", "lstmkit", "fit", "--data", tmp_path / "panel.csv", "--horizon", 4,
                 "--lookback", 12, "--hidden-size", 8, "--epochs", 2, "--steps-per-epoch", 5,
                 "--quiet", "--out", out)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count("wrote ") == 1  # one report, from rank 0
    assert (out / "model.safetensors").exists() and (out / "config.json").exists()
    import lstmkit

    assert lstmkit.load(out).predict(tmp_path / "panel.csv").shape[0] == 4 * 4


def test_single_series_fit_is_refused_under_torchrun(tmp_path):
    r = torchrun("-m", "lstmkit", "fit", "--data", "gas-furnace", "--epochs", 1, "--out",
                 tmp_path / "run")
    assert r.returncode != 0
    line = "error: fit: expected the global forecaster or a classifier under torchrun"
    assert r.stderr.count(line) == 1  # rank 0's one line (the launcher adds its own report)
    frames = [ln for ln in r.stderr.splitlines() if 'File "' in ln and "/lstmkit/" in ln]
    assert not frames and not (tmp_path / "run").exists()  # no lstmkit traceback, no output


@pytest.mark.parametrize("kind", ["global", "classifier"])
def test_checkpoints_resume_bitwise_under_torchrun(tmp_path, kind):
    """Interrupted after epoch 3 of 6 (each rank keeps its own checkpoint), then resumed:
    every rank ends with the weights of the uninterrupted 2-process run, bitwise."""
    whole, part, ckpt = tmp_path / "whole", tmp_path / "part", tmp_path / "ckpt"
    whole.mkdir()
    part.mkdir()
    r = torchrun(WORKER, whole, kind, 16, 6)
    assert r.returncode == 0, r.stderr[-3000:]
    r = torchrun(WORKER, part, kind, 16, 6, ckpt, 3)
    assert r.returncode != 0
    assert sorted(p.name for p in ckpt.iterdir()) == ["seed0.ckpt", "seed0.rank1.ckpt"]
    r = torchrun(WORKER, part, kind, 16, 6, ckpt)
    assert r.returncode == 0, r.stderr[-3000:]
    assert not ckpt.exists()  # a completed fit removes its checkpoints
    for rank in (0, 1):
        np.testing.assert_array_equal(np.load(part / f"weights-{kind}-rank{rank}.npy"),
                                      np.load(whole / f"weights-{kind}-rank{rank}.npy"))
