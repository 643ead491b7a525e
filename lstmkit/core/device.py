"""Where a network trains and predicts: ``device="auto" | "cpu" | "cuda"`` (an execution
setting: never saved with a model).

``auto`` picks CUDA when torch sees a GPU, else the CPU. On CUDA the recurrent layers run
cuDNN through ``torch.nn.LSTM / GRU / RNN`` (the fused C++ training step is CPU-only and steps
aside), the training tensors move to the GPU once, and the network comes back to the CPU when
training ends, so saving, streaming and ONNX export never see a GPU tensor.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch

from lstmkit.core.errors import expected

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> torch.device:
    """The ``torch.device`` of ``name``; "cuda" where torch has no GPU is refused."""
    if name not in DEVICES:
        raise expected("Device", "auto, cpu or cuda", repr(name))
    cuda = torch.cuda.is_available()
    if name == "cuda" and not cuda:
        build = "a CPU build" if torch.version.cuda is None else "no GPU visible"
        raise expected("Device", "auto or cpu (torch sees no CUDA GPU here)",
                       f"cuda with torch {torch.__version__}, {build}")
    if name == "cuda" or (name == "auto" and cuda):
        import os

        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))  # torchrun: one each
    return torch.device("cpu")


def to_device(tensors, device: torch.device):
    """``tensors`` (a tuple, possibly nested, of tensors) on ``device``; None stays None."""
    if tensors is None:
        return None
    if isinstance(tensors, torch.Tensor):
        return tensors.to(device, non_blocking=True)
    return type(tensors)(to_device(t, device) for t in tensors)


@contextmanager
def on_device(module: torch.nn.Module, device: torch.device):
    """Run ``module`` on ``device`` inside the block; it is back on the CPU afterwards."""
    if device.type == "cpu":
        yield module
        return
    module.to(device)
    try:
        yield module
    finally:
        module.cpu()
