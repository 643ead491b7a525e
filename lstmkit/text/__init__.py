"""lstmkit.text: language models and text classification.

- :mod:`~lstmkit.text.data`: corpora (dante-corpora), tokenizer, vocabulary, labelled texts.
- :mod:`~lstmkit.text.language`: :class:`LanguageModel` (embedding, recurrent layers, softmax).
- :mod:`~lstmkit.text.ngram`: the Kneser-Ney baseline.
- :mod:`~lstmkit.text.training`: the language model's training loop.
- :mod:`~lstmkit.text.classifier`: :class:`TextClassifier` and its TF-IDF baseline.
"""

from lstmkit.text.classifier import TextClassifier
from lstmkit.text.language import LanguageModel
from lstmkit.text.ngram import KneserNey

__all__ = ["KneserNey", "LanguageModel", "TextClassifier"]
