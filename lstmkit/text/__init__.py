"""lstmkit.text: language models and text classification.

- :mod:`~lstmkit.text.data`: corpora (dante-corpora), tokenizer, vocabulary, labelled texts.
- :mod:`~lstmkit.text.language`: :class:`LanguageModel` (embedding, recurrent layers, softmax).
- :mod:`~lstmkit.text.ngram`: the Kneser-Ney baseline.
- :mod:`~lstmkit.text.training`: the language model's training loop.
- :mod:`~lstmkit.text.classifier`: :class:`TextClassifier` and its TF-IDF baseline.
"""

_LAZY = {"TextClassifier": "lstmkit.text.classifier", "LanguageModel": "lstmkit.text.language",
         "KneserNey": "lstmkit.text.ngram"}
__all__ = sorted(_LAZY)


def __getattr__(name):  # imported on first use: the light config modules need no torch
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
