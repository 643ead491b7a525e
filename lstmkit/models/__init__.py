"""lstmkit.models: forecasters with one fit / predict / evaluate / save API.

- :mod:`~lstmkit.models.forecaster`: the shared base (data handling, evaluation, saving).
- :mod:`~lstmkit.models.neural`: LSTM / GRU / RNN / MLP forecasters and the baseline wrapper.
- :mod:`~lstmkit.models.networks`: the torch networks behind them.
- :mod:`~lstmkit.models.baselines`: window-level baselines (naive, seasonal, mean, linear AR).
- :mod:`~lstmkit.models.persistence`: run directories (safetensors + JSON, atomic writes).
"""

from lstmkit.models.forecaster import Forecaster, load
from lstmkit.models.neural import (
    BaselineForecaster,
    GRUForecaster,
    LSTMForecaster,
    MLPForecaster,
    NeuralForecaster,
    RNNForecaster,
)

__all__ = [
    "BaselineForecaster",
    "Forecaster",
    "GRUForecaster",
    "LSTMForecaster",
    "MLPForecaster",
    "NeuralForecaster",
    "RNNForecaster",
    "load",
]
