"""lstmkit.forecast.data: loading, bundled datasets, column validation, fillna."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstmkit.core.errors import LstmkitError
from lstmkit.forecast.data import fill_missing, list_datasets, load_frame, select_columns

ROOT = Path(__file__).resolve().parents[1]
COURSE_FILE = ROOT / "tests" / "fixtures" / "course-gas-furnace.txt"  # the course's file


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


# --------------------------------------------------------------------------- datasets


def test_list_datasets():
    names = [n for n, _ in list_datasets()]
    assert names == ["gas-furnace", "fibonacci", "sine", "m4-weekly"]
    assert all(isinstance(d, str) and "\n" not in d and d for _, d in list_datasets())


def test_gas_furnace_shape_and_columns():
    f = load_frame("gas-furnace")
    assert f.shape == (296, 2)
    assert list(f.columns) == ["GR", "CO2"]
    assert f.dtypes.tolist() == [np.float64, np.float64]
    assert f.iloc[0].tolist() == [-0.109, 53.8]


def test_gas_furnace_matches_course_file():
    course = pd.read_csv(COURSE_FILE)
    ours = load_frame("gas-furnace")
    assert list(course.columns) == list(ours.columns)
    np.testing.assert_array_equal(course.to_numpy(), ours.to_numpy())
    # and loading the course file through our reader gives the same frame
    np.testing.assert_array_equal(load_frame(COURSE_FILE).to_numpy(), ours.to_numpy())


def test_gas_furnace_missing_package(monkeypatch):
    import importlib.metadata

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(LstmkitError, match=r"^Data: expected the timeseries-toolbox package"):
        load_frame("gas-furnace")


def test_fibonacci_values():
    f = load_frame("fibonacci")
    assert list(f.columns) == ["fib"] and f["fib"].dtype == np.float64
    assert len(f) == 30
    assert f["fib"].tolist()[:8] == [1, 1, 2, 3, 5, 8, 13, 21]
    assert f["fib"].iloc[-1] == 832040
    assert len(load_frame("fibonacci:n=40")) == 40
    assert load_frame("fibonacci", n=5)["fib"].tolist() == [1, 1, 2, 3, 5]
    assert load_frame("fibonacci:n=1")["fib"].tolist() == [1]


def test_sine():
    f = load_frame("sine")
    assert f.shape == (1000, 1) and list(f.columns) == ["sine"]
    np.testing.assert_array_equal(f["sine"].to_numpy(), np.sin(np.linspace(0, 100, 1000)))
    assert len(load_frame("sine:n=50")) == 50


def test_dataset_option_errors():
    with pytest.raises(
        LstmkitError,
        match=r"^Data: expected n of dataset 'fibonacci' to be a "
        r"positive integer, got 0$",
    ):
        load_frame("fibonacci:n=0")
    with pytest.raises(LstmkitError, match=r"options for dataset 'fibonacci' among: n, got m$"):
        load_frame("fibonacci:m=3")
    with pytest.raises(LstmkitError, match=r"dataset options only with a bundled dataset name"):
        load_frame(np.zeros(3), n=4)


def test_unknown_dataset():
    with pytest.raises(LstmkitError) as err:
        load_frame("foo")
    assert str(err.value) == (
        "Data: expected a bundled dataset name (gas-furnace, fibonacci, sine, m4-weekly) "
        "or an existing file, got 'foo'"
    )


# --------------------------------------------------------------------------- files


def test_missing_file(tmp_path):
    p = tmp_path / "nope.csv"
    with pytest.raises(LstmkitError) as err:
        load_frame(p)
    assert str(err.value) == f"Data: expected an existing file, got '{p}' (no such file)"
    with pytest.raises(LstmkitError, match=r"^Data: expected an existing file, got .*no such"):
        load_frame(str(p))


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.csv", "", "got an empty file"),
        ("bin.csv", b"\x7fELF\x02\x01\x00\x00binary", "got a binary file"),
        ("header.csv", "a,b\n", "expected at least one data row in .*got 0 rows"),
        ("blank.csv", "\n\n  \n", "got only blank lines"),
        ("latin.csv", b"\xff\xfe\xfa,b\n1,2\n", "got undecodable bytes"),
        ("quote.csv", 'a,b\n1,2\n"unterminated\n', "got a parse error"),
        ("data.json", '{"a": 1}', r"expected a table file \(.csv"),
    ],
)
def test_non_tabular_files(tmp_path, name, content, message):
    p = write(tmp_path, name, content)
    with pytest.raises(LstmkitError, match=message) as err:
        load_frame(p)
    assert str(err.value).startswith("Data: expected ")
    assert "\n" not in str(err.value)


def test_directory_is_refused(tmp_path):
    with pytest.raises(LstmkitError, match=r"^Data: expected a file, got .*directory"):
        load_frame(tmp_path)


@pytest.mark.parametrize(
    "name, content",
    [
        ("a.csv", "a,b\n1,2\n3,4\n"),
        ("a.txt", "a;b\n1;2\n3;4\n"),
        ("a.tsv", "a\tb\n1\t2\n3\t4\n"),
        ("ws.txt", "a  b\n1 2\n3   4\n"),
        ("sp.csv", "a, b\n1, 2\n3, 4\n"),
    ],
)
def test_delimiters(tmp_path, name, content):
    f = load_frame(write(tmp_path, name, content))
    assert list(f.columns) == ["a", "b"]
    assert f.to_numpy().tolist() == [[1, 2], [3, 4]]


def test_single_column_and_headerless(tmp_path):
    f = load_frame(write(tmp_path, "one.csv", "value\n1.5\n2.5\n"))
    assert list(f.columns) == ["value"] and f["value"].tolist() == [1.5, 2.5]
    f = load_frame(write(tmp_path, "nohead.csv", "1,2\n3,4\n"))
    assert list(f.columns) == ["x0", "x1"] and len(f) == 2
    f = load_frame(write(tmp_path, "nohead1.csv", "1\n3\n"))
    assert list(f.columns) == ["y"] and f["y"].tolist() == [1, 3]


def test_parquet_without_engine(tmp_path, monkeypatch):
    p = write(tmp_path, "a.parquet", b"PAR1 not really")

    def no_engine(*a, **k):
        raise ImportError("no engine")

    monkeypatch.setattr(pd, "read_parquet", no_engine)
    with pytest.raises(LstmkitError, match=r"^Data: expected pyarrow or fastparquet"):
        load_frame(p)


def test_parquet_round_trip(tmp_path):
    pytest.importorskip("pyarrow")
    p = tmp_path / "a.parquet"
    pd.DataFrame({"a": [1.0, 2.0]}).to_parquet(p)
    assert load_frame(p)["a"].tolist() == [1.0, 2.0]
    bad = write(tmp_path, "bad.pq", b"garbage bytes")
    with pytest.raises(LstmkitError, match="got a parse error"):
        load_frame(bad)


# --------------------------------------------------------------------------- in-memory


def test_frame_and_array_sources():
    df = pd.DataFrame({"a": [1.0, 2.0]})
    f = load_frame(df)
    f.loc[0, "a"] = 99.0
    assert df.loc[0, "a"] == 1.0  # copied
    assert list(load_frame(np.arange(4.0)).columns) == ["y"]
    assert list(load_frame(np.zeros((3, 2))).columns) == ["x0", "x1"]
    assert list(load_frame(pd.DataFrame(np.zeros((2, 2)))).columns) == ["0", "1"]
    with pytest.raises(
        LstmkitError,
        match=r"^Data: expected a 1-d \(N,\) or 2-d \(N, C\) array, "
        r"got shape \(2, 2, 2\)$",
    ):
        load_frame(np.zeros((2, 2, 2)))
    with pytest.raises(LstmkitError, match=r"got list$"):
        load_frame([1, 2, 3])
    with pytest.raises(LstmkitError, match=r"at least one data row"):
        load_frame(pd.DataFrame({"a": []}))


# --------------------------------------------------------------------------- validation


@pytest.fixture
def mixed():
    return pd.DataFrame(
        {
            "a": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
            "b": [1.0, np.nan, 3.0, np.inf, 5.0, np.nan, np.nan, np.nan],
            "s": ["1", "2", "x", "4", "5", "6", "7", "8"],
            "d": pd.date_range("2020-01-01", periods=8),
        }
    )


def test_select_columns_ok(mixed):
    out = select_columns(mixed, ["a"], "feature")
    assert out.shape == (8, 1) and out.dtype == np.float64
    assert select_columns(mixed, "a", "target").shape == (8, 1)


def test_missing_column(mixed):
    with pytest.raises(LstmkitError) as err:
        select_columns(mixed, ["a", "zz"], "target")
    assert str(err.value) == (
        "Data: expected target column present in the data (available: a, b, s, d), got 'zz'"
    )


def test_non_numeric_column(mixed):
    with pytest.raises(LstmkitError) as err:
        select_columns(mixed, ["s"], "feature")
    assert str(err.value) == (
        "Data: expected numeric values in feature column 's', got 'x' at row 2 (0-based)"
    )
    with pytest.raises(LstmkitError, match=r"^Data: expected numeric values in feature column 'd'"):
        select_columns(mixed, ["d"], "feature")


def test_nan_inf_rows_and_hint(mixed):
    with pytest.raises(LstmkitError) as err:
        select_columns(mixed, ["a", "b"], "target")
    assert str(err.value) == (
        "Data: expected finite numbers in target column 'b', got NaN/inf at rows 1, 3, 5, 6, 7 "
        "(0-based); fix with --fillna ffill|interpolate|drop"
    )
    df = pd.DataFrame({"v": [1.0, np.nan] + [1.0] * 10 + [np.nan] * 7})
    with pytest.raises(LstmkitError, match=r"got NaN at rows 1, 12, 13, 14, 15 and 3 more"):
        select_columns(df, ["v"], "feature")
    df = pd.DataFrame({"v": [1.0, np.inf]})
    with pytest.raises(LstmkitError, match=r"got inf at row 1 \(0-based\); fix with --fillna"):
        select_columns(df, ["v"], "feature")


def test_empty_and_repeated_columns(mixed):
    with pytest.raises(LstmkitError, match=r"at least one feature column, got none$"):
        select_columns(mixed, [], "feature")
    with pytest.raises(LstmkitError, match=r"distinct target columns, got 'a' twice"):
        select_columns(mixed, ["a", "a"], "target")


# --------------------------------------------------------------------------- fillna


@pytest.fixture
def gappy():
    return pd.DataFrame(
        {
            "v": [np.nan, 2.0, np.nan, 4.0, np.inf, np.nan],
            "w": [1, 2, 3, 4, 5, 6],
            "t": list("abcdef"),
        }
    )


def test_fill_ffill(gappy):
    out = fill_missing(gappy, ["v"], "ffill")
    assert out["v"].tolist() == [2.0, 2.0, 2.0, 4.0, 4.0, 4.0]
    assert gappy["v"].isna().sum() == 3  # input untouched
    assert out["w"].dtype == gappy["w"].dtype


def test_fill_interpolate(gappy):
    out = fill_missing(gappy, None, "interpolate")
    assert out["v"].tolist() == [2.0, 2.0, 3.0, 4.0, 4.0, 4.0]
    assert out["t"].tolist() == list("abcdef")


def test_fill_drop(gappy):
    out = fill_missing(gappy, ["v"], "drop")
    assert out["v"].tolist() == [2.0, 4.0]
    assert out["w"].tolist() == [2, 4]
    assert out.index.tolist() == [0, 1]


def test_fill_via_load_frame(gappy):
    out = load_frame(gappy, fillna="interpolate")
    assert select_columns(out, ["v"], "target")[:, 0].tolist() == [2.0, 2.0, 3.0, 4.0, 4.0, 4.0]


def test_fill_errors(gappy):
    with pytest.raises(
        LstmkitError,
        match=r"^Data: expected fillna ffill, interpolate or drop, "
        r"got 'mean'$",
    ):
        fill_missing(gappy, ["v"], "mean")
    with pytest.raises(LstmkitError, match=r"a finite value in column 'v' to fill from, got none"):
        fill_missing(pd.DataFrame({"v": [np.nan, np.nan]}), None, "ffill")
    with pytest.raises(LstmkitError, match=r"numeric values in data column 't'"):
        fill_missing(gappy, ["t"], "ffill")


def test_m4_weekly_is_bundled_in_long_format():
    train, test = load_frame("m4-weekly"), load_frame("m4-weekly:part=test")
    assert list(train.columns) == ["unique_id", "ds", "y"]
    assert train.unique_id.nunique() == test.unique_id.nunique() == 359
    assert (test.groupby("unique_id").size() == 13).all()
    last = train.groupby("unique_id").ds.max()
    first = test.groupby("unique_id").ds.min()
    assert (first == last + 1).all()  # the test points follow each series
    assert train.groupby("unique_id").size().min() == 80
