"""lstmkit tune: Optuna search scored on validation rows, pruned, refitted, shareable."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from lstmkit.cli.main import main
from lstmkit.core.errors import LstmkitError

optuna = pytest.importorskip("optuna", reason="the tune extra (optuna) is not installed: "
                             "pip install 'lstmkit[tune]'")

SMALL = {"hidden_size": {"type": "int", "low": 4, "high": 8},
         "lookback": {"type": "int", "low": 4, "high": 8},
         "num_layers": {"type": "int", "low": 1, "high": 1},
         "batch_size": {"type": "categorical", "choices": [16]}}


def _series(n=140, seed=0):
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"y": np.sin(t / 6) + 0.1 * rng.standard_normal(n)})


@pytest.fixture
def files(tmp_path):
    data = tmp_path / "s.csv"
    _series().to_csv(data, index=False)
    space = tmp_path / "space.json"
    space.write_text(json.dumps(SMALL))
    return data, space


def test_a_three_trial_study_refits_the_best_and_writes_a_run(tmp_path, files, capsys):
    data, space = files
    out = tmp_path / "run"
    assert main(["tune", "--data", str(data), "--trials", "3", "--epochs", "3", "--space",
                 str(space), "--quiet", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("3 trials (") and "best parameters: " in text
    assert {"model.safetensors", "config.json", "trials.csv", "tune.json",
            "metrics.json"} <= {p.name for p in out.iterdir()}
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 3 and set(trials["state"]) <= {"COMPLETE", "PRUNED"}
    best = json.loads((out / "tune.json").read_text())
    config = json.loads((out / "config.json").read_text())
    assert config["params"]["hidden_size"] == best["best_params"]["hidden_size"]
    assert config["params"]["lookback"] == best["best_params"]["lookback"]
    assert best["best_val_loss"] == pytest.approx(trials["value"].min())


def test_the_search_never_reads_the_test_rows():
    from lstmkit.forecast.tune import load_space, tune

    space = {k: v for k, v in load_space().items() if k in SMALL} | SMALL
    frame = _series()
    other = frame.copy()
    other.iloc[-28:, 0] = 100.0  # the test rows (20%) changed beyond recognition
    kw = dict(trials=3, space=space, test=0.2, val=0.2, fixed={"epochs": 3})
    a = [t.value for t in tune(frame, "y", "y", **kw).trials]
    b = [t.value for t in tune(other, "y", "y", **kw).trials]
    assert a == b


def test_two_workers_share_one_sqlite_study(tmp_path, files):
    data, space = files
    db = tmp_path / "study.db"
    cmd = lambda i: [sys.executable, "-m", "lstmkit", "tune", "--data", str(data), "--trials",
                     "2", "--epochs", "2", "--space", str(space), "--storage", f"sqlite:///{db}",
                     "--study", "shared", "--seed", str(i), "--quiet", "--out",
                     str(tmp_path / f"w{i}")]
    procs = [subprocess.Popen(cmd(i), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for i in (1, 2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-2000:]
    study = optuna.load_study(study_name="shared", storage=f"sqlite:///{db}")
    assert sorted(t.number for t in study.trials) == [0, 1, 2, 3]
    params = {tuple(sorted(t.params.items())) for t in study.trials}
    assert len(params) >= 3  # the two workers sampled different trials


def test_bad_tune_input_is_one_line(tmp_path, files, capsys):
    data, space = files
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"wings": {"type": "int", "low": 1, "high": 2}}))
    assert main(["tune", "--data", str(data), "--trials", "1", "--space", str(bad),
                 "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.startswith("error: Tune: expected parameters of the "
                                              "forecaster in the search space, got 'wings'")
    assert not (tmp_path / "o").exists()
    from lstmkit.forecast.tune import tune

    with pytest.raises(LstmkitError, match="Tune: expected a validation split"):
        tune(_series(), "y", "y", trials=1, val=0)
