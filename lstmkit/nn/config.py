"""The recurrent encoder's hyperparameters, shared by every job's network config.

:class:`RecurrentConfig` is what every recurrent network of lstmkit has (the language model's
too); :class:`EncoderConfig` adds what the sequence encoders of the forecaster and the
classifiers have. Each field is declared here once (:func:`lstmkit.core.config.param`); a
job's network config inherits them, and narrows ``cell`` with its ``CELLS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lstmkit.core.config import param
from lstmkit.core.validate import choice, flag, fraction, positive_int

ALL_CELLS = ("lstm", "gru", "rnn", "lnlstm", "mlp")


@dataclass
class RecurrentConfig:
    CELLS: ClassVar[tuple[str, ...]] = ("lstm", "gru", "rnn")  # what this network can run

    cell: str = param("lstm", "recurrent cell", choice(*ALL_CELLS), narrow="CELLS")
    hidden_size: int = param(64, "hidden units per layer and direction (H)", positive_int)
    num_layers: int = param(1, "stacked recurrent layers", positive_int)
    dropout: float = param(0.0, "dropout between recurrent layers (classifiers and language "
                           "models: also on the embeddings and before the output layer)",
                           fraction)


@dataclass
class EncoderConfig(RecurrentConfig):
    activation: str = param("tanh", "cell activation (Keras' activation=); relu runs on "
                            "lstmkit's transcribed cells", choice("tanh", "relu"))
    bidirectional: bool = param(False, "read the sequence both ways", flag)
