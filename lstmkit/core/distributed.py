"""Data-parallel training under ``torchrun``: torch.distributed and DistributedDataParallel.

``torchrun --nproc-per-node N -m lstmkit fit ...`` starts N processes with ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK`` and a rendezvous in their environment. The training loops of
the global forecaster and of the classifiers see them, join the process group (gloo on the
CPU, nccl on CUDA) and wrap the network in ``DistributedDataParallel``, which averages the
gradients over the ranks in every backward pass.

**One step = one union batch.** Every rank draws the same union batch (the same seed, the
same sampler) of ``batch_size`` x N samples and trains on its own disjoint slice of it, with
its loss weighted by its slice's share, so the averaged gradient is exactly the gradient of
the union batch's mean loss: N processes run the single-process training with an N-times
larger batch (``tests/test_distributed.py`` checks one step against it). The losses the
divergence guard and the history see are the union batch's (an all-reduce per step), so
every rank takes the same decisions. Only rank 0 shows progress and writes the run
directory.
"""

from __future__ import annotations

import atexit
import importlib
import os

import torch

from lstmkit.core.errors import expected


def launched() -> bool:
    """Whether this process was started by torchrun (or another launcher) with N > 1."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def initialized() -> bool:
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized()


def init(device: torch.device) -> None:
    """Join the process group of a launched run (once): nccl on CUDA, gloo on the CPU."""
    if not launched() or initialized():
        return
    import torch.distributed as dist

    if not dist.is_available():
        raise expected("Distributed", "a torch build with torch.distributed", "none")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    # torch 2.13: importing torch._dynamo after the group exists (the first optimiser does)
    # keeps the group alive after destroy_process_group, and its gloo threads then outlive
    # the interpreter; about one process in twenty aborted at exit (SIGABRT, "terminate
    # called without an active exception"). Imported first, nothing holds the group.
    importlib.import_module("torch._dynamo")  # (a plain import would make torch local)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    atexit.register(leave)  # joins the gloo threads while Python is still alive


def leave() -> None:
    """Destroy the process group, if one is open (idempotent; registered at exit by
    :func:`init`, and called by the CLI when a command ends)."""
    if initialized():
        import torch.distributed as dist

        dist.destroy_process_group()


def rank() -> int:
    import torch.distributed as dist

    return dist.get_rank() if initialized() else int(os.environ.get("RANK", "0"))


def world() -> int:
    import torch.distributed as dist

    return dist.get_world_size() if initialized() else 1


def is_main() -> bool:
    """Rank 0 (or no distributed run): the process that reports and writes."""
    return rank() == 0


def barrier() -> None:
    """Wait for every rank (a no-op without a process group)."""
    if initialized():
        import torch.distributed as dist

        dist.barrier()


def refuse(component: str, what: str) -> None:
    """Refuse, under a launched run, a job that does not train data-parallel."""
    if launched():
        raise expected(component, "the global forecaster or a classifier under torchrun "
                       "(they train data-parallel)", what)


def wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``model`` in DistributedDataParallel when the process group has several ranks (the
    parameters are broadcast from rank 0), else ``model`` itself."""
    if world() < 2:
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def shard(idx: torch.Tensor) -> tuple[torch.Tensor, float]:
    """This rank's disjoint slice of the union batch ``idx``, and the weight of its mean
    loss (its share times the number of ranks) that makes the ranks' averaged gradient the
    union batch's."""
    W = world()
    if W < 2:
        return idx, 1.0
    part = torch.tensor_split(idx, W)[rank()]
    return part, part.numel() * W / idx.numel()


def union_mean(value: torch.Tensor) -> float:
    """The mean over the ranks of ``value`` (a scalar tensor): with :func:`shard`'s
    weights, the union batch's mean loss."""
    if world() < 2:
        return float(value.detach())
    import torch.distributed as dist

    v = value.detach().clone().reshape(1).to(torch.float64)
    dist.all_reduce(v)
    return float(v) / world()


def union_sum(values: list[float]) -> list[float]:
    """Element-wise sums over the ranks (epoch totals for the history)."""
    if world() < 2:
        return values
    import torch.distributed as dist

    on = "cuda" if dist.get_backend() == "nccl" else "cpu"  # nccl reduces GPU tensors only
    v = torch.tensor(values, dtype=torch.float64, device=on)
    dist.all_reduce(v)
    return v.tolist()
