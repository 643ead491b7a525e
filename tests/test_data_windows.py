"""lstmkit.forecast.data.windows: splits, windowing, prepare, window_all, last_window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstmkit.core.errors import LstmkitError
from lstmkit.forecast.data import (
    last_window,
    load_frame,
    make_windows,
    min_rows,
    prepare,
    split_bounds,
    window_all,
)

ROOT = Path(__file__).resolve().parents[1]
COURSE_FILE = ROOT / "tests" / "fixtures" / "course-gas-furnace.txt"  # the course's file


def ramp_frame(n: int) -> pd.DataFrame:
    """Row r holds r (feature ``r``), 10 r (feature ``q``) and 100 + r (target ``t``)."""
    r = np.arange(n, dtype=np.float64)
    return pd.DataFrame({"r": r, "q": 10 * r, "t": 100 + r})


# --------------------------------------------------------------------------- windows


def test_make_windows_hand_example():
    x = np.array([[i, 10 * i] for i in range(7)], dtype=float)  # (7, 2)
    y = np.array([[100 + i] for i in range(7)], dtype=float)  # (7, 1)
    X, Y, H, start = make_windows(x, y, lookback=2, horizon=2)
    assert X.shape == (4, 2, 2) and Y.shape == (4, 2, 1) and H.shape == (4, 2, 1)
    assert X[0].tolist() == [[0, 0], [1, 10]]
    assert Y[0].tolist() == [[102], [103]]
    assert H[0].tolist() == [[100], [101]]
    assert X[3].tolist() == [[3, 30], [4, 40]]
    assert Y[3].tolist() == [[105], [106]]
    assert H[3].tolist() == [[103], [104]]
    assert start.tolist() == [2, 3, 4, 5]
    X, Y, H, start = make_windows(x, y, lookback=2, horizon=2, stride=2)
    assert start.tolist() == [2, 4]
    assert X[1].tolist() == [[2, 20], [3, 30]] and Y[1].tolist() == [[104], [105]]
    X, Y, H, start = make_windows(x, y, lookback=3, horizon=2, stride=3)
    assert start.tolist() == [3]  # s = 0 only: s = 3 would need rows up to 7
    assert X.flags.writeable and X.flags.c_contiguous


def test_make_windows_general_contents():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 2))
    L, K, stride = 5, 3, 2
    X, Y, H, start = make_windows(x, y, L, K, stride)
    assert len(start) == (40 - L - K) // stride + 1
    for j, s in enumerate(range(0, 40 - L - K + 1, stride)):
        np.testing.assert_array_equal(X[j], x[s : s + L])
        np.testing.assert_array_equal(H[j], y[s : s + L])
        np.testing.assert_array_equal(Y[j], y[s + L : s + L + K])
        assert start[j] == s + L


def test_make_windows_too_short_and_shape_errors():
    X, Y, H, start = make_windows(np.zeros((3, 2)), np.zeros((3, 1)), 2, 2)
    assert X.shape == (0, 2, 2) and Y.shape == (0, 2, 1) and H.shape == (0, 2, 1)
    assert start.shape == (0,)
    with pytest.raises(LstmkitError, match=r"same N, got shapes \(5, 2\) and \(4, 1\)$"):
        make_windows(np.zeros((5, 2)), np.zeros((4, 1)), 2, 1)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("lookback", dict(lookback=0)),
        ("horizon", dict(horizon=0)),
        ("lookback", dict(lookback=-3)),
        ("horizon", dict(horizon=1.5)),
        ("stride", dict(stride=0)),
        ("lookback", dict(lookback=True)),
    ],
)
def test_positive_int_errors(name, kwargs):
    args = dict(lookback=3, horizon=1, stride=1) | kwargs
    with pytest.raises(LstmkitError) as err:
        prepare(ramp_frame(50), ["r"], ["t"], test=10, **args)
    assert str(err.value) == (
        f"Data: expected {name} to be a positive integer, got {kwargs[name]!r}"
    )
    with pytest.raises(LstmkitError, match=f"^Data: expected {name} to be a positive integer"):
        make_windows(np.zeros((9, 1)), np.zeros((9, 1)), **args)


# --------------------------------------------------------------------------- splits


def test_split_bounds():
    assert split_bounds(296, 100) == (slice(0, 196), slice(196, 196), slice(196, 296))
    assert split_bounds(100, 0.2, 0.1) == (slice(0, 70), slice(70, 80), slice(80, 100))
    assert split_bounds(10, 0.25) == (slice(0, 7), slice(7, 7), slice(7, 10))  # 2.5 -> 3
    assert split_bounds(100, 20, 0.15) == (slice(0, 65), slice(65, 80), slice(80, 100))
    assert split_bounds(100, "20", "0.1") == (slice(0, 70), slice(70, 80), slice(80, 100))
    # test=0: a production fit learns from every row (the val rows still precede the end)
    assert split_bounds(100, 0) == (slice(0, 100), slice(100, 100), slice(100, 100))
    assert split_bounds(100, 0, 10) == (slice(0, 90), slice(90, 100), slice(100, 100))


@pytest.mark.parametrize(
    "test, val, message",
    [
        (-1, 0, r"expected test as a row count \(int >= 0\) or a fraction in \(0, 1\), got -1$"),
        (1.0, 0, r"fraction in \(0, 1\), got 1.0$"),
        (10, -1, r"expected val as a row count \(int >= 0\) or a fraction in \(0, 1\), got -1$"),
        (60, 40, r"fewer test \+ val rows than the 100 rows of the series, got 60 \+ 40$"),
        (0.001, 0, r"expected test to give at least 1 row"),
        (None, 0, r"expected test as a row count"),
    ],
)
def test_split_bounds_errors(test, val, message):
    with pytest.raises(LstmkitError, match=message) as err:
        split_bounds(100, test, val)
    assert str(err.value).startswith("Data: expected ")


def test_min_rows():
    assert min_rows(100, 0, 10, 1) == 111
    assert min_rows(0, 0, 10, 1) == 11
    assert min_rows(0, 20, 10, 1) == 31
    assert min_rows(100, 20, 10, 1) == 131
    assert min_rows(0.2, 0, 10, 1) == 53  # round(0.2 * 53) = 11 test rows, 42 train
    assert min_rows(5, 0, 10, 1) is None
    assert min_rows(0.6, 0.5, 2, 1) is None


# --------------------------------------------------------------------------- prepare


def test_windows_never_cross_a_boundary():
    p = prepare(
        ramp_frame(100),
        ["r", "q"],
        ["t"],
        lookback=4,
        horizon=3,
        test=20,
        val=15,
        scaler="none",
        stride=1,
    )
    assert p.bounds == (slice(0, 65), slice(65, 80), slice(80, 100))
    for w, b in zip((p.train, p.val, p.test), p.bounds, strict=True):
        rows_in = w.X[:, :, 0]  # feature r holds the row number
        rows_out = w.Y[:, :, 0] - 100
        assert rows_in.min() == b.start and rows_out.max() == b.stop - 1
        assert (rows_in >= b.start).all() and (rows_out < b.stop).all()
        np.testing.assert_array_equal(w.start, rows_out[:, 0])  # start indexes the full frame
        np.testing.assert_array_equal(w.H[:, :, 0] - 100, rows_in)
        assert len(w) == (b.stop - b.start) - 4 - 3 + 1


def test_prepare_val_none_and_fields():
    p = prepare(ramp_frame(60), "r", "t", lookback=3, horizon=2, test=0.25)
    assert p.val is None and p.test is not None
    assert p.features == ["r"] and p.targets == ["t"]
    assert (p.lookback, p.horizon, p.stride) == (3, 2, 1)
    assert p.train.X.dtype == np.float64 and p.train.start.dtype == np.int64
    assert p.x_scaler.kind == "standard" and p.y_scaler.columns == ["t"]


def test_scalers_fitted_on_train_only():
    f = ramp_frame(80)
    p1 = prepare(f, ["r", "q"], ["t"], lookback=5, horizon=1, test=20, val=10)
    g = f.copy()
    g.loc[50:, ["r", "q", "t"]] *= 1000.0  # change val and test rows only
    p2 = prepare(g, ["r", "q"], ["t"], lookback=5, horizon=1, test=20, val=10)
    assert p1.x_scaler.to_dict() == p2.x_scaler.to_dict()
    assert p1.y_scaler.to_dict() == p2.y_scaler.to_dict()
    np.testing.assert_array_equal(p1.train.X, p2.train.X)
    np.testing.assert_array_equal(p1.train.Y, p2.train.Y)
    train = f.iloc[:50]
    np.testing.assert_allclose(p1.x_scaler.mean, train[["r", "q"]].mean().to_numpy())
    np.testing.assert_allclose(p1.y_scaler.std, train["t"].std(ddof=0))


def test_too_short_series():
    f = load_frame("gas-furnace").iloc[:105]
    with pytest.raises(LstmkitError) as err:
        prepare(f, ["GR", "CO2"], ["CO2"], lookback=10, horizon=1, test=100)
    assert str(err.value) == (
        "Data: expected at least 111 rows for lookback 10 + horizon 1 with test=100, val=0 "
        "(each non-empty split needs 11 rows), got 105 rows"
    )
    with pytest.raises(LstmkitError, match=r"at least 131 rows .* got 125 rows$"):
        prepare(load_frame("gas-furnace").iloc[:125], ["GR"], ["CO2"], 10, 1, test=100, val=20)
    with pytest.raises(
        LstmkitError,
        match=r"^Data: expected a test split of at least 11 rows "
        r"\(lookback 10 \+ horizon 1\), got 5$",
    ):
        prepare(load_frame("gas-furnace"), ["GR"], ["CO2"], 10, 1, test=5)
    with pytest.raises(LstmkitError, match=r"^Data: expected a val split of 0 or at least 11 "):
        prepare(load_frame("gas-furnace"), ["GR"], ["CO2"], 10, 1, test=100, val=3)
    with pytest.raises(LstmkitError, match=r"at least 53 rows .* test=0.2, val=0 .* got 30 rows$"):
        prepare(ramp_frame(30), ["r"], ["t"], 10, 1, test=0.2)


def test_prepare_column_errors():
    with pytest.raises(LstmkitError, match=r"^Data: expected at least one feature column"):
        prepare(ramp_frame(30), [], ["t"], 3, 1, test=5)
    with pytest.raises(LstmkitError, match=r"^Data: expected target column present in the data"):
        prepare(ramp_frame(30), ["r"], ["CO2"], 3, 1, test=5)


def test_prepare_scaler_errors_name_the_column():
    f = ramp_frame(40).assign(flat=1.0)
    with pytest.raises(LstmkitError, match=r"non-zero variance in column 'flat'"):
        prepare(f, ["r", "flat"], ["t"], 3, 1, test=10)
    f = ramp_frame(40)
    with pytest.raises(
        LstmkitError,
        match=r"positive values in column 'r' for log scaling, "
        r"got 0 at row 0$",
    ):
        prepare(f, ["r"], ["t"], 3, 1, test=10, scaler="log")
    g = ramp_frame(40) + 1.0
    g.loc[35, "t"] = -5.0  # a test row
    with pytest.raises(LstmkitError, match=r"column 't' for log scaling, got -5 at row 35$"):
        prepare(g, ["r"], ["t"], 3, 1, test=10, scaler="log")


def test_log_scaling_fibonacci():
    p = prepare(load_frame("fibonacci:n=40"), ["fib"], ["fib"], 3, 1, test=10, scaler="log")
    assert np.abs(p.train.Y).max() < 3  # log makes the exponential series tame
    np.testing.assert_allclose(p.y_scaler.inverse_transform(p.test.Y[-1]), [[102334155.0]])


# --------------------------------------------------------------------------- gas furnace


def naive_mse(frame: pd.DataFrame):
    p = prepare(frame, ["GR", "CO2"], ["GR", "CO2"], lookback=10, horizon=1, test=100)
    pred = p.test.H[:, -1:, :]  # last value of the lookback window, (M, 1, D)
    return len(p.test), ((pred - p.test.Y) ** 2).mean(axis=(0, 1)), p


def test_gas_furnace_naive_baseline():
    m, per_column, p = naive_mse(load_frame("gas-furnace"))
    assert m == 90
    assert p.bounds[0] == slice(0, 196)
    assert p.test.start[0] == 206 and p.test.start[-1] == 295
    np.testing.assert_allclose(per_column, [0.0685, 0.0606], atol=5e-5)
    assert round(float(per_column.mean()), 4) == 0.0646


def test_gas_furnace_naive_baseline_matches_course_file():
    ours = naive_mse(load_frame("gas-furnace"))[1]
    course = naive_mse(pd.read_csv(COURSE_FILE))[1]
    np.testing.assert_array_equal(ours, course)


# --------------------------------------------------------------------------- new data


def test_window_all_and_last_window():
    f = ramp_frame(50)
    p = prepare(f, ["r", "q"], ["t"], lookback=4, horizon=2, test=10)
    w = window_all(f, ["r", "q"], ["t"], p.x_scaler, p.y_scaler, 4, 2)
    assert len(w) == 50 - 4 - 2 + 1 and w.start[0] == 4 and w.start[-1] == 48
    np.testing.assert_array_equal(w.X[-len(p.test) :], p.test.X)
    np.testing.assert_array_equal(w.Y[: len(p.train)], p.train.Y)
    X, H = last_window(f, ["r", "q"], ["t"], p.x_scaler, p.y_scaler, 4)
    assert X.shape == (1, 4, 2) and H.shape == (1, 4, 1)
    np.testing.assert_allclose(p.x_scaler.inverse_transform(X)[0, :, 0], [46, 47, 48, 49])
    np.testing.assert_allclose(p.y_scaler.inverse_transform(H)[0, :, 0], [146, 147, 148, 149])
    with pytest.raises(
        LstmkitError,
        match=r"^Data: expected at least 6 rows \(lookback 4 \+ "
        r"horizon 2\), got 5 rows$",
    ):
        window_all(f.iloc[:5], ["r", "q"], ["t"], p.x_scaler, p.y_scaler, 4, 2)
    with pytest.raises(LstmkitError, match=r"^Data: expected at least 4 rows"):
        last_window(f.iloc[:3], ["r", "q"], ["t"], p.x_scaler, p.y_scaler, 4)
