"""lstmkit.forecast.panel: many series in long format, and one global model across them.

- :mod:`~.frame`: the long format (``unique_id, ds, y`` + futr / hist / static covariates),
  validated into a :class:`~.frame.Panel`;
- :mod:`~.windows`: windows sampled on the fly, each normalised by its own input;
- :mod:`~.network`, :mod:`~.training`: the global recurrent network and its loop;
- :mod:`~.model`: :class:`~.model.GlobalForecaster` (fit / predict / evaluate / save);
- :mod:`~.baselines`, :mod:`~.metrics`, :mod:`~.evaluation`: naive, seasonal naive, Naive2,
  AutoETS and AutoTheta, scored with M4's sMAPE, MASE and OWA.
"""
