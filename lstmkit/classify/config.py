"""The sequence classifier's hyperparameters (see :mod:`lstmkit.core.config`): the network's
come from :class:`lstmkit.nn.config.SequenceNetConfig`, the optimiser's from
:class:`lstmkit.core.config.ClassifyConfig`; :class:`InputConfig` is its own."""

from __future__ import annotations

from dataclasses import dataclass

from lstmkit.core.config import (
    CLASSIFIER_DEFAULTS,
    ClassifyConfig,
    EnsembleConfig,
    ParamSpec,
    SeedExecution,
    param,
)
from lstmkit.core.validate import flag
from lstmkit.nn.config import SequenceNetConfig


@dataclass
class InputConfig:
    standardize: bool = param(True, "feed the raw channels (default: each channel scaled by "
                              "its training mean and std, inside the network)", flag,
                              cli="--no-standardize")


# The defaults, chosen by measurement on five bundled sets (benchmarks/classify_ucr.py; README
# "Sequence classification that wins by default"): an LSTM-FCN-style network (the recurrent
# encoder over at most 64 segment means, mean+max pooled, beside a 64-wide convolutional
# branch, also mean+max pooled), dropout 0.3 before the head, AdamW with a one-cycle
# schedule, label smoothing 0.1, 200 epochs of at most 32 mini-batches of 16, each batch cut
# to random windows of 50-100% of its sequences (never under 64 steps).
SEQUENCE_DEFAULTS = {**CLASSIFIER_DEFAULTS, "conv_channels": 64, "recurrent_steps": 64,
                     "pooling": "mean+max", "conv_pooling": "mean+max", "dropout": 0.3,
                     "lr": 3e-3, "schedule": "onecycle", "weight_decay": 1e-2,
                     "label_smoothing": 0.1, "batch_size": 16, "epochs": 200,
                     "steps_per_epoch": 32, "random_crop": 0.5, "min_window": 64}
SEQUENCE_CLASSIFIER = ParamSpec({"network": SequenceNetConfig, "input": InputConfig,
                                 "train": ClassifyConfig, "ensemble": EnsembleConfig},
                                SeedExecution, SEQUENCE_DEFAULTS)
