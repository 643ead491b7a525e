"""lstmkit.text: language models and text classification.

- :mod:`~lstmkit.text.data`: corpora (dante-corpora), tokenizer, vocabulary, labelled texts.
- :mod:`~lstmkit.text.language`: :class:`LanguageModel` (embedding, recurrent layers, softmax).
- :mod:`~lstmkit.text.ngram`: the Kneser-Ney baseline.
- :mod:`~lstmkit.text.training`: the language model's training loop.
- :mod:`~lstmkit.text.classifier`: :class:`TextClassifier` and its TF-IDF baseline.
"""

from lstmkit.core.lazy import lazy_exports

_LAZY = {"TextClassifier": "lstmkit.text.classifier", "LanguageModel": "lstmkit.text.language",
         "KneserNey": "lstmkit.text.ngram"}
__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
