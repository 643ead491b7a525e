"""The estimator contract every forecaster, classifier and language model implements.

An estimator declares its hyperparameters as config dataclasses (:mod:`lstmkit.core.config`),
gathered in its ``spec`` (:class:`~lstmkit.core.config.ParamSpec`): ``sections`` (model config,
saved in ``config.json``) and ``execution`` (workers, threads, progress bar, ...: how this fit
runs, never saved). Its keyword arguments are the fields of
those dataclasses, flat (``LSTMForecaster(hidden_size=32, epochs=50)``), or whole sections
(``LSTMForecaster(network=NetworkConfig(hidden_size=32))``). From that follow:

- ``get_params`` / ``set_params`` (scikit-learn's convention: ``sklearn.base.clone`` works),
  every value checked by its field's check;
- ``seed_list``, the fitted check, ``save(dir)`` (``model.safetensors`` + ``config.json``)
  and ``from_run_dir`` behind :func:`lstmkit.load`.

Subclasses provide ``_state_tensors()`` (what to store), ``_fitted_config()`` (the learned
state that is not a tensor: scalers, schema, classes, ...) and ``_restore(config, tensors)``.
"""

from __future__ import annotations

import inspect
from dataclasses import is_dataclass, replace
from typing import ClassVar

from lstmkit.core.config import ParamSpec, check_config
from lstmkit.core.errors import expected


class Estimator:
    """Base class: parameters from config dataclasses, seeds, fitted check, save / load."""

    spec: ClassVar[ParamSpec] = ParamSpec({})  # sections, execution settings, defaults
    positional: ClassVar[tuple[str, ...]] = ()  # parameters that may be given by position
    fitted_attr: ClassVar[str] = "networks_"  # set by fit
    label = "model"
    _fields: ClassVar[dict[str, str]] = {}  # parameter -> section ("execution" for those)

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        table: dict[str, str] = {}
        for section, f in cls.spec.param_fields():
            if f.name in table:  # a programming error, caught when the class is made
                raise TypeError(f"{cls.__name__}: {f.name} declared in {table[f.name]} "
                                f"and {section}")
            table[f.name] = section
        cls._fields = table
        if cls.__init__ is Estimator.__init__:
            cls.__signature__ = cls._signature()

    @classmethod
    def _signature(cls) -> inspect.Signature:
        params = []
        for name in cls.positional:
            params.append(inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                            default=cls.default(name)))
        for name in cls._fields:
            if name not in cls.positional:
                params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                                                default=cls.default(name)))
        return inspect.Signature(params)

    @classmethod
    def param_fields(cls) -> list[tuple[str, object]]:
        """``(section, field)`` for every parameter, in declaration order."""
        return cls.spec.param_fields()

    @classmethod
    def default(cls, name: str):
        return cls.spec.default(name)

    # ------------------------------------------------------------------ params
    def __init__(self, *args, **params):
        if len(args) > len(self.positional):
            raise TypeError(f"{type(self).__name__} takes at most {len(self.positional)} "
                            f"positional arguments ({', '.join(self.positional)})")
        for name, value in zip(self.positional, args, strict=False):
            if name in params:
                raise TypeError(f"{type(self).__name__}: {name} given twice")
            params[name] = value
        state = {name: config() for name, config in self.spec.sections.items()}
        state["execution"] = self.spec.execution()
        object.__setattr__(self, "_config", state)
        for name, value in self.spec.defaults.items():
            setattr(state[self._fields[name]], name, value)
        self.set_params(**params)

    def __getattr__(self, name: str):
        table = type(self)._fields
        if name in table and "_config" in self.__dict__:
            return getattr(self.__dict__["_config"][table[name]], name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value) -> None:
        if name in type(self)._fields:
            self.set_params(**{name: value})
        else:
            object.__setattr__(self, name, value)

    def get_params(self, deep: bool = True) -> dict:
        """Every parameter, flat (scikit-learn's convention; ``deep`` is accepted for it)."""
        return {name: getattr(self, name) for name in self._fields}

    def set_params(self, **params):
        """Set parameters (flat names, or whole sections by name); every value is checked."""
        component = type(self).__name__
        state = {name: replace(section) for name, section in self._config.items()}  # a draft
        for key, value in params.items():
            if key in state and is_dataclass(value):
                if not isinstance(value, type(state[key])):
                    raise expected(component, f"{key} a {type(state[key]).__name__}",
                                   type(value).__name__)
                state[key] = replace(value)
            elif key in self._fields:
                setattr(state[self._fields[key]], key, value)
            else:
                raise expected(component, "a parameter among " + ", ".join(self._fields),
                               repr(key))
        for section in state.values():
            check_config(section, component)
        before = self._config
        object.__setattr__(self, "_config", state)
        try:
            self._check()
        except BaseException:
            object.__setattr__(self, "_config", before)  # a refused value is not kept
            raise
        return self

    def _check(self) -> None:
        """Rules across sections (subclasses)."""

    def config(self, section: str):
        """A copy of one config section (``network``, ``train``, ``execution``, ...)."""
        return replace(self._config[section])

    def model_params(self) -> dict:
        """The parameters saved with the model: every one but the execution settings."""
        return {k: v for k, v in self.get_params().items() if self._fields[k] != "execution"}

    @property
    def seed_list(self) -> list[int]:
        return [int(self.seed) + i for i in range(int(getattr(self, "seeds", 1)))]

    def _check_fitted(self, what: str) -> None:
        if not hasattr(self, self.fitted_attr):
            raise expected(type(self).__name__, f"a fitted model before {what}", "an unfitted one")

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.get_params().items() if v != self.default(k)}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    # ------------------------------------------------------------------ persistence
    def _state_tensors(self) -> dict:
        return {}

    def _fitted_config(self) -> dict:
        return {}

    def _restore(self, config: dict, tensors: dict) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def save(self, path, *, overwrite: bool = False, extra: dict | None = None):
        """Write a run directory atomically: ``model.safetensors`` + ``config.json``
        (+ ``extra``: file name -> writer(path)). Execution settings are not saved."""
        from lstmkit.core.persistence import (
            FORMAT_VERSION,
            json_writer,
            weights_writer,
            write_run_dir,
        )
        from lstmkit.core.version import __version__

        self._check_fitted("save")
        tensors = self._state_tensors()
        for key, value in tensors.items():  # a diverged model is never saved
            if value.is_floating_point() and not bool(value.isfinite().all()):
                raise expected("Model", "finite weights to save", f"NaN or inf in {key}")
        config = {"format_version": FORMAT_VERSION, "lstmkit_version": __version__,
                  "model_class": type(self).__name__, "params": self.model_params(),
                  **self._fitted_config()}
        writers = {"model.safetensors": weights_writer(tensors),
                   "config.json": json_writer(config), **(extra or {})}
        return write_run_dir(path, writers, overwrite=overwrite)

    @classmethod
    def load(cls, path):
        """Load a run directory written by :meth:`save` (safetensors + JSON, never unpickles)."""
        from lstmkit.core.persistence import read_run_dir

        return cls.from_run_dir(*read_run_dir(path))

    @classmethod
    def from_run_dir(cls, config: dict, tensors: dict):
        """Rebuild from the contents of a run directory (``config.json`` and the tensors)."""
        if config.get("model_class") != cls.__name__:
            raise expected("Model", f"a {cls.__name__} run directory",
                           f"model_class {config.get('model_class')!r}")
        params = config.get("params")
        if not isinstance(params, dict):
            raise expected("Model", "a params object in config.json", type(params).__name__)
        # files of lstmkit 0.1.0 saved the execution settings too: they are not model config
        model = cls(**{k: v for k, v in params.items()
                       if not (k in cls._fields and cls._fields[k] == "execution")})
        try:
            model._restore(config, tensors)
        except (KeyError, TypeError, IndexError) as err:
            raise expected("Model", "a complete config.json",
                           f"missing or bad entry {err}") from None
        return model
