"""Chronological splits, sliding windows and :func:`prepare`.

Shapes (``L`` lookback, ``K`` horizon, ``F`` features, ``D`` targets, ``M`` windows)::

    X      (M, L, F)  inputs over the lookback window
    Y      (M, K, D)  targets over the horizon that follows it
    H      (M, L, D)  target history over the lookback window (for naive baselines)
    start  (M,)       row of the first target row

Window ``j`` starts at row ``s = j * stride``: inputs are rows ``s .. s+L-1`` and targets
rows ``s+L .. s+L+K-1``. The rows are split chronologically into train | val | test and
each split is windowed on its own rows only, so no window crosses a split boundary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from lstmkit.core.errors import expected, shape_str
from lstmkit.core.validate import positive_int
from lstmkit.forecast.data.io import load_frame, select_columns
from lstmkit.forecast.data.scaling import Scaler, make_scaler

__all__ = [
    "Prepared",
    "Windows",
    "last_window",
    "make_windows",
    "min_rows",
    "prepare",
    "split_bounds",
    "window_all",
]


@dataclass
class Windows:
    """Windows of one split: ``X`` (M, L, F), ``Y`` (M, K, D), ``H`` (M, L, D) scaled,
    float64; ``start`` (M,) int64 row index (into the full frame) of the first target row."""

    X: np.ndarray
    Y: np.ndarray
    H: np.ndarray
    start: np.ndarray

    def __len__(self) -> int:
        return int(self.X.shape[0])


@dataclass
class Prepared:
    """Result of :func:`prepare`. ``val``/``test`` are ``None`` when the split has 0 rows.

    ``x_scaler``/``y_scaler`` were fitted on the training rows only; ``bounds`` holds the
    (train, val, test) row slices of the frame.
    """

    features: list[str]
    targets: list[str]
    x_scaler: Scaler
    y_scaler: Scaler
    train: Windows
    val: Windows | None
    test: Windows | None
    bounds: tuple[slice, slice, slice]
    lookback: int
    horizon: int
    stride: int = 1


# --------------------------------------------------------------------------- validation


def _positive_int(name: str, value) -> int:
    return positive_int("Data", name, value)


def _split_count(name: str, value, n_rows: int, allow_zero: bool) -> int:
    """Rows of a split given as an int count or a float fraction in (0, 1)."""
    what = f"{name} as a row count (int >= {0 if allow_zero else 1}) or a fraction in (0, 1)"
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise expected("Data", what, repr(value)) from None
    if isinstance(value, bool):
        raise expected("Data", what, repr(value))
    if isinstance(value, (int, np.integer)):
        if value < (0 if allow_zero else 1):
            raise expected("Data", what, repr(value))
        return int(value)
    if isinstance(value, (float, np.floating)):
        if allow_zero and value == 0:
            return 0
        if not 0 < value < 1:
            raise expected("Data", what, repr(value))
        return int(math.floor(value * n_rows + 0.5))
    raise expected("Data", what, repr(value))


def _counts(n_rows: int, test, val) -> tuple[int, int]:
    return _split_count("test", test, n_rows, True), _split_count("val", val, n_rows, True)


def split_bounds(n_rows: int, test, val=0) -> tuple[slice, slice, slice]:
    """Chronological ``(train, val, test)`` row slices of a series of ``n_rows`` rows.

    ``test`` and ``val`` are row counts (int) or fractions in (0, 1) of the whole series
    (rounded half up); ``test=0`` (a production fit: every row is learned from) and
    ``val=0`` give empty splits, a fraction that rounds to 0 rows is refused. Test rows are
    the last ones, val rows precede them. At least one training row must remain.
    """
    n_rows = _positive_int("n_rows", n_rows)
    n_test, n_val = _counts(n_rows, test, val)
    if n_test == 0 and test != 0:
        raise expected("Data", "test to give at least 1 row", f"{test!r} of {n_rows} rows = 0")
    n_train = n_rows - n_test - n_val
    if n_train < 1:
        raise expected(
            "Data",
            f"fewer test + val rows than the {n_rows} rows of the series",
            f"{n_test} + {n_val}",
        )
    return slice(0, n_train), slice(n_train, n_train + n_val), slice(n_train + n_val, n_rows)


def min_rows(test, val, lookback: int, horizon: int) -> int | None:
    """Fewest rows for which every non-empty split holds ``lookback + horizon`` rows.

    ``None`` when no length works (e.g. an int ``test`` below ``lookback + horizon``, or
    fractions summing to 1 or more).
    """
    need = lookback + horizon
    want_val = _split_count("val", val, 10**12, True) > 0  # was any val asked for?
    fractions = [v for v in (test, val) if isinstance(v, (float, np.floating)) and v > 0]
    if sum(fractions) >= 1:
        return None
    start = need * (2 + want_val)
    for f in fractions:
        start = max(start, math.ceil((need - 0.5) / f) - 2)
    if not fractions:
        n_test, n_val = _counts(start, test, val)
        ok = (n_test == 0 or n_test >= need) and (n_val == 0 or n_val >= need)
        return need + n_test + n_val if ok else None
    for n in range(max(start, 1), max(start, 1) + 1_000_000):
        n_test, n_val = _counts(n, test, val)
        if (test == 0 or n_test >= need) and (not want_val or n_val >= need) \
                and n - n_test - n_val >= need:
            return n
    return None


# --------------------------------------------------------------------------- windowing


def _as_2d(a, name: str) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise expected("Data", f"{name} as an (N, C) array", f"shape {shape_str(a.shape)}")
    return a


def make_windows(x, y, lookback: int, horizon: int, stride: int = 1):
    """Sliding windows over one contiguous block of rows (vectorised, no loop).

    Parameters
    ----------
    x : (N, F) inputs;  y : (N, D) targets (1-d arrays are taken as one column).

    Returns
    -------
    X (M, L, F), Y (M, K, D), H (M, L, D), start (M,) -- ``start`` indexes the first
    target row within ``x``/``y``; ``M = (N - L - K) // stride + 1`` (0 if ``N < L + K``).
    """
    lookback = _positive_int("lookback", lookback)
    horizon = _positive_int("horizon", horizon)
    stride = _positive_int("stride", stride)
    x, y = _as_2d(x, "x"), _as_2d(y, "y")
    if x.shape[0] != y.shape[0]:
        raise expected(
            "Data",
            "x (N, F) and y (N, D) with the same N",
            f"shapes {shape_str(x.shape)} and {shape_str(y.shape)}",
        )
    n, L, K = x.shape[0], lookback, horizon
    if n < L + K:
        empty = np.empty((0, L, x.shape[1])), np.empty((0, K, y.shape[1]))
        return empty[0], empty[1], np.empty((0, L, y.shape[1])), np.empty(0, dtype=np.int64)
    last = n - L - K  # start of the last possible window
    # sliding_window_view(a, w, axis=0): (N - w + 1, C, w) -> transpose to (., w, C)
    X = sliding_window_view(x, L, axis=0)[0 : last + 1 : stride].transpose(0, 2, 1)
    H = sliding_window_view(y, L, axis=0)[0 : last + 1 : stride].transpose(0, 2, 1)
    Y = sliding_window_view(y, K, axis=0)[L : last + L + 1 : stride].transpose(0, 2, 1)
    start = np.arange(0, last + 1, stride, dtype=np.int64) + L
    return X.copy(), Y.copy(), H.copy(), start  # C-ordered, writable copies


def _windows(xs: np.ndarray, ys: np.ndarray, rows: slice, L: int, K: int, stride: int):
    X, Y, H, start = make_windows(xs[rows], ys[rows], L, K, stride)
    return Windows(X, Y, H, start + rows.start)


# --------------------------------------------------------------------------- prepare


def prepare(
    frame,
    features,
    targets,
    lookback: int,
    horizon: int,
    test,
    val=0,
    scaler: str = "standard",
    stride: int = 1,
) -> Prepared:
    """Select columns, split chronologically, fit scalers on train rows, window each split.

    Parameters
    ----------
    frame : DataFrame (or anything :func:`~lstmkit.forecast.data.load_frame` accepts)
    features, targets : column names (a str is one column); may overlap
    lookback, horizon, stride : positive ints
    test, val : row counts or fractions in (0, 1) of the whole series; either may be 0
    scaler : ``standard`` | ``minmax`` | ``log`` | ``none``, for inputs and targets alike

    Every non-empty split needs at least ``lookback + horizon`` rows; a shorter series is
    refused with the minimum number of rows it would need.
    """
    L = _positive_int("lookback", lookback)
    K = _positive_int("horizon", horizon)
    stride = _positive_int("stride", stride)
    if not isinstance(frame, pd.DataFrame):
        frame = load_frame(frame)
    features = [features] if isinstance(features, str) else list(features or [])
    targets = [targets] if isinstance(targets, str) else list(targets or [])
    x = select_columns(frame, features, "feature")  # (N, F)
    y = select_columns(frame, targets, "target")  # (N, D)
    n = x.shape[0]
    need = L + K
    n_test, n_val = _counts(n, test, val)
    n_train = n - n_test - n_val
    want_val = _split_count("val", val, 10**12, True) > 0
    if (test != 0 and n_test < need) or (want_val and n_val < need) or n_train < need:
        if isinstance(test, (int, np.integer)) and 0 < n_test < need:
            raise expected(
                "Data",
                f"a test split of at least {need} rows (lookback {L} + horizon {K})",
                n_test,
            )
        if isinstance(val, (int, np.integer)) and 0 < n_val < need:
            raise expected(
                "Data",
                f"a val split of 0 or at least {need} rows (lookback {L} + horizon {K})",
                n_val,
            )
        m = min_rows(test, val, L, K)
        least = f"at least {m} rows" if m is not None else "more rows"
        raise expected(
            "Data",
            f"{least} for lookback {L} + horizon {K} with test={test!r}, val={val!r} "
            f"(each non-empty split needs {need} rows)",
            f"{n} rows",
        )
    bounds = split_bounds(n, test, val)
    train_rows = bounds[0]
    x_scaler = make_scaler(scaler).fit(x[train_rows], columns=features)
    y_scaler = make_scaler(scaler).fit(y[train_rows], columns=targets)
    xs, ys = x_scaler.transform(x), y_scaler.transform(y)  # (N, F), (N, D)
    splits = [_windows(xs, ys, b, L, K, stride) if b.stop > b.start else None for b in bounds]
    return Prepared(
        features=[str(c) for c in features],
        targets=[str(c) for c in targets],
        x_scaler=x_scaler,
        y_scaler=y_scaler,
        train=splits[0],
        val=splits[1],
        test=splits[2],
        bounds=bounds,
        lookback=L,
        horizon=K,
        stride=stride,
    )


def _scaled(frame, features, targets, x_scaler: Scaler, y_scaler: Scaler):
    if not isinstance(frame, pd.DataFrame):
        frame = load_frame(frame)
    x = x_scaler.transform(select_columns(frame, features, "feature"))  # (N, F)
    y = y_scaler.transform(select_columns(frame, targets, "target"))  # (N, D)
    return x, y


def window_all(
    frame,
    features,
    targets,
    x_scaler: Scaler,
    y_scaler: Scaler,
    lookback: int,
    horizon: int,
    stride: int = 1,
) -> Windows:
    """Window a whole (new) frame with already-fitted scalers (for predict/evaluate)."""
    L = _positive_int("lookback", lookback)
    K = _positive_int("horizon", horizon)
    stride = _positive_int("stride", stride)
    xs, ys = _scaled(frame, features, targets, x_scaler, y_scaler)
    if xs.shape[0] < L + K:
        raise expected(
            "Data", f"at least {L + K} rows (lookback {L} + horizon {K})", f"{xs.shape[0]} rows"
        )
    return _windows(xs, ys, slice(0, xs.shape[0]), L, K, stride)


def scaled_rows(frame, features, targets, x_scaler: Scaler, y_scaler: Scaler, lookback: int):
    """Every row, scaled: ``xs`` (N, F) and ``ys`` (N, D), N at least ``lookback``."""
    L = _positive_int("lookback", lookback)
    xs, ys = _scaled(frame, features, targets, x_scaler, y_scaler)
    if xs.shape[0] < L:
        raise expected("Data", f"at least {L} rows (the lookback)", f"{xs.shape[0]} rows")
    return xs, ys


def last_window(frame, features, targets, x_scaler: Scaler, y_scaler: Scaler, lookback: int):
    """The last ``lookback`` rows, scaled: ``X`` (1, L, F) and ``H`` (1, L, D), for
    forecasting the ``horizon`` rows after the end of the data."""
    L = _positive_int("lookback", lookback)
    xs, ys = _scaled(frame, features, targets, x_scaler, y_scaler)
    if xs.shape[0] < L:
        raise expected("Data", f"at least {L} rows (the lookback)", f"{xs.shape[0]} rows")
    return xs[None, -L:].copy(), ys[None, -L:].copy()
