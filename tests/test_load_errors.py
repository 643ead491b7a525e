"""A damaged config.json is refused with one line (never a KeyError or TypeError), from
Python and from every command that loads a model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import lstmkit
from lstmkit.cli.main import main
from lstmkit.core.errors import LstmkitError

SRC = Path(__file__).parent / "fixtures" / "forecaster-v0.1.0"
DAMAGE = {
    "no network": (lambda c: c.pop("network"), "missing or bad entry 'network'"),
    "no seeds": (lambda c: c.pop("seeds"), "missing or bad entry 'seeds'"),
    "network as a list": (lambda c: c.__setitem__("network", [1, 2]),
                          "a NetworkConfig object in config.json, got list"),
    "features as a number": (lambda c: c["schema"].__setitem__("features", 5),
                             "a complete config.json"),
    "an extra network key": (lambda c: c["network"].__setitem__("bogus", 1),
                             "got unknown key(s) bogus"),
    "params as a list": (lambda c: c.__setitem__("params", []), "a params object"),
    "a bad parameter": (lambda c: c["params"].__setitem__("hidden_size", -3),
                        "hidden_size to be a positive integer, got -3"),
    "an unknown class": (lambda c: c.__setitem__("model_class", "Pickle"),
                         "a model_class lstmkit knows"),
}


def _damaged(tmp_path, damage) -> Path:
    d = tmp_path / "m"
    shutil.copytree(SRC, d)
    config = json.loads((d / "config.json").read_text())
    damage(config)
    (d / "config.json").write_text(json.dumps(config))
    return d


@pytest.mark.parametrize("case", DAMAGE)
def test_a_damaged_config_is_refused_in_one_line(tmp_path, capsys, case):
    damage, words = DAMAGE[case]
    d = _damaged(tmp_path, damage)
    with pytest.raises(LstmkitError) as err:
        lstmkit.load(d)
    assert words in str(err.value) and "\n" not in str(err.value)
    for argv in (["predict", "--model", str(d), "--data", "gas-furnace"],
                 ["inspect", "--model", str(d), "--data", "gas-furnace", "--out",
                  str(tmp_path / "i")]):
        assert main(argv) == 2
        err_text = capsys.readouterr().err
        assert err_text.startswith("error: ") and len(err_text.splitlines()) == 1, argv
