"""The one registry behind :func:`lstmkit.load`: ``model_class`` name -> where the class lives.

A run directory's ``config.json`` names its class; the class is imported by name (no pickling,
no code from the file) and rebuilt by its ``from_run_dir(config, tensors)``.
"""

from __future__ import annotations

import importlib

from lstmkit.core.errors import expected

MODEL_CLASSES = {  # model_class -> module
    "NeuralForecaster": "lstmkit.forecast.neural",
    "LSTMForecaster": "lstmkit.forecast.neural",
    "GRUForecaster": "lstmkit.forecast.neural",
    "RNNForecaster": "lstmkit.forecast.neural",
    "MLPForecaster": "lstmkit.forecast.neural",
    "BaselineForecaster": "lstmkit.forecast.neural",
    "GlobalForecaster": "lstmkit.forecast.panel.model",
    "SequenceClassifier": "lstmkit.classify.classifier",
    "TextClassifier": "lstmkit.text.classifier",
    "LanguageModel": "lstmkit.text.language",
}


def model_class(name: str):
    """The class registered as ``name`` (imported on first use)."""
    if name not in MODEL_CLASSES:
        raise expected("Model", "a model_class lstmkit knows (" + ", ".join(MODEL_CLASSES) + ")",
                       repr(name))
    return getattr(importlib.import_module(MODEL_CLASSES[name]), name)


def load(path, kind: type | tuple[type, ...] | None = None):
    """Load any run directory lstmkit wrote (forecaster, classifier, language model).

    Dispatches on ``config.json``'s ``model_class``; never unpickles. ``kind``, if given, is
    the base class (or classes) the caller can use: anything else is refused with one line.
    """
    from lstmkit.core.persistence import read_run_dir

    config, tensors = read_run_dir(path)
    cls = model_class(config.get("model_class"))
    if kind is not None and not issubclass(cls, kind):
        names = kind if isinstance(kind, tuple) else (kind,)
        raise expected("Model", "a run directory of a " + " or ".join(k.__name__ for k in names),
                       f"a {cls.__name__} ('{path}')")
    return cls.from_run_dir(config, tensors)
