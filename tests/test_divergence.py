"""The divergence guard: a non-finite loss, gradient or weight stops training at once with
one line naming the epoch, the step and the learning rate, and nothing diverged is saved."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import lstmkit
from lstmkit.cli.main import main
from lstmkit.core.errors import LstmkitError
from lstmkit.core.training import Diverged, check_step

MSG = r"^Training: expected a finite, non-exploding loss, got .* at epoch 1, step \d+ \(lr 1e\+06\)"


def _series(n=120) -> pd.DataFrame:
    t = np.arange(n, dtype=np.float64)
    return pd.DataFrame({"y": np.sin(t / 5) * 3.0, "x": np.cos(t / 7)})


@pytest.mark.parametrize("kernel", ["auto", "torch"])
def test_a_forecaster_with_an_absurd_learning_rate_stops_at_once(kernel):
    f = lstmkit.LSTMForecaster(lookback=6, hidden_size=8, epochs=50, lr=1e6, kernel=kernel,
                               workers=1, progress=False)
    with pytest.raises(Diverged, match=MSG + r".*lower the learning rate"):
        f.fit(_series(), test=20)
    with pytest.raises(LstmkitError, match="fitted model before save"):
        f.save("never-written")  # nothing to save: the fit did not finish


def test_the_cli_reports_divergence_in_one_line_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "s.csv"
    _series().to_csv(path, index=False)
    code = main(["fit", "--data", str(path), "--lr", "1e6", "--epochs", "30", "--quiet",
                 "--workers", "1", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("error: Training: expected a finite, non-exploding loss")
    assert "lr 1e+06" in err
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["s.csv"]  # no temporary leftovers


def test_a_classifier_and_a_language_model_stop_too():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 8, 2)) * 100
    y = (X[:, :, 0].mean(1) > 0).astype(int)
    with pytest.raises(Diverged, match=MSG.replace("epoch 1", "epoch \\d+")):
        # a constant schedule: the message names the lr of the step (one-cycle warms up)
        lstmkit.SequenceClassifier(hidden_size=6, epochs=20, lr=1e6, clip_norm=None,
                                   schedule="constant", workers=1,
                                   progress=False).fit(X, y, test=0.25)
    lines = ["o gato comeu o rato", "o rato comeu o queijo", "o cão viu o gato"] * 40
    with pytest.raises(Diverged, match=r"^Training: expected (finite weights|a finite, non-)"):
        lstmkit.LanguageModel(embed_size=6, hidden_size=6, num_layers=1, epochs=5,
                              batch_size=4, bptt=5, lr=1e6, clip_norm=None, min_count=1,
                              progress=False).fit(lines, val=0.1, test=0.1)


def test_non_finite_weights_are_never_saved(tmp_path):
    f = lstmkit.LSTMForecaster(lookback=6, hidden_size=4, epochs=2, workers=1,
                               progress=False).fit(_series(), test=20)
    with torch.no_grad():
        f.networks_[0].head.weight[0, 0] = float("nan")
    with pytest.raises(LstmkitError, match=r"^Model: expected finite weights to save, got "
                                           r"NaN or inf in seed0\.head\.weight$"):
        f.save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_check_step_accepts_finite_values_only():
    assert check_step(0.5, 1, 1, 1e-3) == 0.5
    assert check_step(0.5, 1, 1, 1e-3, grad_norm=3.0) == 0.5
    for loss, norm in ((float("nan"), None), (float("inf"), None), (1.0, float("nan")),
                       (1.0, float("inf"))):
        with pytest.raises(Diverged, match="epoch 2, step 7 \\(lr 0.01\\)"):
            check_step(loss, 2, 7, 0.01, norm)
    assert check_step(900.0, 1, 3, 1e-3, first=0.5) == 900.0  # worse, not exploded
    with pytest.raises(Diverged, match="1e\\+06 times the first step's 0.5"):
        check_step(6e5, 1, 3, 1e-3, first=0.5)
