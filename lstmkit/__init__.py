"""lstmkit: LSTM networks and their recurrent relatives.

The six LSTM equations, implemented so you can read them (:mod:`lstmkit.ref`), verified
against the fast frameworks (:mod:`lstmkit.nn`), trained fast and evaluated honestly — for
forecasting (:mod:`lstmkit.forecast`), sequence classification (:mod:`lstmkit.classify`) and
text (:mod:`lstmkit.text`), on one shared core (:mod:`lstmkit.core`).

The estimators are imported lazily, so ``import lstmkit.ref`` stays NumPy-only; they are
still listed by ``dir(lstmkit)`` and tab completion.
"""

from lstmkit.core.errors import LstmkitError
from lstmkit.core.lazy import lazy_exports
from lstmkit.core.version import __version__
from lstmkit.registry import MODEL_CLASSES  # name -> module; imports no model

_LAZY = {**MODEL_CLASSES, "Forecaster": "lstmkit.forecast.forecaster",
         "KneserNey": "lstmkit.text.ngram", "load": "lstmkit.registry"}

__all__ = ["LstmkitError", "__version__", *sorted(_LAZY)]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
