"""lstmkit.forecast.data.scaling: scalers, their errors and (de)serialisation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstmkit.core.errors import LstmkitError
from lstmkit.forecast.data import SCALER_KINDS, make_scaler, scaler_from_dict

RNG = np.random.default_rng(0)
A = np.exp(RNG.normal(size=(50, 3)))  # positive, so every kind can fit it
COLS = ["a", "b", "c"]


@pytest.mark.parametrize("kind", SCALER_KINDS)
def test_round_trip(kind):
    s = make_scaler(kind).fit(A, columns=COLS)
    z = s.transform(A)
    assert z.shape == A.shape and z.dtype == np.float64
    np.testing.assert_allclose(s.inverse_transform(z), A, rtol=1e-12)
    # works on any (..., D) array, e.g. windows (M, K, D)
    w = A[:48].reshape(8, 6, 3)
    np.testing.assert_allclose(s.transform(w), z[:48].reshape(8, 6, 3))


@pytest.mark.parametrize("kind", SCALER_KINDS)
def test_dict_round_trip(kind):
    s = make_scaler(kind).fit(A, columns=COLS)
    d = json.loads(json.dumps(s.to_dict()))
    assert d["kind"] == kind and d["columns"] == COLS
    s2 = scaler_from_dict(d)
    assert type(s2) is type(s)
    np.testing.assert_array_equal(s2.transform(A), s.transform(A))
    np.testing.assert_array_equal(s2.inverse_transform(A), s.inverse_transform(A))


def test_statistics():
    z = make_scaler("standard").fit(A, COLS).transform(A)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(0), 1)
    z = make_scaler("minmax").fit(A, COLS).transform(A)
    np.testing.assert_allclose(z.min(0), 0, atol=1e-15)
    np.testing.assert_allclose(z.max(0), 1)
    z = make_scaler("log").fit(A, COLS).transform(A)
    np.testing.assert_allclose(z, (np.log(A) - np.log(A).mean(0)) / np.log(A).std(0))
    np.testing.assert_array_equal(make_scaler("none").fit(A, COLS).transform(A), A)
    assert make_scaler().kind == "standard"
    assert make_scaler(None).kind == "none"


def test_zero_variance_standard():
    a = np.column_stack([np.arange(5.0), np.full(5, 3.0)])
    with pytest.raises(LstmkitError) as err:
        make_scaler("standard").fit(a, columns=["GR", "flat"])
    msg = str(err.value)
    assert msg.startswith("Scaling: expected non-zero variance in column 'flat' ")
    assert "got a constant column (value 3)" in msg


def test_zero_range_minmax():
    a = np.column_stack([np.full(5, -1.0), np.arange(5.0)])
    with pytest.raises(LstmkitError, match=r"^Scaling: expected a non-zero range in column 'k'"):
        make_scaler("minmax").fit(a, columns=["k", "m"])


def test_log_non_positive():
    a = np.column_stack([np.arange(1.0, 6.0), [1.0, 2.0, 0.0, -1.0, 3.0]])
    with pytest.raises(LstmkitError) as err:
        make_scaler("log").fit(a, columns=["x", "fib"])
    assert str(err.value) == (
        "Scaling: expected positive values in column 'fib' for log scaling, got 0 at row 2"
    )
    s = make_scaler("log").fit(A, COLS)
    bad = A.copy()
    bad[7, 1] = -2.0
    with pytest.raises(LstmkitError, match=r"column 'b' for log scaling, got -2 at row 7$"):
        s.transform(bad)


def test_misuse_errors():
    with pytest.raises(
        LstmkitError,
        match=r"^Scaling: expected scaler standard, minmax, log or "
        r"none, got 'robust'$",
    ):
        make_scaler("robust")
    with pytest.raises(LstmkitError, match=r"^Scaling: expected a fitted standard scaler"):
        make_scaler("standard").transform(A)
    s = make_scaler("standard").fit(A, COLS)
    with pytest.raises(
        LstmkitError,
        match=r"3 columns \(a, b, c\) in the last axis, "
        r"got shape \(4, 2\)$",
    ):
        s.transform(np.zeros((4, 2)))
    with pytest.raises(LstmkitError, match=r"^Scaling: expected finite values in column 'b'"):
        make_scaler("standard").fit(np.array([[1.0, np.nan, 1.0], [2.0, 1.0, 3.0]]), COLS)
    with pytest.raises(LstmkitError, match=r"^Scaling: expected a scaler dict with kind"):
        scaler_from_dict({"kind": "zzz"})
    d = make_scaler("standard").fit(A, COLS).to_dict()
    d["std"] = d["std"][:2]
    with pytest.raises(LstmkitError, match=r"'std' of length 3"):
        scaler_from_dict(d)
    del d["std"]
    with pytest.raises(LstmkitError, match=r"^Scaling: expected a complete standard scaler dict"):
        scaler_from_dict(d)


def test_default_column_names():
    s = make_scaler("standard").fit(A)
    assert s.columns == ["c0", "c1", "c2"]
    assert scaler_from_dict(make_scaler("minmax").to_dict()).fitted is False
