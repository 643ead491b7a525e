"""lstmkit.forecast: forecasting one multivariate series, or many in long format.

- :mod:`~lstmkit.forecast.data`: loading, validation, chronological splits, windows, scalers.
- :mod:`~lstmkit.forecast.networks`, :mod:`~lstmkit.forecast.seq2seq`: the torch networks.
- :mod:`~lstmkit.forecast.baselines`: naive, seasonal naive, window mean, linear AR.
- :mod:`~lstmkit.forecast.forecaster`: the shared base (data handling, evaluation, saving).
- :mod:`~lstmkit.forecast.neural`: LSTM / GRU / RNN / MLP forecasters and the baseline wrapper.
- :mod:`~lstmkit.forecast.training`, :mod:`~lstmkit.forecast.fused_step`: the training loop and
  the fused C++ training step of the plain LSTM forecaster.
- :mod:`~lstmkit.forecast.metrics`, :mod:`~lstmkit.forecast.report`,
  :mod:`~lstmkit.forecast.plots`, :mod:`~lstmkit.forecast.compare`: evaluation.
- :mod:`~lstmkit.forecast.panel`: many series (``unique_id, ds, y`` + covariates) and the
  :class:`~lstmkit.forecast.panel.model.GlobalForecaster` trained across them.
"""

from lstmkit.core.lazy import lazy_exports

_LAZY = {"Forecaster": "lstmkit.forecast.forecaster",
         "GlobalForecaster": "lstmkit.forecast.panel.model",
         **{name: "lstmkit.forecast.neural" for name in (
             "BaselineForecaster", "GRUForecaster", "LSTMForecaster", "MLPForecaster",
             "NeuralForecaster", "RNNForecaster")}}
__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
