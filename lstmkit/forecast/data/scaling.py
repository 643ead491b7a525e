"""Column-wise scalers, fitted on the training rows only.

=============  ==========================================================================
kind           transform of a column ``a``
=============  ==========================================================================
``standard``   ``(a - mean) / std`` (population std, ddof=0) -- the default
``minmax``     ``(a - min) / (max - min)``: training rows map onto [0, 1]
``log``        ``(log(a) - mean) / std`` with mean/std of ``log(a)`` over the training
               rows: for exponentially growing, positive series such as Fibonacci
``none``       identity
=============  ==========================================================================

Every scaler works on the last axis: ``fit`` takes ``(N, D)``; ``transform`` and
``inverse_transform`` take any ``(..., D)`` array (e.g. windows ``(M, K, D)``) and
return float64. ``to_dict()`` is JSON-serialisable; :func:`scaler_from_dict` rebuilds it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lstmkit.core.errors import LstmkitError, expected, shape_str

__all__ = [
    "SCALER_KINDS",
    "LogScaler",
    "MinMaxScaler",
    "NoScaler",
    "Scaler",
    "StandardScaler",
    "make_scaler",
    "scaler_from_dict",
]

from lstmkit.forecast.config import SCALER_KINDS  # noqa: E402  (declared with the options)

LARGEST = 1e150  # the square of larger values overflows float64 (the variance, the MSE)


class Scaler:
    """Base class: column bookkeeping, shape checks and (de)serialisation."""

    kind = "base"
    _stats: tuple[str, ...] = ()  # names of the fitted (D,) arrays

    def __init__(self) -> None:
        self.columns: list[str] | None = None

    # -- public API ---------------------------------------------------------------------
    @property
    def fitted(self) -> bool:
        return self.columns is not None

    def fit(self, a, columns: Sequence[str] | None = None) -> Scaler:
        """Fit on ``a`` (N, D) -- the training rows. ``columns`` name the D columns in
        messages (default ``c0, c1, ...``). Returns ``self``."""
        a = np.asarray(a, dtype=np.float64)
        if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
            raise expected("Scaling", "a non-empty (N, D) array to fit", shape_str(a.shape))
        names = [f"c{j}" for j in range(a.shape[1])] if columns is None else list(columns)
        if len(names) != a.shape[1]:
            raise expected(
                "Scaling", f"{a.shape[1]} column names for shape {shape_str(a.shape)}", len(names)
            )
        if not np.isfinite(a).all():
            row, col = np.argwhere(~np.isfinite(a))[0]
            raise expected("Scaling", f"finite values in column '{names[col]}'", f"row {row}")
        big = np.flatnonzero(np.abs(a).max(axis=0) > LARGEST)
        if big.size:  # their mean and variance overflow float64
            j = int(big[0])
            raise expected("Scaling", f"values of magnitude at most {LARGEST:.0e} in column "
                           f"'{names[j]}' (rescale it, e.g. to other units)",
                           f"{float(np.abs(a[:, j]).max()):.3g}")
        self._fit(a, names)
        self.columns = [str(c) for c in names]
        return self

    def transform(self, a) -> np.ndarray:
        """Scale ``a`` (..., D) -> (..., D) float64."""
        return self._transform(self._check(a))

    def inverse_transform(self, a) -> np.ndarray:
        """Undo :meth:`transform`: (..., D) -> (..., D) float64 in original units."""
        return self._inverse(self._check(a))

    def to_dict(self) -> dict:
        """``{"kind": ..., "columns": [...], <stat>: [floats], ...}`` (JSON-serialisable)."""
        columns = None if self.columns is None else list(self.columns)
        d: dict = {"kind": self.kind, "columns": columns}
        for name in self._stats:
            value = getattr(self, name, None)
            d[name] = None if value is None else [float(v) for v in value]
        return d

    def __repr__(self) -> str:
        cols = "unfitted" if self.columns is None else ", ".join(self.columns)
        return f"{type(self).__name__}({cols})"

    # -- helpers ------------------------------------------------------------------------
    def _check(self, a) -> np.ndarray:
        if self.columns is None:
            raise expected("Scaling", f"a fitted {self.kind} scaler", "an unfitted one")
        a = np.asarray(a, dtype=np.float64)
        if a.ndim == 0 or a.shape[-1] != len(self.columns):
            raise expected(
                "Scaling",
                f"arrays with {len(self.columns)} columns ({', '.join(self.columns)}) "
                "in the last axis",
                f"shape {shape_str(a.shape)}",
            )
        return a

    def _fit(self, a: np.ndarray, names: list[str]) -> None:
        raise NotImplementedError

    def _transform(self, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _inverse(self, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def _check_spread(spread: np.ndarray, center: np.ndarray, names, what: str, kind: str) -> None:
    """Refuse a (near-)zero std or range, naming the first such column."""
    tiny = 1e-12 * np.maximum(1.0, np.abs(center))
    bad = np.flatnonzero(~(spread > tiny))
    if bad.size:
        j = int(bad[0])
        raise expected(
            "Scaling",
            f"{what} in column '{names[j]}' of the training rows for {kind} scaling",
            f"a constant column (value {center[j]:.6g}); drop the column or use --scaler none",
        )


class StandardScaler(Scaler):
    """``(a - mean) / std`` with the training mean and population std of each column."""

    kind = "standard"
    _stats = ("mean", "std")

    def _fit(self, a, names):
        mean, std = a.mean(axis=0), a.std(axis=0)  # (D,)
        _check_spread(std, mean, names, "non-zero variance", self.kind)
        self.mean, self.std = mean, std

    def _transform(self, a):
        return (a - self.mean) / self.std

    def _inverse(self, a):
        return a * self.std + self.mean


class MinMaxScaler(Scaler):
    """``(a - min) / (max - min)`` with the training min and max of each column."""

    kind = "minmax"
    _stats = ("min", "max")

    def _fit(self, a, names):
        lo, hi = a.min(axis=0), a.max(axis=0)  # (D,)
        _check_spread(hi - lo, lo, names, "a non-zero range", self.kind)
        self.min, self.max = lo, hi

    def _transform(self, a):
        return (a - self.min) / (self.max - self.min)

    def _inverse(self, a):
        return a * (self.max - self.min) + self.min


class LogScaler(Scaler):
    """Natural log, then standardisation with the mean/std of ``log(a)`` on training rows.

    Meant for positive series that grow exponentially (Fibonacci): the log makes them
    linear. Every value must be > 0, in training rows and in whatever is transformed later.
    """

    kind = "log"
    _stats = ("mean", "std")

    def _log(self, a: np.ndarray, names) -> np.ndarray:
        bad = np.argwhere(~(a > 0))  # (n_bad, ndim)
        if bad.size:
            idx = tuple(int(i) for i in bad[0])
            row = idx[0] if a.ndim == 2 else idx[:-1]
            raise expected(
                "Scaling",
                f"positive values in column '{names[idx[-1]]}' for log scaling",
                f"{a[idx]:.6g} at row {row}",
            )
        return np.log(a)

    def _fit(self, a, names):
        la = self._log(a, names)
        mean, std = la.mean(axis=0), la.std(axis=0)
        _check_spread(std, mean, names, "non-zero variance of log values", self.kind)
        self.mean, self.std = mean, std

    def _transform(self, a):
        return (self._log(a, self.columns) - self.mean) / self.std

    def _inverse(self, a):
        return np.exp(a * self.std + self.mean)


class NoScaler(Scaler):
    """Identity (``kind="none"``)."""

    kind = "none"

    def _fit(self, a, names):
        pass

    def _transform(self, a):
        return a.copy()

    def _inverse(self, a):
        return a.copy()


_CLASSES: dict[str, type[Scaler]] = {
    "standard": StandardScaler,
    "minmax": MinMaxScaler,
    "log": LogScaler,
    "none": NoScaler,
}


def make_scaler(kind: str | None = "standard") -> Scaler:
    """A new, unfitted scaler: ``"standard"`` (default), ``"minmax"``, ``"log"`` or
    ``"none"`` (``None`` is taken as ``"none"``)."""
    kind = "none" if kind is None else kind
    if not isinstance(kind, str) or kind.lower() not in _CLASSES:
        raise expected("Scaling", "scaler standard, minmax, log or none", repr(kind))
    return _CLASSES[kind.lower()]()


def scaler_from_dict(d: dict) -> Scaler:
    """Rebuild a scaler from :meth:`Scaler.to_dict` output."""
    if not isinstance(d, dict) or d.get("kind") not in _CLASSES:
        got = repr(d.get("kind")) if isinstance(d, dict) else type(d).__name__
        raise expected("Scaling", "a scaler dict with kind standard, minmax, log or none", got)
    scaler = _CLASSES[d["kind"]]()
    columns = d.get("columns")
    if columns is None:
        return scaler
    try:
        scaler.columns = [str(c) for c in columns]
        for name in scaler._stats:
            value = np.asarray(d[name], dtype=np.float64)
            if value.shape != (len(scaler.columns),):
                raise expected(
                    "Scaling",
                    f"'{name}' of length {len(scaler.columns)} in the {d['kind']} scaler dict",
                    f"shape {shape_str(value.shape)}",
                )
            setattr(scaler, name, value)
    except LstmkitError:
        raise
    except (KeyError, TypeError, ValueError) as err:
        raise expected(
            "Scaling", f"a complete {d['kind']} scaler dict", f"a bad entry ({err})"
        ) from None
    return scaler


def affine(scaler: Scaler) -> tuple[bool, np.ndarray, np.ndarray]:
    """``scaler`` as ``(log first?, shift (D,), scale (D,))``: every kind is an affine map,
    after a log for ``"log"``, ``transform(a) = ((log a) - shift) / scale``. What the ONNX
    graph and the stream compute the scaling with."""
    kind = scaler.kind
    if kind in ("standard", "log"):
        shift, scale = scaler.mean, scaler.std
    elif kind == "minmax":
        shift, scale = scaler.min, scaler.max - scaler.min
    else:  # none
        n = len(scaler.columns)
        shift, scale = np.zeros(n), np.ones(n)
    return kind == "log", np.asarray(shift, np.float64), np.asarray(scale, np.float64)
