"""The estimator contract (lstmkit.core.estimator) and the CLI generated from the configs."""

from __future__ import annotations

import argparse
import inspect
import json

import numpy as np
import pandas as pd
import pytest

import lstmkit
from lstmkit.cli.main import build_parser, main
from lstmkit.cli.options import HelpFormatter
from lstmkit.core.errors import LstmkitError

ESTIMATORS = ["NeuralForecaster", "LSTMForecaster", "GRUForecaster", "RNNForecaster",
              "MLPForecaster", "BaselineForecaster", "SequenceClassifier", "TextClassifier",
              "LanguageModel"]


def _series(n=60, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.DataFrame({"y": np.sin(t / 4) + 0.1 * rng.standard_normal(n),
                         "x": np.cos(t / 6)})


def test_the_estimators_are_visible_to_dir_and_tab_completion():
    listed = dir(lstmkit)
    for name in [*ESTIMATORS, "load", "LstmkitError"]:
        assert name in listed and name in lstmkit.__all__
        assert getattr(lstmkit, name) is not None


@pytest.mark.parametrize("name", ESTIMATORS)
def test_sklearn_clone_and_set_params(name):
    from sklearn.base import clone

    cls = getattr(lstmkit, name)
    est = cls(seed=3) if name != "BaselineForecaster" else cls(kind="mean")
    twin = clone(est)
    assert type(twin) is cls and twin.get_params() == est.get_params()
    first = next(iter(est.get_params()))
    assert est.set_params(**{first: est.get_params()[first]}) is est
    # the signature lists every parameter with its default (help(), tab completion)
    sig = inspect.signature(cls)
    assert set(sig.parameters) == set(est.get_params())
    for p, v in cls().get_params().items():
        assert sig.parameters[p].default == v


@pytest.mark.parametrize("name", ["NeuralForecaster", "SequenceClassifier", "LanguageModel"])
def test_unknown_or_bad_parameters_are_refused_with_one_line(name):
    cls = getattr(lstmkit, name)
    with pytest.raises(LstmkitError, match=f"^{name}: expected a parameter among .*, got "
                                           "'hidden_sise'$"):
        cls(hidden_sise=3)
    with pytest.raises(LstmkitError, match=f"^{name}: expected hidden_size to be a positive "
                                           "integer, got 0$"):
        cls(hidden_size=0)
    est = cls()
    with pytest.raises(LstmkitError, match="hidden_size"):
        est.hidden_size = -1
    assert est.hidden_size == cls().hidden_size  # the refused value was not kept


def test_whole_sections_can_be_passed():
    from lstmkit.forecast.config import NetworkConfig

    f = lstmkit.NeuralForecaster(network=NetworkConfig(hidden_size=7, cell="gru"), epochs=3)
    assert (f.hidden_size, f.cell, f.epochs) == (7, "gru", 3)
    with pytest.raises(LstmkitError, match="network a NetworkConfig"):
        lstmkit.NeuralForecaster(network=lstmkit.forecast.config.TrainConfig())


def test_the_python_defaults_train_and_predict():
    # LSTMForecaster().fit(df) runs with the CLI's defaults (test 20%, 200 epochs, ...)
    f = lstmkit.LSTMForecaster(progress=False).fit(_series())
    assert f.split_rows_[2] == 12  # 20% of 60 rows held out for testing
    assert f.predict(_series()).shape == (1, 2)
    assert np.isfinite(f.evaluate()["ensemble"]["normalized"]["overall"]["mse"])


def test_execution_settings_are_not_saved(tmp_path):
    f = lstmkit.LSTMForecaster(lookback=4, hidden_size=3, epochs=2, workers=1, threads=1,
                               kernel="torch", progress=False).fit(_series(), test=10)
    f.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    text = json.dumps(config)
    for key in ("workers", "threads", "kernel", "progress"):
        assert f'"{key}"' not in text, key
    g = lstmkit.load(tmp_path / "m")
    assert g.model_params() == f.model_params()
    assert (g.workers, g.threads, g.kernel, g.progress) == (0, 0, "auto", True)


def test_each_hyperparameter_is_declared_in_one_field():
    from dataclasses import fields

    from lstmkit.core import config as core_config
    from lstmkit.forecast import config as forecast_config
    from lstmkit.forecast.panel import config as panel_config
    from lstmkit.nn import config as nn_config
    from lstmkit.nn import sequence
    from lstmkit.text import config as text_config

    declared: dict[str, list[str]] = {}
    for module in (core_config, forecast_config, panel_config, nn_config, sequence,
                   text_config):
        for cls in vars(module).values():
            if isinstance(cls, type) and cls.__module__ == module.__name__ and \
                    hasattr(cls, "__dataclass_fields__"):
                own = set(cls.__annotations__)  # fields this class itself declares
                for f in fields(cls):
                    if f.name in own and not f.metadata.get("derived"):
                        declared.setdefault(f.name, []).append(cls.__name__)
    twice = {k: v for k, v in declared.items() if len(v) > 1}
    assert not twice
    assert declared["hidden_size"] == ["RecurrentConfig"]


# ---------------------------------------------------------------------- the CLI's help
def _parsers(parser, path=("lstmkit",)):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


def test_every_option_of_every_command_has_help_and_a_default():
    missing = []
    for path, parser in _parsers(build_parser()):
        fmt = HelpFormatter(" ".join(path))
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction,
                                   argparse._SubParsersAction)):
                continue
            text = fmt._get_help_string(action)
            if not action.help or not ("(default" in text or "(required" in text
                                       or not action.option_strings):
                missing.append(f"{' '.join(path)} {action.option_strings or action.dest}")
    assert not missing
    paths = [p for p, _ in _parsers(build_parser())]
    assert ("lstmkit", "fit") in paths and ("lstmkit", "classify", "fit") in paths


def test_help_shows_descriptions_and_defaults(capsys):
    assert main(["fit", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--hidden-size N" in out and "hidden units per layer" in out
    assert "(default: 64)" in out and "(default: 10)" in out  # hidden size, lookback
    assert "--num-layers" in out and "--layers" not in out
    assert main(["reproduce", "--help"]) == 0
    out = capsys.readouterr().out
    from lstmkit.experiments import all_experiments

    for name in all_experiments():
        assert name in out


def test_the_cli_refuses_what_the_api_refuses(capsys, tmp_path):
    code = main(["fit", "--data", "gas-furnace", "--hidden-size", "0", "--out",
                 str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: lstmkit fit: argument --hidden-size")
    assert "expected a positive integer, got '0'" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_experiment_names_match_the_experiments():
    from lstmkit.experiments import all_experiments, experiment_names

    assert experiment_names() == sorted(all_experiments())


def test_a_run_directory_of_lstmkit_0_1_0_still_loads():
    from pathlib import Path

    here = Path(__file__).parent / "fixtures"
    f = lstmkit.load(here / "forecaster-v0.1.0")
    frame = pd.read_csv(here / "series.csv")
    want = pd.read_csv(here / "forecaster-v0.1.0-predict.csv", index_col=0)
    got = f.predict(frame)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-6, atol=1e-7)
    assert f.hidden_size == 4 and f.seed_list == [0, 1]
    c = lstmkit.load(here / "classifier-v0.1.0")
    X = np.load(here / "classifier-X.npy")
    np.testing.assert_allclose(c.predict_proba(X), np.load(here / "classifier-proba.npy"),
                               rtol=1e-5, atol=1e-6)


def test_a_newer_format_is_refused_with_the_version(tmp_path):
    import shutil
    from pathlib import Path

    src = Path(__file__).parent / "fixtures" / "forecaster-v0.1.0"
    shutil.copytree(src, tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["format_version"], config["lstmkit_version"] = 99, "9.0"
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(LstmkitError, match="format 99 from lstmkit 9.0; upgrade lstmkit"):
        lstmkit.load(tmp_path / "m")


def test_load_with_a_kind_refuses_another_model(capsys):
    from pathlib import Path

    here = Path(__file__).parent / "fixtures"
    code = main(["predict", "--model", str(here / "classifier-v0.1.0"), "--data",
                 str(here / "series.csv")])
    err = capsys.readouterr().err
    assert code == 2 and err == ("error: Model: expected a run directory of a Forecaster or "
                                 "GlobalForecaster, got a SequenceClassifier "
                                 f"('{here / 'classifier-v0.1.0'}')\n")
