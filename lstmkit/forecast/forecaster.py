"""Forecasters with one sklearn-style API: ``fit`` / ``predict`` / ``evaluate`` / ``save``.

Every forecaster — the recurrent ones, the MLP and the baselines — shares the
data handling of :class:`Forecaster`: chronological train/val/test split,
scalers fitted on the training rows only, windows that never cross a split,
predictions returned in original units. ``evaluate`` always reports the model
next to the naive (last value) forecast on the same windows.

    >>> from lstmkit import LSTMForecaster
    >>> f = LSTMForecaster(lookback=10, horizon=1, hidden_size=64, epochs=200)
    >>> f.fit(frame, target=["CO2"], test=100)          # doctest: +SKIP
    >>> f.evaluate()["aggregate"]["normalized"]["overall"]["mse"]   # doctest: +SKIP
    >>> f.predict()                                       # next K rows  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstmkit.core.aggregate import aggregate
from lstmkit.core.config import ParamSpec
from lstmkit.core.errors import expected
from lstmkit.core.estimator import Estimator
from lstmkit.forecast.baselines import NaiveBaseline
from lstmkit.forecast.config import WindowConfig
from lstmkit.forecast.data import (
    Windows,
    fill_missing,
    last_window,
    load_frame,
    prepare,
    window_all,
)
from lstmkit.forecast.data.io import select_columns
from lstmkit.forecast.metrics import compute_metrics, naive_mae_scale, skill_table


class Forecaster(Estimator):
    """Base class: data preparation, evaluation and persistence shared by all models.

    Subclasses implement ``_fit_prepared(p)`` (train on :class:`lstmkit.forecast.data.Prepared`)
    and ``_predict_scaled(X, H, horizon=None) -> (S, M, K, D)``: one forecast per member
    (seed) in scaled units, from inputs ``X`` (M, L, F) and target history ``H`` (M, L, D).
    """

    label = "model"
    spec = ParamSpec({"window": WindowConfig})
    positional = ("lookback", "horizon")
    fitted_attr = "targets_"

    def _store_seeds(self, done) -> None:
        """Keep what :func:`lstmkit.core.parallel.fit_seeds` trained."""
        self.networks_, self.histories_ = done.networks, done.histories
        self.train_seconds_, self.best_epochs_ = done.train_seconds, done.best_epochs
        self.fit_seconds_, self.workers_ = done.seconds, done.workers

    # ------------------------------------------------------------------ fit
    def fit(self, data, target=None, features=None, *, test=0.2, val=0, fillna=None,
            checkpoint=None, resume: bool = False, on_epoch=None):
        """Fit on ``data`` (DataFrame, array, path or bundled dataset name).

        ``target`` (one column name, or several) and ``features`` default to every column.
        ``test`` and ``val`` are row counts or fractions taken from the end of the series
        (test last; the defaults are the CLI's: 20% test, no val); the test rows are held out
        for :meth:`evaluate`, the val rows drive early stopping.

        ``checkpoint``: a folder where training writes a checkpoint after every epoch of every
        seed (removed when the fit completes); with ``resume=True`` a fit interrupted there
        (killed, ^C, SIGTERM) continues where it stopped, and ends bitwise as the
        uninterrupted fit would have (a seed without a checkpoint starts at its first epoch).

        ``on_epoch(seed, row)``: called after every epoch of every seed with its history row
        (``epoch``, ``train_loss``, ``val_loss``, ...). The seeds then train one after another
        in this process, and an exception the hook raises stops the fit (Keras's callbacks,
        or an Optuna pruner: :func:`lstmkit.forecast.tune.tune` uses it).
        """
        from lstmkit.core.checkpoint import finish_folder, start_folder

        self._checkpoint = start_folder(checkpoint, resume)
        self._on_epoch = on_epoch
        frame = load_frame(data)
        columns = [str(c) for c in frame.columns]
        targets = columns if target is None else _as_list(target)
        features = columns if features is None else _as_list(features)
        if fillna:
            frame = fill_missing(frame, sorted(set(features) | set(targets)), fillna)
        p = prepare(frame, features, targets, self.lookback, self.horizon, test, val,
                    scaler=self.scaler, stride=self.stride)
        self.features_, self.targets_ = p.features, p.targets
        self.x_scaler_, self.y_scaler_ = p.x_scaler, p.y_scaler
        train_y = select_columns(frame, targets, "target")[p.bounds[0]]  # (N_train, D)
        self.mase_scale_ = {
            "original": naive_mae_scale(train_y, targets).tolist(),
            "normalized": naive_mae_scale(p.y_scaler.transform(train_y), targets).tolist(),
        }
        self.test_windows_ = p.test
        self.split_rows_ = [b.stop - b.start for b in p.bounds]
        self.train_hashes_ = np.unique(_row_hashes(frame, self._used_columns())[p.bounds[0]])
        self._fit_prepared(p)
        finish_folder(self._checkpoint)
        return self

    def _fit_prepared(self, p) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict_scaled(self, X: np.ndarray, H: np.ndarray,
                        horizon: int | None = None) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    # ------------------------------------------------------------------ predict
    def _inverse(self, y: np.ndarray) -> np.ndarray:
        """(..., K, D) scaled -> original units."""
        flat = y.reshape(-1, y.shape[-1])  # (…·K, D)
        return self.y_scaler_.inverse_transform(flat).reshape(y.shape)

    def predict(self, data, horizon: int | None = None, context: str = "window") -> pd.DataFrame:
        """Forecast the ``horizon`` rows after the end of ``data``, in original units.

        ``horizon`` defaults to the training horizon; a longer one works for the recursive
        and seq2seq strategies (and the naive/mean/seasonal baselines). With several seeds,
        the forecast is the mean of the members' forecasts.

        ``context="window"`` (the default) encodes the last ``lookback`` rows from a zero
        state, as in training; ``"history"`` (recurrent direct forecasters) warms the state
        up over every row of ``data``, which is what a stream (:meth:`stream`) carries.
        """
        self._check_fitted("predict")
        if context not in ("window", "history"):
            raise expected("Predict", "context 'window' or 'history'", repr(context))
        frame = load_frame(data)
        if context == "history":
            from lstmkit.forecast.data.windows import scaled_rows

            self.check_streamable("Predict")
            if horizon is not None and horizon != self.horizon:
                raise expected("Predict", f"horizon {self.horizon} with context 'history'",
                               horizon)
            xs, ys = scaled_rows(frame, self.features_, self.targets_, self.x_scaler_,
                                 self.y_scaler_, self.lookback)
            y = self._inverse(self._predict_history(xs, ys).mean(0))[0]  # (K, D)
            index = pd.RangeIndex(len(frame), len(frame) + y.shape[0], name="step")
            return pd.DataFrame(y, columns=self.targets_, index=index)
        X, H = last_window(frame, self.features_, self.targets_, self.x_scaler_,
                           self.y_scaler_, self.lookback)
        y = self._inverse(self._predict_scaled(X, H, horizon).mean(0))[0]  # (K, D)
        index = pd.RangeIndex(len(frame), len(frame) + y.shape[0], name="step")
        return pd.DataFrame(y, columns=self.targets_, index=index)

    def check_streamable(self, component: str = "Stream") -> None:
        """Refuse a model that cannot carry its state from row to row (only recurrent,
        unidirectional, direct-strategy forecasters can)."""
        raise expected(component, "a recurrent forecaster (LSTM, GRU, RNN) to carry a state",
                       self.label)

    def stream(self, history):
        """A :class:`~lstmkit.forecast.stream.ForecastStream` warmed up over ``history``
        (a frame, path or dataset name; or a list of them: one stream per series, updated
        together). ``s.update(y, exog)`` consumes a row, ``s.forecast()`` equals
        ``predict(history_so_far, context="history")``."""
        from lstmkit.forecast.stream import ForecastStream

        return ForecastStream(self, history)

    def windows_for(self, data=None) -> Windows:
        """The held-out test windows (``data=None``) or every window of new ``data``."""
        self._check_fitted("evaluate")
        if data is None:
            if self.test_windows_ is None:
                raise expected("Evaluate", "data, or a model fitted with a test split",
                               "neither")
            return self.test_windows_
        return window_all(load_frame(data), self.features_, self.targets_, self.x_scaler_,
                          self.y_scaler_, self.lookback, self.horizon, self.stride)

    def predict_windows(self, data=None) -> dict:
        """Per-window forecasts: ``start`` (M,), ``y_true`` and ``y_pred`` (M, K, D) in
        original units (``y_pred`` is the ensemble mean)."""
        w = self.windows_for(data)
        pred = self._predict_scaled(w.X, w.H).mean(0)
        return {"start": w.start, "y_true": self._inverse(w.Y), "y_pred": self._inverse(pred)}

    # ------------------------------------------------------------------ evaluate
    def _metrics(self, w: Windows, pred: np.ndarray) -> dict:
        """Metrics of one forecast (M, K, D, scaled) in normalized and original units."""
        scale = self.mase_scale_
        return {
            "normalized": compute_metrics(w.Y, pred, self.targets_,
                                          mase_scale=np.asarray(scale["normalized"])),
            "original": compute_metrics(self._inverse(w.Y), self._inverse(pred), self.targets_,
                                        mase_scale=np.asarray(scale["original"])),
        }

    def evaluate(self, data=None) -> dict:
        """Metrics per seed, aggregated (mean/min/max), for the ensemble mean, and for the
        naive baseline on the same windows, with skill = 1 − MSE_model / MSE_naive.
        ``n_in_sample``: how many of ``data``'s windows forecast training rows (those are no
        test: :meth:`in_sample`)."""
        frame = None if data is None else load_frame(data)
        w = self.windows_for(frame)
        naive = self._metrics(w, NaiveBaseline().predict(w.H, horizon=self.horizon))
        per_seed = []
        members = self._predict_scaled(w.X, w.H)  # (S, M, K, D)
        for pred in members:
            m = self._metrics(w, pred)
            m["skill"] = skill_table(m["normalized"], naive["normalized"])
            per_seed.append(m)
        ensemble = self._metrics(w, members.mean(0))
        ensemble["skill"] = skill_table(ensemble["normalized"], naive["normalized"])
        return {
            "model": self.label,
            "n_windows": len(w),
            "n_in_sample": 0 if frame is None else self.in_sample(frame, w),
            "per_seed": per_seed,
            "aggregate": aggregate(per_seed),
            "ensemble": ensemble,
            "naive": naive,
        }

    def _used_columns(self) -> list[str]:
        return list(dict.fromkeys([*self.features_, *self.targets_]))

    def in_sample(self, frame: pd.DataFrame, w: Windows) -> int | None:
        """How many windows ``w`` of ``frame`` forecast rows the model was trained on (a row
        of the same values in the training split); None for a model saved without that
        record."""
        if getattr(self, "train_hashes_", None) is None:
            return None
        seen = np.isin(_row_hashes(frame, self._used_columns()), self.train_hashes_)
        rows = w.start[:, None] + np.arange(self.horizon)[None]  # (M, K) target rows
        return int(seen[rows].any(axis=1).sum())

    # ------------------------------------------------------------------ persistence
    def _state_tensors(self) -> dict:
        """Learned tensors to store in ``model.safetensors``, and the hashes of the training
        rows (``evaluate`` counts the windows that forecast them)."""
        import torch

        out = self._model_tensors()
        if getattr(self, "train_hashes_", None) is not None:
            out["train.row_hashes"] = torch.as_tensor(self.train_hashes_.view(np.int64))
        return out

    def _model_tensors(self) -> dict:
        return {}

    def _fitted_config(self) -> dict:
        return {
            "schema": {"features": self.features_, "targets": self.targets_,
                       "lookback": self.lookback, "horizon": self.horizon,
                       "stride": self.stride},
            "x_scaler": self.x_scaler_.to_dict(),
            "y_scaler": self.y_scaler_.to_dict(),
            "mase_scale": self.mase_scale_,
            "split_rows": self.split_rows_,
            **self._extra_config(),
        }

    def _extra_config(self) -> dict:
        return {}

    def _load_state(self, config: dict, tensors: dict) -> None:
        """Restore learned state from ``config`` and ``tensors`` (inverse of save)."""

    def _restore(self, config: dict, tensors: dict) -> None:
        from lstmkit.forecast.data import scaler_from_dict

        schema = config["schema"]
        self.features_, self.targets_ = list(schema["features"]), list(schema["targets"])
        self.x_scaler_ = scaler_from_dict(config["x_scaler"])
        self.y_scaler_ = scaler_from_dict(config["y_scaler"])
        self.mase_scale_ = config["mase_scale"]
        self.split_rows_ = config.get("split_rows")
        self.test_windows_ = None
        hashes = tensors.pop("train.row_hashes", None)
        self.train_hashes_ = None if hashes is None else hashes.numpy().view(np.uint64)
        self._load_state(config, tensors)


def _row_hashes(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One 64-bit hash per row of ``columns`` (pandas' own row hashing)."""
    return pd.util.hash_pandas_object(frame[columns], index=False).to_numpy(np.uint64)


def _as_list(cols) -> list[str]:
    if isinstance(cols, str):
        return [c.strip() for c in cols.split(",") if c.strip()]
    return [str(c) for c in cols]
