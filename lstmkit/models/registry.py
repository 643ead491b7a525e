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
