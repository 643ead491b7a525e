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


SEQUENCE_CLASSIFIER = ParamSpec({"network": SequenceNetConfig, "input": InputConfig,
                                 "train": ClassifyConfig, "ensemble": EnsembleConfig},
                                SeedExecution, CLASSIFIER_DEFAULTS)
