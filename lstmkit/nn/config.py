"""The recurrent networks' hyperparameters (no torch: the CLI builds its options from them).

:class:`RecurrentConfig` is what every recurrent network of lstmkit has (the language model's
too); :class:`EncoderConfig` adds what the sequence encoders of the forecaster and the
classifiers have. Each field is declared here once (:func:`lstmkit.core.config.param`); a
job's network config inherits them, and narrows ``cell`` with its ``CELLS``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

from lstmkit.core.config import check_config, param, shape
from lstmkit.core.errors import expected
from lstmkit.core.validate import (
    choice,
    flag,
    fraction,
    nonnegative_int,
    optional,
    positive_int,
)

ALL_CELLS = ("lstm", "gru", "rnn", "lnlstm", "mlp")
CELLS = ("lstm", "gru", "rnn")  # what the sequence network and the language model run
POOLINGS = ("last", "mean", "max", "mean+max")


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


@dataclass
class SequenceNetConfig(EncoderConfig):
    """Everything needed to rebuild a :class:`SequenceNet` (stored in ``config.json``)."""

    CELLS: ClassVar[tuple[str, ...]] = CELLS

    pooling: str = param("last", "how the encoder's outputs become one vector: the last "
                         "valid step, the mean, the max, or mean and max side by side",
                         choice(*POOLINGS))
    conv_channels: int = param(0, "width C of an LSTM-FCN-style convolutional branch beside "
                               "the recurrent encoder (0: none): Conv1d C, 2C, C with kernels "
                               "8, 5, 3, batch norm and ReLU, averaged over the valid steps",
                               nonnegative_int)
    conv_pooling: str = param("mean", "how the convolutional branch's outputs become one "
                              "vector: the mean over the valid steps (FCN's global average "
                              "pooling), or mean and max side by side",
                              choice("mean", "mean+max"))
    recurrent_steps: int | None = param(None, "the recurrent encoder reads the sequence "
                                        "averaged down to at most this many steps (none: "
                                        "every step); the convolutional branch reads them all",
                                        optional(positive_int))
    # set by fit from the data (shapes, not hyperparameters)
    input_size: int = shape(1, "C: channels per step (ignored when vocab_size > 0)")
    n_classes: int = shape(2, "K: classes")
    vocab_size: int = param(0, "> 0: inputs are token ids (0 = padding) -> Embedding",
                            nonnegative_int, derived=True)
    embed_size: int = param(0, "embedding size with a vocabulary", nonnegative_int,
                            derived=True)

    def to_dict(self) -> dict:
        return asdict(self)

    def validate(self, component: str = "SequenceNet") -> None:
        check_config(self, component)

    def check(self, component: str) -> None:
        if self.vocab_size and (self.conv_channels or self.recurrent_steps):
            raise expected(component, "numeric sequences for conv_channels and recurrent_steps",
                           "token ids")
        if self.vocab_size and self.embed_size < 1:
            raise expected(component, "embed_size >= 1 with a vocabulary", self.embed_size)
