"""The global (panel) forecaster's hyperparameters, each declared once (see
:mod:`lstmkit.core.config`). Shared fields (``lookback``, ``horizon``, ``cell``,
``hidden_size``, ``epochs``, ``lr``, ``seed``, ...) are the single-series forecaster's own
declarations; the panel forecaster only gives some of them other defaults, measured on M4
Weekly (``benchmarks/panel_accuracy.py``).

- :class:`PanelConfig`: season, normalisation, calendar features, series embedding;
- :class:`GlobalNetworkConfig`: the recurrent encoder plus the shapes ``fit`` reads off the
  panel (covariates, static features, series);
- :class:`GlobalTrainConfig`: Adam with a cosine schedule over sampled mini-batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lstmkit.core.config import (
    EnsembleConfig,
    ParamSpec,
    SeedExecution,
    StepsPerEpoch,
    param,
    shape,
)
from lstmkit.core.validate import Check, choice, nonnegative_int, optional, positive_int
from lstmkit.forecast.config import HorizonConfig, TrainConfig
from lstmkit.nn.config import EncoderConfig

NORMALIZATIONS = ("auto", "log", "window")
CALENDAR = ("hour", "dayofweek", "day", "week", "month", "quarter", "dayofyear")


@dataclass
class PanelConfig:
    """How the panel's series become training windows."""

    season: int = param(1, "season length m (52: weekly data, yearly season); sets "
                        "MASE's scale, seasonal naive and Naive2", positive_int)
    normalize: str = param("auto", "each window divided by its last value in logs (log: "
                           "positive series), or centred on its last value and scaled by "
                           "its mean absolute change (window); auto: log when every value "
                           "is positive", choice(*NORMALIZATIONS))
    calendar: tuple = param((), "calendar features of ds used as future-known inputs, "
                            "comma-separated: " + ", ".join(CALENDAR),
                            Check("subset", choices=CALENDAR))
    embedding: int = param(0, "size of a learned per-series embedding (0: none)",
                           nonnegative_int)
    quantiles: tuple = param((), "quantile levels of a pinball-loss head, comma-separated "
                             "(e.g. 0.1,0.5,0.9; 0.5 is the point forecast): intervals from "
                             "its outer pairs", Check("floats", low=0, high=1, low_open=True,
                                                      high_open=True))
    conformal_windows: int = param(0, "rolling-origin refits on the training part whose "
                                   "forecast errors calibrate the prediction intervals "
                                   "(split conformal, per horizon step); 0: no intervals",
                                   nonnegative_int)


@dataclass
class GlobalNetworkConfig(EncoderConfig):
    """Everything needed to rebuild the global network (stored in ``config.json``)."""

    CELLS: ClassVar[tuple[str, ...]] = ("lstm", "gru", "rnn")

    # set by fit from the panel (shapes, not hyperparameters)
    lookback: int = shape(65, "L: steps in a window")
    horizon: int = shape(13, "K: steps predicted at once")
    n_hist: int = param(0, "past-only covariates", nonnegative_int, derived=True)
    n_futr: int = param(0, "future-known covariates (calendar included)", nonnegative_int,
                        derived=True)
    n_static: int = param(0, "static features", nonnegative_int, derived=True)
    n_series: int = param(0, "series (for the embedding)", nonnegative_int, derived=True)
    embedding: int = param(0, "embedding size", nonnegative_int, derived=True)
    n_quantiles: int = param(1, "outputs per step (1: a point forecast)", positive_int,
                             derived=True)


@dataclass
class GlobalTrainConfig(TrainConfig, StepsPerEpoch):
    """Adam with a cosine learning-rate schedule over ``epochs`` x ``steps_per_epoch``
    mini-batches of windows sampled from every series (the loss on normalised values)."""

    max_windows: int | None = param(None, "sample training windows only from the last N "
                                    "cut-offs of each series (none: all)",
                                    optional(positive_int))


# ---------------------------------------------------------------------- the estimator's spec
GLOBAL_DEFAULTS = {"lookback": 65, "horizon": 13, "epochs": 10, "steps_per_epoch": 100,
                   "batch_size": 256, "lr": 2e-3,
                   "clip_norm": 1.0, "loss": "mae", "seeds": 2}
GLOBAL_FORECASTER = ParamSpec({"window": HorizonConfig, "panel": PanelConfig,
                               "network": GlobalNetworkConfig, "train": GlobalTrainConfig,
                               "ensemble": EnsembleConfig}, SeedExecution, GLOBAL_DEFAULTS)
