"""Fit several forecasters on the same split and collect their reports side by side."""

from __future__ import annotations

import json
import time

from lstmkit.forecast.forecaster import Forecaster
from lstmkit.forecast.neural import BaselineForecaster
from lstmkit.forecast.plots import forecast_plot, loss_plot
from lstmkit.forecast.report import history_csv, model_row, naive_row, report_table


def default_baselines(lookback: int, horizon: int, scaler: str, stride: int,
                      period: int | None = None) -> dict[str, Forecaster]:
    """The baselines every report carries: naive, window mean, linear AR (+ seasonal)."""
    kw = {"scaler": scaler, "stride": stride}
    out = {"naive": BaselineForecaster(lookback, horizon, kind="naive", **kw),
           "mean": BaselineForecaster(lookback, horizon, kind="mean", **kw),
           "linear AR": BaselineForecaster(lookback, horizon, kind="linear", **kw)}
    if period:
        out[f"seasonal({period})"] = BaselineForecaster(lookback, horizon, kind="seasonal",
                                                        period=period, **kw)
    return out


class Comparison:
    """Models fitted on one frame with one split; ``reports[name]`` = ``evaluate()``."""

    def __init__(self, models: dict[str, Forecaster]):
        self.models = models
        self.reports: dict[str, dict] = {}
        self.seconds: dict[str, float] = {}

    def fit(self, frame, targets, features, *, test, val=0, fillna=None,
            checkpoint: dict | None = None, resume: bool = False) -> Comparison:
        """Fit every model; ``checkpoint`` maps a model's name to its checkpoint folder."""
        for name, model in self.models.items():
            t0 = time.perf_counter()
            folder = (checkpoint or {}).get(name)
            model.fit(frame, target=targets, features=features, test=test, val=val,
                      fillna=fillna, checkpoint=folder, resume=resume and folder is not None)
            self.seconds[name] = time.perf_counter() - t0
            if model.test_windows_ is not None:  # test=0: a production fit, nothing to score
                self.reports[name] = model.evaluate()
        return self

    # ---------------------------------------------------------------- outputs
    def table(self, title: str = "") -> str:
        rows, first = [], next(iter(self.reports.values()))
        rows.append(naive_row(first))
        for name, rep in self.reports.items():
            if name == "naive":
                continue
            model = self.models[name]  # wall seconds of training, all seeds (in parallel)
            wall = getattr(model, "fit_seconds_", None)
            secs = [wall] if wall is not None else getattr(model, "train_seconds_", None)
            rows.append(model_row(name, rep, secs if secs else None))
        return report_table(rows, title, relative=self._positive_targets())

    def verdict(self, main: str) -> str:
        """One line: whether ``main`` has the lowest test MSE (normalized) of the table."""
        mse = {}
        for name, rep in self.reports.items():
            row = naive_row(rep) if name == "naive" else model_row(name, rep)
            v = row["mse"]
            mse[name] = float(v["mean"] if isinstance(v, dict) else v)
        best = min(mse, key=mse.get)
        if best == main or mse[main] <= mse[best]:
            return f"verdict: {main} has the lowest test MSE ({mse[main]:.4f})"
        return (f"verdict: {main} does NOT beat {best} (test MSE {mse[main]:.4f} vs "
                f"{mse[best]:.4f})")

    def _positive_targets(self) -> bool:
        """Relative error only means something when every test target is > 0."""
        model = next(iter(self.models.values()))
        w = model.windows_for()
        return bool((model._inverse(w.Y) > 0).all())

    def metrics(self) -> dict:
        """metrics.json content: every model's per-seed, aggregate and ensemble metrics."""
        return {name: rep for name, rep in self.reports.items()}

    def learned(self) -> dict[str, Forecaster]:
        return {n: m for n, m in self.models.items() if hasattr(m, "histories_")}

    def writers(self, main: str) -> dict:
        """File writers for a run directory (see :func:`lstmkit.core.persistence`)."""
        learned = self.learned()
        out = {"metrics.json": lambda p: p.write_text(
            json.dumps(self.metrics(), indent=2, allow_nan=True) + "\n")}
        if learned:
            hist_model = learned.get(main) or next(iter(learned.values()))
            out["history.csv"] = lambda p: p.write_text(
                history_csv(hist_model.histories_, hist_model.seed_list))
            out["loss.png"] = lambda p: loss_plot(
                {n: m.histories_ for n, m in learned.items()}, p)
        if self.models[main].test_windows_ is not None:
            out["forecast.png"] = self._forecast_writer(main)
        return out

    def _forecast_writer(self, main: str):
        def write(p):
            base = self.models[main].predict_windows()
            preds = {}
            for name, model in self.models.items():
                if name in ("mean",):
                    continue
                preds[name] = model.predict_windows()["y_pred"]
            forecast_plot(base["start"], base["y_true"], preds, self.models[main].targets_, p)
        return write
