"""lstmkit: LSTM networks and their recurrent relatives.

The six LSTM equations, implemented so you can read them (:mod:`lstmkit.ref`),
verified against the fast frameworks (:mod:`lstmkit.nn`), trained fast and
evaluated honestly (:mod:`lstmkit.models`, :mod:`lstmkit.evaluation`).

The forecasting API is imported lazily, so ``import lstmkit.ref`` stays NumPy-only.
"""

__version__ = "0.1.0"

from lstmkit.errors import LstmkitError  # noqa: E402

_LAZY = {
    "LSTMForecaster", "GRUForecaster", "RNNForecaster", "MLPForecaster", "NeuralForecaster",
    "BaselineForecaster", "Forecaster", "load", "SequenceClassifier", "TextClassifier",
    "LanguageModel",
}

__all__ = ["LstmkitError", "__version__", *sorted(_LAZY)]


def __getattr__(name):
    if name in _LAZY:
        import lstmkit.models as models

        return getattr(models, name)
    raise AttributeError(f"module 'lstmkit' has no attribute {name!r}")
