"""The forecaster's hyperparameters, each declared once (see :mod:`lstmkit.core.config`).

- :class:`WindowConfig`: how the series is cut into windows and scaled;
- :class:`NetworkConfig`: the network (the recurrent fields come from
  :class:`lstmkit.nn.config.EncoderConfig`), everything needed to rebuild it;
- :class:`TrainConfig`: the optimisation (epochs, batch size, lr and clipping come from
  :class:`lstmkit.core.config.OptimConfig`);
- :class:`BaselineConfig`: which baseline;
- :class:`ForecastExecution`: how the fit runs here (never saved).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lstmkit.core.config import (
    EarlyStopping,
    EnsembleConfig,
    OptimConfig,
    ParamSpec,
    SeedExecution,
    param,
    shape,
)
from lstmkit.core.errors import expected
from lstmkit.core.validate import choice, flag, fraction, optional, positive_int, probability
from lstmkit.nn.config import EncoderConfig

LOSSES = ("mse", "mae", "huber")
SCALER_KINDS = ("standard", "minmax", "log", "none")  # lstmkit.forecast.data.scaling


@dataclass
class HorizonConfig:
    """What every forecaster reads and predicts (the global forecaster: only this)."""

    lookback: int = param(10, "past steps the model reads (L)", positive_int)
    horizon: int = param(1, "future steps it predicts (K)", positive_int)


@dataclass
class WindowConfig(HorizonConfig):
    """How one series is cut into windows and scaled."""

    stride: int = param(1, "steps between consecutive training windows", positive_int)
    scaler: str = param("standard", "scaling, fitted on the training rows only",
                        choice(*SCALER_KINDS))


@dataclass
class NetworkConfig(EncoderConfig):
    """Everything needed to rebuild a forecaster's network (stored in ``config.json``)."""

    CELLS: ClassVar[tuple[str, ...]] = ("lstm", "gru", "rnn", "lnlstm", "mlp")

    residual: bool = param(True, "predict the value itself, not the change from the last "
                           "value", flag, cli="--no-residual")
    linear_skip: bool = param(True, "leave out the linear autoregression that is otherwise "
                              "added to the output (fitted by least squares on the training "
                              "windows, then fixed; the head starts at zero, so the network "
                              "starts as that AR and learns what it misses; seq2seq has none)",
                              flag, cli="--no-linear-skip")
    input_dropout: float = param(0.0, "dropout on the inputs", fraction)
    recurrent_dropout: float = param(0.0, "variational dropout on the recurrent state (the "
                                     "same mask every step)", fraction)
    strategy: str = param("direct", "direct: K outputs at once; recursive: a one-step model "
                          "fed its own predictions; seq2seq: encoder + decoder",
                          choice("direct", "recursive", "seq2seq"))
    attention: str | None = param(None, "seq2seq: Luong dot or Bahdanau additive attention",
                                  optional(choice("dot", "additive")))
    teacher_forcing: float = param(0.5, "seq2seq: probability of feeding the true previous "
                                   "value in training", probability)
    # set by fit from the data and the window (shapes, not hyperparameters)
    kind: str = param("recurrent", "recurrent (the cell above) or mlp",
                      choice("recurrent", "mlp"), derived=True)
    input_size: int = shape(1, "F: input features per step")
    n_targets: int = shape(1, "D: target columns")
    lookback: int = shape(10, "L: steps in a window")
    horizon: int = shape(1, "K: steps predicted at once (1 for the recursive strategy)")

    def check(self, component: str) -> None:
        if self.attention and self.strategy != "seq2seq":
            raise expected(component, "strategy seq2seq with attention (attention reads the "
                           "encoder outputs from a decoder)", f"strategy {self.strategy}")
        if self.cell == "lnlstm" and self.activation != "tanh":
            raise expected(component, "activation tanh for lnlstm", repr(self.activation))
        mlp = self.cell == "mlp" or self.kind == "mlp"
        if mlp and (self.bidirectional or self.strategy == "seq2seq"
                    or self.recurrent_dropout or self.num_layers > 1):
            raise expected(component, "a recurrent cell for bidirectional, seq2seq, recurrent "
                           "dropout or num_layers > 1 (the MLP has no time axis)", "cell mlp")

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


@dataclass
class TrainConfig(OptimConfig, EarlyStopping):
    """The forecaster's optimisation: Adam on the windows (stored in ``config.json``)."""

    loss: str = param("mse", "training loss", choice(*LOSSES))

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)

    def validate(self) -> TrainConfig:
        from lstmkit.core.config import check_config

        return check_config(self, "Training")


@dataclass
class BaselineConfig:
    kind: str = param("naive", "which baseline", choice("naive", "seasonal", "mean", "linear"))
    period: int | None = param(None, "season length (kind seasonal)", optional(positive_int))


@dataclass
class ForecastExecution(SeedExecution):
    kernel: str = param("auto", "auto: the fused C++ training step for a plain LSTM where it "
                        "builds; torch: autograd + torch.optim.Adam", choice("auto", "torch"))

    def validate(self) -> ForecastExecution:
        from lstmkit.core.config import check_config

        return check_config(self, "Training")


# ---------------------------------------------------------------------- the estimators' specs
NEURAL_FORECASTER = ParamSpec({"window": WindowConfig, "network": NetworkConfig,
                               "train": TrainConfig, "ensemble": EnsembleConfig},
                              ForecastExecution)
BASELINE_FORECASTER = ParamSpec({"window": WindowConfig, "baseline": BaselineConfig})
