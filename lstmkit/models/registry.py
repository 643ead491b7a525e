"""Name -> class tables used by ``lstmkit.load`` and the CLI (no pickling: classes by name)."""

from lstmkit.models.neural import (
    BaselineForecaster,
    GRUForecaster,
    LSTMForecaster,
    MLPForecaster,
    NeuralForecaster,
    RNNForecaster,
)

MODEL_CLASSES = {
    cls.__name__: cls
    for cls in (NeuralForecaster, LSTMForecaster, GRUForecaster, RNNForecaster, MLPForecaster,
                BaselineForecaster)
}


def _loader(module: str, name: str):
    """``path -> model`` for a class whose run directory has its own layout (lazy import)."""

    def load(path):
        import importlib

        return getattr(importlib.import_module(module), name).load(path)

    return load


# Classifiers and language models: config.json has no forecasting schema, so they load
# through their own ``load(path)``; ``lstmkit.load`` can dispatch on ``model_class`` here.
LOADERS = {
    "SequenceClassifier": _loader("lstmkit.models.classifier", "SequenceClassifier"),
    "TextClassifier": _loader("lstmkit.models.text_classifier", "TextClassifier"),
    "LanguageModel": _loader("lstmkit.models.language", "LanguageModel"),
}
