"""Hyperparameters, declared once: commented dataclass fields that carry their own check.

Every hyperparameter of every estimator is one field of one config dataclass (the network's,
the optimiser's, ...), declared with :func:`param`: its default, one line of help, and the
:class:`~lstmkit.core.validate.Check` of the values it takes. From that one declaration come

- the estimator's keyword arguments, ``get_params`` / ``set_params`` and their validation
  (:mod:`lstmkit.core.estimator`);
- the command-line options, with the help text and the default in ``--help``
  (:mod:`lstmkit.cli.options`);
- what ``config.json`` stores.

Sections shared by several jobs live here; each job adds its own (``forecast.config``, ...).
A job that wants another default for a shared field says so in its estimator's ``defaults``
(a value, not a second declaration).
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, fields

from lstmkit.core.errors import expected
from lstmkit.core.validate import (
    Check,
    choice,
    flag,
    fraction,
    nonnegative_float,
    nonnegative_int,
    optional,
    positive_float,
    positive_int,
    seed_int,
)


def param(default, help: str, check: Check, *, cli: str | None = None, derived: bool = False,
          narrow: str | None = None):
    """A hyperparameter field: ``default``, one line of ``help``, the ``check`` of its values.

    ``cli``: the flag's name when it is not ``--field-name`` (e.g. ``--quiet`` for
    ``progress``); ``derived``: set by ``fit`` from the data (a shape, not a hyperparameter):
    neither an estimator argument nor a command-line option; ``narrow``: a class attribute
    of the concrete config holding the choices it accepts (a subclass narrows ``cell``).
    """
    return field(default=default, metadata={"help": help, "check": check, "cli": cli,
                                            "derived": derived, "narrow": narrow})


def field_check(cls, f) -> Check | None:
    """The check of field ``f`` as config class ``cls`` applies it (narrowed choices)."""
    chk = f.metadata.get("check")
    narrow = f.metadata.get("narrow")
    if chk is not None and narrow:
        from dataclasses import replace as _replace

        chk = _replace(chk, choices=tuple(getattr(cls, narrow)))
    return chk


def shape(default: int, help: str):
    """A network dimension that ``fit`` reads off the data (input size, classes, ...)."""
    return param(default, help, positive_int, derived=True)


def hyperparameters(cls) -> list:
    """The fields of config dataclass ``cls`` that are hyperparameters (not derived)."""
    return [f for f in fields(cls) if not f.metadata.get("derived")]


def check_config(cfg, component: str):
    """Validate every field of ``cfg`` by its check, then the cross-field ``cfg.check``."""
    for f in fields(cfg):
        chk = field_check(type(cfg), f)
        if chk is not None:
            setattr(cfg, f.name, chk(component, f.name, getattr(cfg, f.name)))
    cross = getattr(cfg, "check", None)
    if cross is not None:
        cross(component)
    return cfg


def to_dict(cfg) -> dict:
    return asdict(cfg)


def from_dict(cls, data, component: str = "Model", drop: tuple[str, ...] = ()):
    """Rebuild config dataclass ``cls`` from a ``config.json`` section, validated.

    Keys in ``drop`` (from older files) are ignored; any other unknown key is refused.
    """
    if not isinstance(data, dict):
        raise expected(component, f"a {cls.__name__} object in config.json",
                       type(data).__name__)
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names - set(drop))
    if unknown:
        raise expected(component, f"{cls.__name__} keys ({', '.join(sorted(names))})",
                       f"unknown key(s) {', '.join(unknown)}")
    cfg = cls(**{k: v for k, v in data.items() if k in names})
    return check_config(cfg, component)


def default_of(f):
    return f.default_factory() if f.default is MISSING else f.default


@dataclass(frozen=True)
class ParamSpec:
    """An estimator's parameters: its config ``sections`` (saved with the model), its
    ``execution`` settings (never saved) and its ``defaults`` for shared fields.

    Light on purpose: the CLI builds an estimator's options from its spec without importing
    the estimator (nor torch).
    """

    sections: dict
    execution: type = None  # type: ignore[assignment]  # Execution, set in __post_init__
    defaults: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.execution is None:
            object.__setattr__(self, "execution", Execution)

    def config_of(self, section: str) -> type:
        return self.execution if section == "execution" else self.sections[section]

    def param_fields(self) -> list:
        """``(section, field)`` for every parameter, in declaration order."""
        out = []
        for section, config in [*self.sections.items(), ("execution", self.execution)]:
            out += [(section, f) for f in hyperparameters(config)]
        return out

    def names(self) -> dict[str, str]:
        """parameter -> its section (``execution`` for the execution settings)."""
        return {f.name: section for section, f in self.param_fields()}

    def default(self, name: str):
        if name in self.defaults:
            return self.defaults[name]
        config = self.config_of(self.names()[name])
        return next(default_of(f) for f in fields(config) if f.name == name)

    def with_defaults(self, **defaults) -> ParamSpec:
        return ParamSpec(self.sections, self.execution, {**self.defaults, **defaults})


# ---------------------------------------------------------------------- shared sections
@dataclass
class OptimConfig:
    """How a network is optimised (every job's loop)."""

    epochs: int = param(200, "passes over the training data", positive_int)
    batch_size: int = param(32, "samples per mini-batch", positive_int)
    lr: float = param(1e-3, "Adam's learning rate", positive_float)
    clip_norm: float | None = param(None, "clip the global gradient norm to this (none: no "
                                    "clipping)",
                                    optional(Check("float", low=0, low_open=True,
                                                   finite=False)))


@dataclass
class EarlyStopping:
    """Early stopping on the validation loss (needs a validation split)."""

    patience: int | None = param(None, "stop after this many epochs without a better "
                                 "validation loss, keeping the best weights (needs --val)",
                                 optional(positive_int))


@dataclass
class WeightDecay:
    weight_decay: float = param(0.0, "weight decay (classifiers: AdamW's decoupled decay; "
                                 "language model: Adam's L2 penalty)", nonnegative_float)


@dataclass
class SeedConfig:
    seed: int = param(0, "random seed (weights, batches, dropout)", seed_int)


@dataclass
class EnsembleConfig(SeedConfig):
    """Several networks trained with seeds ``seed, seed+1, ...``; predictions average them."""

    seeds: int = param(1, "networks trained with seeds seed, seed+1, ... (an ensemble)",
                       positive_int)


SCHEDULES = ("constant", "cosine", "onecycle")


@dataclass
class StepsPerEpoch:
    steps_per_epoch: int | None = param(None, "mini-batches per epoch, drawn at random from the "
                                        "training data (none: one pass over it)",
                                        optional(positive_int))


@dataclass
class RandomWindows:
    """Window slicing (:mod:`lstmkit.core.augment`): training batches of random windows."""

    random_crop: float = param(0.0, "train on random windows: each mini-batch drops up to this "
                               "fraction of every sequence, each window at a random offset; "
                               "prediction reads whole sequences (0: whole sequences)",
                               fraction)
    min_window: int = param(64, "random windows keep at least this many steps (shorter "
                            "sequences stay whole)", positive_int)


@dataclass
class ClassifyConfig(OptimConfig, EarlyStopping, WeightDecay, StepsPerEpoch, RandomWindows):
    """Optimisation settings of a classifier (stored in ``config.json``): AdamW."""

    schedule: str = param("constant", "learning-rate schedule: constant, cosine (to 0) or "
                          "onecycle (warm-up, then cosine)", choice(*SCHEDULES))
    label_smoothing: float = param(0.0, "cross-entropy label smoothing", fraction)
    # set by the text classifier (batches of similar lengths: less padding), not a choice
    bucket: bool = param(False, "batches of similar lengths", flag, derived=True)

    def to_dict(self) -> dict:
        return asdict(self)

    def validate(self, component: str = "Training") -> ClassifyConfig:
        return check_config(self, component)



CLASSIFIER_DEFAULTS = {"epochs": 30, "batch_size": 64, "clip_norm": 1.0}  # both classifiers


# ---------------------------------------------------------------------- execution (not saved)
@dataclass
class Execution:
    """How a fit runs on this machine: never saved with the model."""

    threads: int = param(0, "torch threads while training (0: 1 for small models, else "
                         "torch's default)", nonnegative_int)
    progress: bool = param(True, "no progress bar", flag, cli="--quiet")
    device: str = param("auto", "where the networks train and predict: auto (CUDA when torch "
                        "sees a GPU), cpu or cuda", choice("auto", "cpu", "cuda"))


@dataclass
class SeedExecution(Execution):
    workers: int = param(0, "processes training the seeds side by side (0: one per core; "
                         "1: one after another); the results do not depend on it",
                         nonnegative_int)
