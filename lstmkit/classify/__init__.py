"""lstmkit.classify: sequence classification.

- :mod:`~lstmkit.classify.data`: bundled sets (digits-rows, mnist1d, ucr:NAME), long CSVs.
- :mod:`~lstmkit.classify.classifier`: :class:`SequenceClassifier` (recurrent encoder, pooling,
  logits; the network is :class:`lstmkit.nn.sequence.SequenceNet`) and its 1-NN baseline.
- :mod:`~lstmkit.classify.plots`: confusion matrix and loss curves.

Seeds, metrics and the report table are shared with the text classifier through
:mod:`lstmkit.core.classifier`.
"""

from lstmkit.core.lazy import lazy_exports

_LAZY = {"SequenceClassifier": "lstmkit.classify.classifier"}
__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
