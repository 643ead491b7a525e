"""Window-level baseline forecasters.

Every baseline shares one interface on the windows of :func:`lstmkit.forecast.data.prepare`:

- ``fit(H, Y) -> self`` with ``H`` ``(M, L, D)`` target history windows and ``Y``
  ``(M, K, D)`` the targets that follow them (both in the same, usually scaled, units).
  ``fit`` learns the horizon ``K`` (attribute ``horizon``), the number of targets
  (``n_targets``) and the lookback (``lookback``).
- ``predict(H, horizon=None) -> (M, K, D)``. ``horizon=`` overrides the fitted ``K`` for the
  baselines without learned weights (naive, seasonal, mean); they can also predict unfitted
  when ``horizon=`` is given.

``H[:, -1]`` is the last observed value ``y_t``; ``Y[:, k-1]`` is ``y_{t+k}``.

Baselines:

``NaiveBaseline`` (``"naive"``)
    ``ŷ_{t+k} = y_t`` for every step.
``SeasonalNaiveBaseline(period)`` (``"seasonal"``)
    ``ŷ_{t+k} = y_{t+k-period·ceil(k/period)}``: the value one season back, repeated
    season after season. Needs ``period <= L``.
``MeanBaseline`` (``"mean"``)
    the mean of the history *window* per target (not the global training mean).
``LinearARBaseline(ridge=0.0)`` (``"linear"``)
    a linear autoregression fitted by least squares on the windows.
"""

from __future__ import annotations

import math

import numpy as np

from lstmkit.core.errors import LstmkitError, expected, shape_str
from lstmkit.core.validate import positive_int

__all__ = [
    "BASELINES",
    "LinearARBaseline",
    "MeanBaseline",
    "NaiveBaseline",
    "SeasonalNaiveBaseline",
    "WindowBaseline",
    "make_baseline",
]


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


class WindowBaseline:
    """Common validation for the window baselines (see the module docstring)."""

    #: Component name used in error messages.
    component = "Baseline"
    #: Whether ``predict(horizon=...)`` may differ from the fitted horizon.
    horizon_override = True

    def __init__(self) -> None:
        self.horizon: int | None = None
        self.n_targets: int | None = None
        self.lookback: int | None = None

    # -- validation ---------------------------------------------------------------

    @property
    def fitted(self) -> bool:
        return self.horizon is not None

    def _check_windows(self, a, name: str) -> np.ndarray:
        try:
            arr = np.asarray(a, dtype=np.float64)
        except (TypeError, ValueError):
            raise expected(self.component, f"{name} as a numeric array", type(a).__name__) from None
        if arr.ndim != 3:
            letters = "(M, L, D)" if name == "H" else "(M, K, D)"
            raise expected(self.component, f"{name} of shape {letters}", shape_str(arr.shape))
        if 0 in arr.shape:
            raise expected(self.component, f"a non-empty {name}", shape_str(arr.shape))
        if not np.isfinite(arr).all():
            raise expected(self.component, f"finite values in {name}", "NaN or inf")
        return arr

    def _check_fit(self, H, Y) -> tuple[np.ndarray, np.ndarray]:
        H = self._check_windows(H, "H")
        Y = self._check_windows(Y, "Y")
        if Y.shape[0] != H.shape[0] or Y.shape[2] != H.shape[2]:
            raise expected(
                self.component,
                f"Y (M, K, D) matching H {shape_str(H.shape)} in M and D",
                shape_str(Y.shape),
            )
        return H, Y

    def _check_predict(self, H, horizon) -> tuple[np.ndarray, int]:
        H = self._check_windows(H, "H")
        if horizon is not None:
            positive_int(self.component, "horizon", horizon)
            if not self.horizon_override and self.fitted and int(horizon) != self.horizon:
                raise expected(
                    self.component, f"horizon={self.horizon} (the fitted one)", int(horizon)
                )
        if not self.fitted:
            if horizon is None or not self.horizon_override:
                raise expected(self.component, "a fitted model", "an unfitted one")
        elif H.shape[2] != self.n_targets:
            raise expected(
                self.component, f"H with D={self.n_targets} targets (as at fit)", H.shape[2]
            )
        k = int(horizon) if horizon is not None else int(self.horizon)
        return H, k

    def _remember(self, H: np.ndarray, Y: np.ndarray) -> None:
        self.lookback = int(H.shape[1])
        self.horizon = int(Y.shape[1])
        self.n_targets = int(H.shape[2])

    # -- interface ----------------------------------------------------------------

    def fit(self, H, Y):
        """Learn the horizon ``K`` (and targets ``D``) from ``Y``; returns ``self``."""
        H, Y = self._check_fit(H, Y)
        self._remember(H, Y)
        return self

    def predict(self, H, horizon: int | None = None) -> np.ndarray:
        """Forecast ``(M, K, D)`` from history windows ``H`` ``(M, L, D)``."""
        H, k = self._check_predict(H, horizon)
        return self._predict(H, k)

    def _predict(self, H: np.ndarray, k: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class NaiveBaseline(WindowBaseline):
    """Persistence: repeats the last value of each target for all ``K`` steps."""

    component = "Naive"

    def _predict(self, H: np.ndarray, k: int) -> np.ndarray:
        return np.repeat(H[:, -1:, :], k, axis=1)


class SeasonalNaiveBaseline(WindowBaseline):
    """Seasonal naive: ``ŷ_{t+k} = y_{t+k-period·ceil(k/period)}``, read from ``H``.

    Step ``k`` takes the value at the same phase of the last observed season, so the
    forecast repeats the last ``period`` values of the window. ``period`` must be a
    positive integer no larger than the lookback ``L``. ``period=1`` is the naive forecast.
    """

    component = "SeasonalNaive"

    def __init__(self, period: int) -> None:
        super().__init__()
        positive_int(self.component, "period", period)
        self.period = int(period)

    def _check_period(self, lookback: int) -> None:
        if self.period > lookback:
            raise expected(self.component, f"period <= lookback={lookback}", self.period)

    def fit(self, H, Y):
        H, Y = self._check_fit(H, Y)
        self._check_period(H.shape[1])
        self._remember(H, Y)
        return self

    def _predict(self, H: np.ndarray, k: int) -> np.ndarray:
        L, p = H.shape[1], self.period
        self._check_period(L)
        steps = np.arange(1, k + 1)
        # position of y_{t+k-p*ceil(k/p)} in H, where H[:, L-1] is y_t
        idx = (L - 1) + steps - p * (-(-steps // p))
        return H[:, idx, :].copy()

    def __repr__(self) -> str:
        return f"SeasonalNaiveBaseline(period={self.period})"


class MeanBaseline(WindowBaseline):
    """The mean of the history window (per target), repeated for all ``K`` steps.

    This is the mean of each *window* ``H[m, :, d]``, i.e. a moving average over the
    lookback, not the global mean of the training series.
    """

    component = "Mean"

    def _predict(self, H: np.ndarray, k: int) -> np.ndarray:
        return np.repeat(H.mean(axis=1, keepdims=True), k, axis=1)


class LinearARBaseline(WindowBaseline):
    """Linear autoregression on the window, fitted by (ridge) least squares.

    For each target ``d`` and horizon step ``k`` it regresses ``Y[:, k, d]`` on the flattened
    history window ``H.reshape(M, L*D)`` (all targets; column ``l*D + j`` is time ``l`` of
    target ``j``) plus an intercept: a direct (not iterated) multi-step AR(L) model with
    cross-target terms. All ``K·D`` regressions share the design matrix and are solved
    together.

    - ``ridge=0``: ordinary least squares with :func:`numpy.linalg.lstsq` on centred data
      (the minimum-norm solution when the windows are collinear).
    - ``ridge>0``: solves ``(XcᵀXc + ridge·I) β = XcᵀYc`` on centred data, so the intercept
      is not penalised.

    After ``fit``: ``coef_`` ``(K, D, L*D)`` and ``intercept_`` ``(K, D)`` with
    ``ŷ[:, k, d] = H.reshape(M, -1) @ coef_[k, d] + intercept_[k, d]``. ``predict`` needs
    the fitted lookback, targets and horizon (no ``horizon=`` override).
    """

    component = "LinearAR"
    horizon_override = False

    def __init__(self, ridge: float = 0.0) -> None:
        super().__init__()
        try:
            r = float(ridge)
        except (TypeError, ValueError):
            raise expected(self.component, "ridge as a number >= 0", repr(ridge)) from None
        if not (math.isfinite(r) and r >= 0):
            raise expected(self.component, "ridge as a finite number >= 0", repr(ridge))
        self.ridge = r
        self.coef_: np.ndarray | None = None
        self.intercept_: np.ndarray | None = None

    def fit(self, H, Y):
        H, Y = self._check_fit(H, Y)
        M, L, D = H.shape
        K = Y.shape[1]
        X = H.reshape(M, L * D)
        T = Y.reshape(M, K * D)
        x_mean, t_mean = X.mean(axis=0), T.mean(axis=0)
        Xc, Tc = X - x_mean, T - t_mean
        if self.ridge > 0:
            A = Xc.T @ Xc + self.ridge * np.eye(L * D)
            beta = np.linalg.solve(A, Xc.T @ Tc)
        else:
            beta, *_ = np.linalg.lstsq(Xc, Tc, rcond=None)
        intercept = t_mean - x_mean @ beta  # (K*D,)
        self.coef_ = beta.T.reshape(K, D, L * D)
        self.intercept_ = intercept.reshape(K, D)
        self._remember(H, Y)
        return self

    def _predict(self, H: np.ndarray, k: int) -> np.ndarray:
        M, L, D = H.shape
        if L != self.lookback:
            raise expected(self.component, f"H with lookback L={self.lookback} (as at fit)", L)
        X = H.reshape(M, L * D)
        out = np.einsum("mf,kdf->mkd", X, self.coef_) + self.intercept_[None]
        return out

    def __repr__(self) -> str:
        return f"LinearARBaseline(ridge={self.ridge})"


BASELINES: dict[str, type[WindowBaseline]] = {
    "naive": NaiveBaseline,
    "seasonal": SeasonalNaiveBaseline,
    "mean": MeanBaseline,
    "linear": LinearARBaseline,
}


def make_baseline(name: str, **kw) -> WindowBaseline:
    """Build a baseline by registry name (``naive``, ``seasonal``, ``mean``, ``linear``).

    Keyword arguments go to the constructor (``period=`` for ``seasonal``, ``ridge=`` for
    ``linear``). Unknown names or arguments raise :class:`~lstmkit.core.errors.LstmkitError`.
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in BASELINES:
        raise expected("Baselines", f"one of {', '.join(sorted(BASELINES))}", repr(name))
    cls = BASELINES[key]
    try:
        return cls(**kw)
    except LstmkitError:
        raise
    except TypeError:
        raise expected(
            "Baselines", f"valid arguments for {key!r}", ", ".join(sorted(kw)) or "none"
        ) from None
