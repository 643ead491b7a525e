"""lstmkit.classify: sequence classification.

- :mod:`~lstmkit.classify.data`: bundled sets (digits-rows, mnist1d, ucr:NAME), long CSVs.
- :mod:`~lstmkit.classify.classifier`: :class:`SequenceClassifier` (recurrent encoder, pooling,
  logits; the network is :class:`lstmkit.nn.sequence.SequenceNet`) and its 1-NN baseline.
- :mod:`~lstmkit.classify.plots`: confusion matrix and loss curves.

Seeds, metrics and the report table are shared with the text classifier through
:mod:`lstmkit.core.classifier`.
"""

_LAZY = {"SequenceClassifier": "lstmkit.classify.classifier"}
__all__ = sorted(_LAZY)


def __getattr__(name):  # imported on first use: the light config modules need no torch
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
