"""Training windows drawn on the fly from a panel, and their normalisation.

The panel's series are concatenated into flat arrays (target, covariates) with one offset per
series, so a window is an index computation, ``offset + cut + arange(-L, K)``: memory stays
one copy of the data however many windows are drawn (100k series included).

Each window is normalised by its own input, so no statistic ever crosses from the future
into the past (no scaler to leak test points):

* ``log``: ``z_t = log y_t - log y_last`` (inputs and targets; a level-ratio target in logs,
  as ES-RNN's); the forecast is ``y_last · exp(z)``;
* ``window``: ``z_t = (y_t - y_last) / s`` with ``s`` the input's mean absolute change;
  the forecast is ``y_last + s · z``.

Covariates are standardised with the training rows' mean and standard deviation
(:class:`CovariateScaler`, saved with the model).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstmkit.core.errors import expected

EPS = 1e-8


# ---------------------------------------------------------------------- normalisation
def normalize(win: np.ndarray, L: int, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``win`` (B, L[+K]) raw values -> (z (B, L[+K]), last (B,), scale (B,))."""
    last = win[:, L - 1]
    if kind == "log":
        return np.log(win) - np.log(last)[:, None], last, np.ones_like(last)
    scale = np.abs(np.diff(win[:, :L], axis=1)).mean(axis=1) if L > 1 else np.abs(last)
    scale = np.where(scale > EPS, scale, 1.0)
    return (win - last[:, None]) / scale[:, None], last, scale


def denormalize(z: np.ndarray, last: np.ndarray, scale: np.ndarray, kind: str) -> np.ndarray:
    """Inverse of :func:`normalize` for forecasts ``z`` (B, K)."""
    if kind == "log":
        return last[:, None] * np.exp(z)
    return last[:, None] + scale[:, None] * z


def resolve_kind(kind: str, y: list[np.ndarray]) -> str:
    """``auto`` -> ``log`` when every training value is positive, else ``window``."""
    positive = all(bool((v > 0).all()) for v in y)
    if kind == "log" and not positive:
        raise expected("Panel", "positive target values for normalize=log",
                       "zero or negative values (use normalize=window)")
    if kind == "auto":
        return "log" if positive else "window"
    return kind


@dataclass
class CovariateScaler:
    """Per-column mean and standard deviation of the training rows."""

    mean: list
    std: list

    @classmethod
    def fit(cls, rows: np.ndarray) -> CovariateScaler:
        if rows.shape[1] == 0 or rows.shape[0] == 0:
            return cls([0.0] * rows.shape[1], [1.0] * rows.shape[1])
        std = rows.std(axis=0)
        return cls(rows.mean(axis=0).tolist(), np.where(std > EPS, std, 1.0).tolist())

    def __call__(self, a: np.ndarray) -> np.ndarray:
        return (a - np.asarray(self.mean)) / np.asarray(self.std)


# ---------------------------------------------------------------------- flat arrays
@dataclass
class Flat:
    """Every series one after another: ``y`` (N,), ``hist`` (N, Fh), ``futr`` (N, Ff) with
    the calendar features, ``offsets`` (S,) and ``lengths`` (S,)."""

    y: np.ndarray
    hist: np.ndarray
    futr: np.ndarray
    offsets: np.ndarray
    lengths: np.ndarray

    @classmethod
    def of(cls, y: list, hist: list, futr: list) -> Flat:
        lengths = np.array([len(v) for v in y], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        return cls(np.concatenate(y), np.concatenate(hist), np.concatenate(futr), offsets,
                   lengths)

    def gather(self, series: np.ndarray, cut: np.ndarray, L: int, K: int):
        """Windows of ``series`` whose input ends just before ``cut`` (per-series position):
        (y (B, L+K), hist (B, L, Fh), futr (B, L+K, Ff))."""
        idx = (self.offsets[series] + cut)[:, None] + np.arange(-L, K)[None]  # (B, L+K)
        return self.y[idx], self.hist[idx[:, :L]], self.futr[idx]


class WindowSampler:
    """Draws mini-batches of windows: a series uniformly, then a cut-off uniformly among its
    valid ones (input and target inside the series' training rows; with ``max_windows``,
    among the last ``max_windows`` only)."""

    def __init__(self, flat: Flat, L: int, K: int, max_windows: int | None, seed: int):
        self.flat, self.L, self.K = flat, L, K
        self.hi = flat.lengths - K  # last cut-off (exclusive input end), per series
        self.lo = np.full_like(self.hi, L)
        if max_windows is not None:
            self.lo = np.maximum(self.lo, self.hi - max_windows + 1)
        self.rng = np.random.default_rng(seed)

    def count(self) -> int:
        """How many distinct windows can be drawn."""
        return int(np.maximum(self.hi - self.lo + 1, 0).sum())

    def draw(self, batch: int):
        series = self.rng.integers(0, len(self.hi), batch)
        cut = self.rng.integers(self.lo[series], self.hi[series] + 1)
        return series, self.flat.gather(series, cut, self.L, self.K)
