"""lstmkit.training: the Adam training loop on in-memory tensors."""

from lstmkit.training.trainer import TrainConfig, TrainResult, evaluate_loss, train

__all__ = ["TrainConfig", "TrainResult", "evaluate_loss", "train"]
