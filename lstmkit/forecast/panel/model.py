"""``GlobalForecaster``: one recurrent network trained across every series of a panel.

    >>> from lstmkit import GlobalForecaster
    >>> f = GlobalForecaster(horizon=13, season=52).fit(df)      # doctest: +SKIP
    >>> f.predict()                      # unique_id, ds, forecast  # doctest: +SKIP
    >>> f.evaluate(test_df)["overall"]   # vs naive, Naive2, AutoETS, AutoTheta  # doctest: +SKIP

``df`` is long format (``unique_id, ds, y`` and covariates, :mod:`.frame`). ``fit`` holds out
the last ``horizon`` points of each series for :meth:`evaluate` (``test=0``: trains on every
point), samples training windows from every series on the fly (:mod:`.windows`), normalises
each window by its own input, and trains ``seeds`` networks side by side; the forecast is
their median. Why this default, with the measurements: README, "Many series".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import torch

from lstmkit.core.checkpoint import seed_checkpoints
from lstmkit.core.errors import expected
from lstmkit.core.estimator import Estimator
from lstmkit.forecast.panel.config import GLOBAL_FORECASTER, GlobalNetworkConfig
from lstmkit.forecast.panel.frame import Columns, Panel, calendar_features, make_panel, to_long
from lstmkit.forecast.panel.windows import (
    CovariateScaler,
    Flat,
    denormalize,
    normalize,
    resolve_kind,
)


@dataclass
class TrainingData:
    """What the training loop reads: flat arrays, scaled static features, shapes."""

    flat: Flat
    static: np.ndarray
    L: int
    K: int
    kind: str
    quantiles: tuple = ()


class GlobalForecaster(Estimator):
    """A global recurrent forecaster of many series (long format), with ES-RNN's ideas:
    level-normalised windows in logs, one network for every series, an ensemble of seeds."""

    spec = GLOBAL_FORECASTER
    positional = ("horizon",)
    fitted_attr = "networks_"
    label = "global LSTM"

    def _check(self) -> None:
        if self.quantiles and 0.5 not in self.quantiles:
            raise expected("GlobalForecaster", "quantiles that include 0.5 (the point "
                           "forecast)", ",".join(f"{q:g}" for q in self.quantiles))

    # ------------------------------------------------------------------ data
    def read(self, data, *, columns: Columns | None = None, freq=None, fillna=None,
             static_df=None) -> Panel:
        """A :class:`~lstmkit.forecast.panel.frame.Panel` of ``data`` (DataFrame, path or
        bundled name) with this model's columns (after ``fit``: the fitted ones)."""
        from lstmkit.forecast.data import load_frame

        cols = columns or self.columns_
        frame = load_frame(data)
        if static_df is not None and cols.static:
            frame = frame.drop(columns=[c for c in cols.static if c in frame.columns])
            frame = frame.merge(load_frame(static_df), on=cols.id_col, how="left")
        freq = freq if freq is not None else getattr(self, "freq_", None)
        return make_panel(frame, cols, freq=freq, fillna=fillna)

    # ------------------------------------------------------------------ fit
    def fit(self, data, *, id_col: str = "unique_id", time_col: str = "ds", target: str = "y",
            futr_exog=(), hist_exog=(), static=(), static_df=None, freq=None, fillna=None,
            test: int | None = None, val: int = 0, checkpoint=None, resume: bool = False,
            on_epoch=None):
        """Fit on a long-format panel.

        ``futr_exog`` / ``hist_exog`` / ``static``: column names of the future-known,
        past-only and per-series constant covariates (``static_df``: a separate table of the
        static ones, one row per ``unique_id``). ``test``: points held out at the end of each
        series for :meth:`evaluate` (default ``horizon``; 0 trains on everything). ``val``:
        points before them for early stopping (0: a fixed number of epochs).
        ``checkpoint`` / ``resume``: as :meth:`lstmkit.forecast.forecaster.Forecaster.fit`
        (a checkpoint after every epoch of every seed; under torchrun one per rank).
        ``on_epoch(seed, row)``: as :meth:`lstmkit.forecast.forecaster.Forecaster.fit`.
        """
        K = self.horizon
        test = K if test is None else int(test)
        if test not in (0, K):
            raise expected("GlobalForecaster", f"test 0 or the horizon ({K}): one forecast "
                           "origin per series (more: backtest)", test)
        if val and val < K:
            raise expected("GlobalForecaster", f"val 0 or at least the horizon ({K})", val)
        cols = Columns(id_col, time_col, target, tuple(futr_exog), tuple(hist_exog),
                       tuple(static))
        panel = self.read(data, columns=cols, freq=freq, fillna=fillna, static_df=static_df)
        from lstmkit.core.checkpoint import finish_folder, start_folder

        folder = start_folder(checkpoint, resume)
        self.fit_panel(panel, test=test, val=val, checkpoint=folder, on_epoch=on_epoch)
        finish_folder(folder)
        return self

    def fit_panel(self, panel: Panel, *, test: int = 0, val: int = 0, checkpoint=None,
                  on_epoch=None):
        """Fit on a :class:`~lstmkit.forecast.panel.frame.Panel` (what :meth:`fit` reads);
        ``checkpoint``: a checkpoint folder, ``on_epoch``: the epoch hook (see :meth:`fit`)."""
        from lstmkit.core.parallel import fit_seeds
        from lstmkit.forecast.panel.network import GlobalNetwork
        from lstmkit.forecast.panel.training import train_global

        K, L, cols = self.horizon, self.lookback, panel.columns
        panel.check_length(L + K + test + val, f"lookback {L} + horizon {K}"
                           + (f" + test {test}" if test else "") + (f" + val {val}" if val else ""))
        self.columns_, self.freq_ = cols, panel.freq
        self.ids_ = list(panel.ids)
        self.panel_, self.test_ = panel, test
        train_panel = panel.head(test)  # what the model may learn from, validation included
        fit_panel = train_panel.head(val)
        self.kind_ = resolve_kind(self.normalize, fit_panel.y)
        self.hist_scaler_ = CovariateScaler.fit(np.concatenate(fit_panel.hist))
        futr_rows = [np.hstack([f, calendar_features(d, self.calendar)])
                     for f, d in zip(fit_panel.futr, fit_panel.ds, strict=True)]
        self.futr_scaler_ = CovariateScaler.fit(np.concatenate(futr_rows))
        self.static_scaler_ = CovariateScaler.fit(panel.static)
        data_ = self._training_data(fit_panel)
        val_ = self._validation(train_panel, val) if val else None
        self.network_config_ = GlobalNetworkConfig(
            **{k: v for k, v in asdict(self.config("network")).items()
               if k in ("cell", "hidden_size", "num_layers", "dropout", "activation",
                        "bidirectional")},
            lookback=L, horizon=K, n_hist=len(cols.hist),
            n_futr=len(cols.futr) + len(self.calendar), n_static=len(cols.static),
            n_series=len(panel.ids), embedding=self.embedding,
            n_quantiles=max(1, len(self.quantiles)))
        cfg, run = self.config("train"), self.config("execution")
        ckpt = seed_checkpoints(checkpoint, self, data_.flat.y)
        done = fit_seeds(self.seed_list, lambda: GlobalNetwork(self.network_config_),
                         lambda net, s, r, on_epoch: train_global(
                             net, data_, val_, cfg, s, r, on_epoch, f"{self.label} seed {s}",
                             ckpt(s)),
                         run, cfg.epochs, 1, self.label, on_epoch)
        self.networks_, self.histories_ = done.networks, done.histories
        self.train_seconds_, self.fit_seconds_ = done.train_seconds, done.seconds
        self.best_epochs_ = done.best_epochs
        self.calibration_ = None
        if self.conformal_windows:
            from lstmkit.forecast.panel.intervals import calibrate

            self.calibration_ = calibrate(self, train_panel)
        return self

    def _scaled_futr(self, futr: np.ndarray, ds: np.ndarray) -> np.ndarray:
        return self.futr_scaler_(np.hstack([futr, calendar_features(ds, self.calendar)]))

    def _training_data(self, panel: Panel) -> TrainingData:
        flat = Flat.of(panel.y, [self.hist_scaler_(h) for h in panel.hist],
                       [self._scaled_futr(f, d) for f, d in zip(panel.futr, panel.ds,
                                                                strict=True)])
        return TrainingData(flat, self.static_scaler_(panel.static), self.lookback,
                            self.horizon, self.kind_, tuple(self.quantiles))

    def _validation(self, panel: Panel, val: int):
        """One validation window per series: its target is the last ``horizon`` points."""
        from lstmkit.forecast.panel.training import batch_tensors

        data = self._training_data(panel)
        series = np.arange(len(panel.ids))
        cut = data.flat.lengths - self.horizon
        y, hist, futr = data.flat.gather(series, cut, self.lookback, self.horizon)
        return batch_tensors(data, series, y, hist, futr, self.kind_)

    # ------------------------------------------------------------------ predict
    def _future_futr(self, panel: Panel, futr_df, dates: list[np.ndarray]) -> list[np.ndarray]:
        """The future-known covariates of the ``horizon`` steps after each series."""
        cols = self.columns_
        if not cols.futr:
            return [np.zeros((len(d), 0)) for d in dates]
        given = {}
        if futr_df is not None:
            from lstmkit.forecast.data import load_frame

            f = load_frame(futr_df)
            f.columns = [str(c) for c in f.columns]
            missing = [c for c in (cols.id_col, cols.time_col, *cols.futr) if c not in f.columns]
            if missing:
                raise expected("Predict", f"column '{missing[0]}' in the future covariates",
                               "columns " + ", ".join(f.columns[:8]))
            f[cols.id_col] = f[cols.id_col].astype(str)
            for key, g in f.groupby(cols.id_col):
                t = g[cols.time_col]
                if panel.is_datetime:
                    t = pd.to_datetime(t)
                given[key] = (t.to_numpy(), g[list(cols.futr)].to_numpy(float))
        out = []
        for i, (key, d) in enumerate(zip(panel.ids, dates, strict=True)):
            ft, fv = given.get(key, panel.future[i] if panel.future else (np.array([]),
                                                                         np.zeros((0, 0))))
            pos = {t: j for j, t in enumerate(ft)}
            rows = [pos.get(t) for t in d]
            if any(r is None for r in rows) or (len(rows) and np.isnan(fv[rows]).any()):
                step = next((str(t) for t, r in zip(d, rows, strict=True) if r is None
                             or np.isnan(fv[r]).any()), "?")
                raise expected("Predict", f"future values of {', '.join(cols.futr)} for the "
                               f"{self.horizon} steps after each series (futr_df / --futr)",
                               f"none for series '{key}' at {step}")
            out.append(fv[rows])
        return out

    def forecast_arrays(self, panel: Panel, futr_df=None) -> np.ndarray:
        """(S, K) median forecast of the ensemble after the end of each series (the 0.5
        quantile of a quantile head)."""
        return self.point(self.forecast_quantiles(panel, futr_df))

    def point(self, qf: np.ndarray) -> np.ndarray:
        """The point forecast (S, K) of :meth:`forecast_quantiles`' output."""
        return qf if qf.ndim == 2 else qf[..., list(self.quantiles).index(0.5)]

    @torch.no_grad()
    def forecast_quantiles(self, panel: Panel, futr_df=None) -> np.ndarray:
        """The ensemble's median forecast after each series: (S, K), or (S, K, Q) for a
        quantile head (sorted: quantiles never cross)."""
        self._check_fitted("predict")
        L, K = self.lookback, self.horizon
        panel.check_length(L, f"lookback {L}")
        dates = panel.future_dates(K)
        fut = self._future_futr(panel, futr_df, dates)
        y = np.stack([v[-L:] for v in panel.y])  # (S, L)
        kind = self.kind_
        if kind == "log" and not (y > 0).all():
            raise expected("Predict", "positive values in the last lookback points "
                           "(the model normalises in logs)", "zero or negative ones")
        z, last, scale = normalize(y, L, kind)
        hist = np.stack([self.hist_scaler_(h[-L:]) for h in panel.hist])  # (S, L, Fh)
        futr = np.stack([np.vstack([self._scaled_futr(f[-L:], d[-L:]), self._scaled_futr(
            fu, du)]) for f, d, fu, du in zip(panel.futr, panel.ds, fut, dates, strict=True)])
        index = {k: i for i, k in enumerate(self.ids_)}
        series = np.array([index.get(k, 0) for k in panel.ids])
        static = self.static_scaler_(panel.static)
        from lstmkit.core.device import on_device, resolve_device, to_device

        device = resolve_device(self.device)
        f32 = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float32)
        inputs = to_device((f32(z), f32(hist), f32(futr), f32(static),
                            torch.as_tensor(series)), device)
        outs = []
        for net in self.networks_:
            with on_device(net.eval(), device):
                z = net(*inputs).double().cpu().numpy()  # (S, K) or (S, K, Q)
            outs.append(denormalize(z, last, scale, kind) if z.ndim == 2 else np.stack(
                [denormalize(z[..., j], last, scale, kind) for j in range(z.shape[-1])], -1))
        med = np.median(np.stack(outs), axis=0)
        return np.sort(med, axis=-1) if med.ndim == 3 else med

    def stream(self, history):
        """A :class:`~lstmkit.forecast.panel.stream.PanelStream` over ``history``: the last
        ``lookback`` points of each series, shifted by ``update`` (O(lookback) whatever the
        history's length; each window is normalised by its own last value, so no recurrent
        state can be carried)."""
        from lstmkit.forecast.panel.stream import PanelStream

        return PanelStream(self, history)

    def predict(self, data=None, futr_df=None, level=()) -> pd.DataFrame:
        """Forecast the ``horizon`` steps after each series of ``data`` (default: the whole
        fitted panel) as long format ``unique_id, ds, forecast`` (+ ``lo_<l>, hi_<l>`` for
        each interval ``level`` in percent: needs ``conformal_windows``). ``futr_df``: the
        future-known covariates of those steps (or future rows of ``data``)."""
        if data is None and getattr(self, "panel_", None) is None:
            raise expected("Predict", "data: the history to forecast from", "none (a loaded "
                           "model keeps no data)")
        panel = self.panel_ if data is None else self.read(data)
        return self.predict_panel(panel, futr_df, level)

    def predict_panel(self, panel: Panel, futr_df=None, level=()) -> pd.DataFrame:
        """:meth:`predict` of a :class:`~lstmkit.forecast.panel.frame.Panel`."""
        from lstmkit.forecast.panel.intervals import bounds, check_levels

        levels = check_levels(self, level)
        qf = self.forecast_quantiles(panel, futr_df)
        f = self.point(qf)
        out = {"forecast": list(f)}
        for j, q in enumerate(self.quantiles):
            out[f"q_{100 * q:g}"] = list(qf[..., j])
        for lv in levels:
            lo, hi = bounds(self, f, panel, lv, qf)
            out[f"lo_{lv:g}"], out[f"hi_{lv:g}"] = list(lo), list(hi)
        return to_long(panel.ids, panel.future_dates(self.horizon), out, self.columns_)

    # ------------------------------------------------------------------ evaluate
    def evaluate(self, test_df=None, data=None, *, period: int | None = None,
                 statistical: bool = True, workers: int | None = None, level=()) -> dict:
        """Score the forecast after ``data`` (default: the fitted panel's training part)
        against ``test_df`` (default: the held-out test points) beside the baselines:
        ``overall`` (method -> sMAPE, MASE, OWA), ``per_series``, ``per_step``,
        ``forecast`` (long format) and ``seconds``. ``period``: MASE's and Naive2's season
        (default ``season``); ``statistical=False`` skips AutoETS and AutoTheta; ``level``
        (percent): intervals too, scored in ``intervals`` (coverage, MSIS, ACD) beside the
        naive, seasonal naive and AutoETS intervals."""
        from lstmkit.forecast.panel.evaluation import evaluate_panel

        self._check_fitted("evaluate")
        return evaluate_panel(self, test_df, data, period or self.season, statistical,
                              workers, level)

    def backtest(self, data=None, *, n_windows: int = 3, step: int | None = None,
                 refit: bool = True, level=(), skip_short: bool = False) -> pd.DataFrame:
        """Rolling-origin evaluation: ``n_windows`` cut-offs ``step`` points apart (default
        ``horizon``), the newest ``horizon`` points before the end; returns the long table
        ``unique_id, cutoff, ds, y, forecast[, lo_l, hi_l]``. ``refit``: each fold trains
        its own model on its history only (else one model, trained before the oldest
        cut-off, forecasts every fold at once). ``data``: default the fitted panel.
        ``skip_short``: a fold leaves out the series too short for it (else refused)."""
        from lstmkit.core.validate import positive_int
        from lstmkit.forecast.panel.intervals import backtest_folds, backtest_table, parse_levels

        n_windows = positive_int("Backtest", "n_windows", n_windows)
        step = positive_int("Backtest", "step", self.horizon if step is None else step)
        levels = parse_levels(level)
        if levels and not self.conformal_windows:
            raise expected("Backtest", "conformal_windows >= 1 for intervals", 0)
        if data is None and getattr(self, "panel_", None) is None:
            raise expected("Backtest", "data (a loaded model keeps none)", "none")
        panel = self.panel_ if data is None else self.read(data)
        folds = backtest_folds(self, panel, n_windows, step, refit, calibrated=bool(levels),
                               skip_short=skip_short)
        return backtest_table(self, panel, folds, levels)

    # ------------------------------------------------------------------ persistence
    def _state_tensors(self) -> dict:
        from lstmkit.core.persistence import seed_tensors

        out = seed_tensors(self.seed_list, self.networks_)
        if getattr(self, "calibration_", None) is not None:
            out["conformal.errors"] = torch.as_tensor(self.calibration_)  # (W·S, K)
        return out

    def _fitted_config(self) -> dict:
        return {"network": asdict(self.network_config_),
                "schema": {**asdict(self.columns_), "ids": self.ids_,
                           "freq": self.freq_ if isinstance(self.freq_, int) else
                           self.freq_.freqstr},
                "scalers": {"normalize": self.kind_, "hist": asdict(self.hist_scaler_),
                            "futr": asdict(self.futr_scaler_),
                            "static": asdict(self.static_scaler_)},
                "seeds": self.seed_list, "histories": self.histories_}

    def _restore(self, config: dict, tensors: dict) -> None:
        from lstmkit.core.config import from_dict
        from lstmkit.core.persistence import load_seed_networks
        from lstmkit.forecast.panel.network import GlobalNetwork

        s = config["schema"]
        self.columns_ = Columns(s["id_col"], s["time_col"], s["target"], tuple(s["futr"]),
                                tuple(s["hist"]), tuple(s["static"]))
        self.ids_ = [str(k) for k in s["ids"]]
        self.freq_ = s["freq"] if isinstance(s["freq"], int) else \
            pd.tseries.frequencies.to_offset(s["freq"])
        sc = config["scalers"]
        self.kind_ = sc["normalize"]
        self.hist_scaler_, self.futr_scaler_, self.static_scaler_ = (
            CovariateScaler(**sc[k]) for k in ("hist", "futr", "static"))
        self.network_config_ = from_dict(GlobalNetworkConfig, config["network"])
        self.histories_ = config.get("histories", [])
        errors = tensors.pop("conformal.errors", None)
        self.calibration_ = None if errors is None else errors.double().numpy()
        self.networks_ = load_seed_networks(lambda: GlobalNetwork(self.network_config_),
                                            [int(v) for v in config["seeds"]], tensors)
