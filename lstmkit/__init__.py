"""lstmkit: LSTM networks and their recurrent relatives.

The six LSTM equations, implemented so you can read them (:mod:`lstmkit.ref`), verified
against the fast frameworks (:mod:`lstmkit.nn`), trained fast and evaluated honestly — for
forecasting (:mod:`lstmkit.forecast`), sequence classification (:mod:`lstmkit.classify`) and
text (:mod:`lstmkit.text`), on one shared core (:mod:`lstmkit.core`).

The estimators are imported lazily, so ``import lstmkit.ref`` stays NumPy-only; they are
still listed by ``dir(lstmkit)`` and tab completion.
"""

__version__ = "0.1.0"

from lstmkit.core.errors import LstmkitError  # noqa: E402

_LAZY = {  # name -> module that defines it
    "Forecaster": "lstmkit.forecast.forecaster",
    "NeuralForecaster": "lstmkit.forecast.neural",
    "LSTMForecaster": "lstmkit.forecast.neural",
    "GRUForecaster": "lstmkit.forecast.neural",
    "RNNForecaster": "lstmkit.forecast.neural",
    "MLPForecaster": "lstmkit.forecast.neural",
    "BaselineForecaster": "lstmkit.forecast.neural",
    "SequenceClassifier": "lstmkit.classify.classifier",
    "TextClassifier": "lstmkit.text.classifier",
    "LanguageModel": "lstmkit.text.language",
    "KneserNey": "lstmkit.text.ngram",
    "load": "lstmkit.registry",
}

__all__ = ["LstmkitError", "__version__", *sorted(_LAZY)]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lstmkit' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
