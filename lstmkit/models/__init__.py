"""lstmkit.models: forecasters with one fit / predict / evaluate / save API.

- :mod:`~lstmkit.models.forecaster`: the shared base (data handling, evaluation, saving).
- :mod:`~lstmkit.models.neural`: LSTM / GRU / RNN / MLP forecasters and the baseline wrapper.
- :mod:`~lstmkit.models.networks`: the torch networks behind them.
- :mod:`~lstmkit.models.baselines`: window-level baselines (naive, seasonal, mean, linear AR).
- :mod:`~lstmkit.models.persistence`: run directories (safetensors + JSON, atomic writes).
- :mod:`~lstmkit.models.classifier`, :mod:`~lstmkit.models.text_classifier`: sequence and text
  classifiers; :mod:`~lstmkit.models.language`: language models; :mod:`~lstmkit.models.ngram`:
  the Kneser-Ney baseline.
"""

from lstmkit.models.classifier import SequenceClassifier, load_classifier
from lstmkit.models.forecaster import Forecaster, load
from lstmkit.models.language import LanguageModel
from lstmkit.models.neural import (
    BaselineForecaster,
    GRUForecaster,
    LSTMForecaster,
    MLPForecaster,
    NeuralForecaster,
    RNNForecaster,
)
from lstmkit.models.ngram import KneserNey
from lstmkit.models.text_classifier import TextClassifier

__all__ = [
    "BaselineForecaster",
    "Forecaster",
    "GRUForecaster",
    "KneserNey",
    "LanguageModel",
    "LSTMForecaster",
    "MLPForecaster",
    "NeuralForecaster",
    "RNNForecaster",
    "SequenceClassifier",
    "TextClassifier",
    "load",
    "load_classifier",
]
