"""Input and run hardening: single classes, unusable output paths, file modes, leftovers of
killed runs, two runs into one directory, models too large for memory, SIGTERM, and seed
workers that die with their parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lstmkit
from lstmkit.cli.main import main
from lstmkit.core.errors import LstmkitError
from lstmkit.core.persistence import json_writer, write_run_dir
from lstmkit.core.resources import check_memory

BIN = Path(sys.executable).parent / "lstmkit"


def _series(n=100) -> pd.DataFrame:
    t = np.arange(n, dtype=np.float64)
    return pd.DataFrame({"y": np.sin(t / 5), "x": np.cos(t / 7)})


def _small():
    return lstmkit.LSTMForecaster(lookback=5, hidden_size=3, epochs=2, workers=1,
                                  progress=False).fit(_series(), test=20)


def test_a_single_class_is_refused():
    X = np.random.default_rng(0).normal(size=(20, 6, 2))
    with pytest.raises(LstmkitError, match=r"^SequenceClassifier: expected training sequences"
                                           r" of at least 2 classes, got only class '1'$"):
        lstmkit.SequenceClassifier(epochs=1, progress=False).fit(X, np.ones(20, int), test=0)
    with pytest.raises(LstmkitError, match="training texts of at least 2 classes"):
        lstmkit.TextClassifier(epochs=1, progress=False).fit(["a b", "c d"] * 5, ["x"] * 10,
                                                             test=0, val=0)


def test_unusable_output_directories_are_refused_before_any_work(tmp_path, capsys):
    afile = tmp_path / "file"
    afile.write_text("x")
    f = _small()
    with pytest.raises(LstmkitError, match=r"^Output: expected a path inside a directory, got "
                                           r".*file' is a file$"):
        f.save(afile / "run")
    for out, msg in ((str(afile / "run"), "is a file"), ("", "a directory name, got an "
                                                         "empty one")):
        t0 = time.perf_counter()
        code = main(["fit", "--data", "gas-furnace", "--epochs", "500", "--quiet",
                     "--out", out])
        err = capsys.readouterr().err
        assert code == 2 and msg in err and len(err.splitlines()) == 1
        assert time.perf_counter() - t0 < 5  # refused before 500 epochs of training
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o555)
        with pytest.raises(LstmkitError, match="a directory this process can write to"):
            f.save(ro / "run")


def test_unusable_prediction_files_are_refused_before_any_work(tmp_path, capsys):
    f = _small()
    f.save(tmp_path / "m")
    data = tmp_path / "s.csv"
    _series().to_csv(data, index=False)
    for out, msg in ((tmp_path / "no" / "such" / "f.csv", "a file in an existing directory"),
                     (tmp_path, "a file path, got the directory")):
        code = main(["predict", "--model", str(tmp_path / "m"), "--data", str(data),
                     "--out", str(out)])
        err = capsys.readouterr().err
        assert code == 2 and msg in err and len(err.splitlines()) == 1


def test_run_files_have_the_usual_modes(tmp_path):
    old = os.umask(0o022)
    try:
        _small().save(tmp_path / "m")
    finally:
        os.umask(old)
    for name in ("model.safetensors", "config.json"):
        assert (tmp_path / "m" / name).stat().st_mode & 0o777 == 0o644, name


def test_leftovers_of_killed_runs_are_removed_and_live_ones_kept(tmp_path):
    dead = tmp_path / ".m.tmp-4194999-abc"  # no such process (above the default pid_max)
    live = tmp_path / f".m.tmp-{os.getpid()}-xyz"
    dead.mkdir()
    live.mkdir()
    _small().save(tmp_path / "m")
    assert not dead.exists() and live.exists() and (tmp_path / "m" / "config.json").exists()


def test_a_run_published_meanwhile_is_never_replaced(tmp_path):
    out = tmp_path / "m"

    def other_run_finishes_first(path):  # while this run writes, another publishes `out`
        out.mkdir()
        (out / "config.json").write_text('{"theirs": 1}')
        json_writer({"mine": 1})(path)

    with pytest.raises(LstmkitError, match=r"^Output: expected a new or empty directory \(or "
                                           r"--overwrite\), got .*written by another run "
                                           r"meanwhile$"):
        write_run_dir(out, {"config.json": other_run_finishes_first})
    assert (out / "config.json").read_text() == '{"theirs": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # and no temporary directory left


def test_a_model_too_large_for_memory_is_refused_before_allocating():
    t0 = time.perf_counter()
    with pytest.raises(LstmkitError, match=r"^NeuralForecaster: expected a model that fits in "
                                           r"memory \(.* available\), got hidden_size 10000000"):
        lstmkit.NeuralForecaster(hidden_size=10_000_000, progress=False).fit(_series())
    assert time.perf_counter() - t0 < 5
    check_memory("X", 1000, "small", available=10**6)  # 16 KB of 1 MB: fine
    with pytest.raises(LstmkitError, match=r"got big: 100,000 weights, about 1.5 MB to train"):
        check_memory("X", 100_000, "big", available=10**6)


def _fit_cmd(out: Path, *extra: str) -> list[str]:
    return [str(BIN), "fit", "--data", "gas-furnace", "--epochs", "100000", "--quiet",
            "--out", str(out), *extra]


def test_sigterm_stops_like_ctrl_c_and_writes_nothing(tmp_path):
    proc = subprocess.Popen(_fit_cmd(tmp_path / "m", "--workers", "1"),
                            stderr=subprocess.PIPE, text=True)
    ckpt = tmp_path / ".m.checkpoint"
    deadline = time.monotonic() + 120  # into training: its first checkpoint is written
    while time.monotonic() < deadline and not any(ckpt.glob("seed*.ckpt")):
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err
    assert "interrupted: the last checkpoint is kept in" in err and "--resume" in err
    assert [p.name for p in tmp_path.iterdir()] == [".m.checkpoint"]  # no run directory


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


@pytest.mark.skipif(sys.platform != "linux", reason="seed workers fork on Linux only")
def test_seed_workers_die_with_their_parent(tmp_path):
    proc = subprocess.Popen(_fit_cmd(tmp_path / "m", "--seeds", "2", "--workers", "2"),
                            stderr=subprocess.DEVNULL)
    workers: list[int] = []
    for _ in range(100):  # wait for the pool (torch's import, the kernel's load, the fork)
        time.sleep(0.2)
        workers = _children(proc.pid)
        if len(workers) >= 2:
            break
    assert len(workers) >= 2, "no seed workers started"
    time.sleep(1.0)
    proc.kill()  # kill -9: no cleanup code runs in the parent
    proc.wait()
    deadline = time.time() + 10
    alive = workers
    while alive and time.time() < deadline:
        time.sleep(0.2)
        alive = [w for w in workers if Path(f"/proc/{w}").exists()
                 and "Z" not in (Path(f"/proc/{w}/stat").read_text().split()[2:3] or [""])]
    assert not alive, f"workers {alive} outlived their parent"
