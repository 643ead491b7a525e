"""Every bad-input case of the forecasting CLI: one line on stderr, exit code 2, nothing written."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lstmkit.cli.main import main

FAST = ["--epochs", "2", "--quiet", "--hidden-size", "4"]


def run(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    return code, err


def csv(tmp_path, frame, name="data.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


def series(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": np.sin(np.arange(n) / 3) + 0.1 * rng.standard_normal(n),
                         "b": np.cos(np.arange(n) / 5) + 2.0})


def fit_fails(capsys, tmp_path, data, *extra):
    out = tmp_path / "run"
    code, err = run(capsys, ["fit", "--data", data, "--out", str(out), *FAST, *extra])
    assert code == 2
    assert len(err.splitlines()) == 1, err  # one line, no traceback
    assert not out.exists(), "nothing may be written on error"
    return err


def test_missing_file(capsys, tmp_path):
    err = fit_fails(capsys, tmp_path, str(tmp_path / "nope.csv"))
    assert "expected an existing file" in err and "nope.csv" in err


def test_non_tabular_file(capsys, tmp_path):
    path = tmp_path / "blob.csv"
    path.write_bytes(bytes(range(256)) * 8)
    err = fit_fails(capsys, tmp_path, str(path))
    assert err.startswith("error: Data:") and "blob.csv" in err


def test_empty_file(capsys, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    err = fit_fails(capsys, tmp_path, str(path))
    assert "empty.csv" in err


def test_unknown_dataset(capsys, tmp_path):
    err = fit_fails(capsys, tmp_path, "gas-furnase")
    assert "bundled dataset name" in err and "gas-furnase" in err


def test_missing_column(capsys, tmp_path):
    err = fit_fails(capsys, tmp_path, csv(tmp_path, series()), "--target", "c")
    assert "'c'" in err and "a, b" in err


def test_non_numeric_column(capsys, tmp_path):
    f = series()
    f["label"] = ["x"] * len(f)
    err = fit_fails(capsys, tmp_path, csv(tmp_path, f), "--target", "label")
    assert "numeric" in err and "label" in err


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_names_rows_and_offers_fillna(capsys, tmp_path, bad):
    f = series()
    f.loc[[7, 12], "a"] = bad
    err = fit_fails(capsys, tmp_path, csv(tmp_path, f), "--target", "a")
    assert "7" in err and "12" in err and "--fillna ffill|interpolate|drop" in err


def test_fillna_repairs(capsys, tmp_path):
    f = series()
    f.loc[[7, 12], "a"] = np.nan
    out = tmp_path / "run"
    code, err = run(capsys, ["fit", "--data", csv(tmp_path, f), "--out", str(out), *FAST,
                             "--test", "15", "--fillna", "interpolate"])
    assert code == 0, err
    assert (out / "model.safetensors").is_file()


def test_series_too_short_says_minimum(capsys, tmp_path):
    err = fit_fails(capsys, tmp_path, csv(tmp_path, series(25)), "--lookback", "10",
                    "--test", "11", "--val", "11")
    assert "at least 33 rows" in err and "25 rows" in err


def test_zero_variance_column_under_standard(capsys, tmp_path):
    f = series()
    f["b"] = 3.0
    err = fit_fails(capsys, tmp_path, csv(tmp_path, f), "--test", "15")
    assert "b" in err and ("variance" in err or "constant" in err)


def test_non_positive_under_log(capsys, tmp_path):
    err = fit_fails(capsys, tmp_path, csv(tmp_path, series()), "--scaler", "log",
                    "--target", "a", "--features", "a", "--test", "15")
    assert "log" in err and "positive" in err and "a" in err


@pytest.mark.parametrize("flag", ["--lookback", "--horizon", "--epochs", "--hidden-size"])
@pytest.mark.parametrize("value", ["0", "-3", "2.5", "ten"])
def test_not_a_positive_integer(capsys, tmp_path, flag, value):
    out = tmp_path / "run"
    code, err = run(capsys, ["fit", "--data", "sine", "--out", str(out), flag, value])
    assert code == 2
    assert f"argument {flag}: expected a positive integer, got '{value}'" in err
    assert not out.exists()


@pytest.mark.parametrize("value", ["-1", "1.5", "two"])
def test_workers_not_a_count(capsys, tmp_path, value):
    out = tmp_path / "run"
    code, err = run(capsys, ["fit", "--data", "sine", "--out", str(out), "--workers", value])
    assert code == 2
    assert f"argument --workers: expected 0 or a positive integer, got '{value}'" in err
    assert not out.exists()


def test_output_dir_not_empty(capsys, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, err = run(capsys, ["fit", "--data", "sine", "--out", str(out), *FAST])
    assert code == 2 and "non-empty" in err and "--overwrite" in err
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_overwrite_replaces_whole_directory(capsys, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("old")
    code, err = run(capsys, ["fit", "--data", "sine", "--out", str(out), *FAST, "--overwrite"])
    assert code == 0, err
    assert not (out / "keep.txt").exists() and (out / "config.json").is_file()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("m") / "run"
    assert main(["fit", "--data", "sine", "--out", str(out), *FAST, "--test", "100"]) == 0
    return out


@pytest.mark.parametrize("missing", ["model.safetensors", "config.json"])
def test_model_dir_with_missing_file(capsys, tmp_path, model_dir, missing):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken)
    (broken / missing).unlink()
    code, err = run(capsys, ["predict", "--model", str(broken), "--data", "sine"])
    assert code == 2 and missing in err and len(err.splitlines()) == 1


def test_model_dir_from_newer_version(capsys, tmp_path, model_dir):
    import shutil

    newer = tmp_path / "newer"
    shutil.copytree(model_dir, newer)
    cfg = json.loads((newer / "config.json").read_text())
    cfg["format_version"] = 99
    cfg["lstmkit_version"] = "9.0.0"
    (newer / "config.json").write_text(json.dumps(cfg))
    code, err = run(capsys, ["evaluate", "--model", str(newer), "--data", "sine"])
    assert code == 2 and "format 99" in err and "9.0.0" in err


def test_predict_out_is_written_only_on_success(capsys, tmp_path, model_dir):
    out = tmp_path / "pred.csv"
    code, err = run(capsys, ["predict", "--model", str(model_dir), "--data", "nope-data",
                             "--out", str(out)])
    assert code == 2 and not out.exists()
    code, err = run(capsys, ["predict", "--model", str(model_dir), "--data", "sine",
                             "--out", str(out)])
    assert code == 0
    pred = pd.read_csv(out)
    assert list(pred.columns) == ["step", "sine"] and pred["step"].tolist() == [1000]
