"""Training loop: Adam on tensors that hold the whole windowed dataset.

No DataLoader: each epoch draws one permutation and slices mini-batches out of
the tensors, which removes the per-sample ``__getitem__`` + collate overhead
that dominates small recurrent models. Small models also run on one thread:
on a 2-core machine, intra-op threading costs more than it gives for matmuls of
a few thousand elements (``benchmarks/gas_furnace_speed.py`` measures both).
A plain LSTM forecaster's step (forward, loss, BPTT, Adam) runs as one call of the fused
C++ kernel of :mod:`lstmkit.forecast.fused_step` when it is available
(``ForecastExecution.kernel``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from lstmkit.core.device import on_device, resolve_device, to_device
from lstmkit.core.errors import expected
from lstmkit.core.training import (
    EpochLog,
    TrainResult,
    auto_threads,
    check_step,
    check_weights,
    torch_threads,
)
from lstmkit.forecast.config import ForecastExecution, TrainConfig

LOSSES = {
    "mse": F.mse_loss,
    "mae": F.l1_loss,
    "huber": F.huber_loss,
}


def train(
    model: nn.Module,
    train_xy: tuple[torch.Tensor, ...],
    val_xy: tuple[torch.Tensor, ...] | None,
    cfg: TrainConfig,
    seed: int = 0,
    desc: str = "train",
    on_epoch=None,
    run: ForecastExecution | None = None,
    checkpoint=None,
) -> TrainResult:
    """Train ``model`` in place; returns the history and the kept epoch.

    ``train_xy`` / ``val_xy`` are tuples of tensors whose first axis is the sample axis;
    the last one is the target and the others are the model's inputs
    (``model(*inputs)``). With ``cfg.patience`` set and a validation split, training
    stops after ``patience`` epochs without a new best validation loss and the best
    weights are restored. A fixed ``seed`` gives bitwise-identical results on CPU.
    ``on_epoch(row)``, if given, is called with each epoch's history row. ``run``: threads,
    progress bar and kernel (defaults: :class:`ForecastExecution`). ``checkpoint``
    (:class:`lstmkit.core.checkpoint.Checkpoint`), if given, is written after every epoch and,
    where it exists, continued from: the resumed run is bitwise the uninterrupted one.
    """
    cfg.validate()
    run = (run or ForecastExecution()).validate()
    device = resolve_device(run.device)
    with on_device(model, device):
        return _train(model, to_device(train_xy, device), to_device(val_xy, device), cfg, seed,
                      desc, on_epoch, run, checkpoint, device)


def _train(model, train_xy, val_xy, cfg, seed, desc, on_epoch, run, checkpoint, device):
    loss_fn = LOSSES[cfg.loss]
    *inputs, target = train_xy
    n = target.shape[0]
    if n == 0:
        raise expected("Training", "at least one training window", 0)
    gen = torch.Generator().manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    use_val = val_xy is not None and val_xy[-1].shape[0] > 0
    fused = fused_step(model, train_xy, cfg, run.kernel)  # None: autograd + torch.optim.Adam
    if fused is None:
        opt = torch.optim.Adam(params, lr=cfg.lr, fused=True)  # one kernel per step
    log = EpochLog(model, cfg.epochs, progress=run.progress, desc=desc, patience=cfg.patience,
                   restore_best=cfg.patience is not None, on_epoch=on_epoch)
    first, start, stopped = None, 1, False  # first: the divergence guard's yardstick
    if checkpoint is not None and checkpoint.exists():
        first, start, stopped = _resume(checkpoint, model, fused, opt if fused is None else
                                        None, gen, log)
    with torch_threads(auto_threads(model, run.threads, cfg.batch_size)):
        for epoch in range(start, cfg.epochs + 1 if not stopped else start):
            model.train()
            perm = torch.randperm(n, generator=gen)
            total, norms, clipped, steps = 0.0, 0.0, 0, 0
            for start in range(0, n, cfg.batch_size):
                idx = perm[start : start + cfg.batch_size]
                if fused is not None:  # the same step in one C++ call
                    loss_value, norm = fused.step(idx)
                else:
                    at = idx.to(device)
                    pred = model(*(t[at] for t in inputs))
                    loss = loss_fn(pred, target[at])
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    norm = math.nan
                    if cfg.clip_norm is not None:
                        norm = float(nn.utils.clip_grad_norm_(params, cfg.clip_norm,
                                                              foreach=True))
                    opt.step()
                    loss_value = float(loss.detach())
                steps += 1
                first = loss_value if first is None else first
                check_step(loss_value, epoch, steps, cfg.lr,
                           norm if cfg.clip_norm is not None else None, first)
                if cfg.clip_norm is not None:
                    clipped += norm > cfg.clip_norm
                    norms += norm
                total += loss_value * idx.numel()
            row = {"epoch": epoch, "train_loss": total / n}
            if cfg.clip_norm is not None:
                row["grad_norm"] = norms / steps
                row["clipped"] = clipped / steps
            check_weights(model, epoch, cfg.lr)
            if use_val:
                row["val_loss"] = evaluate_loss(model, val_xy, cfg.loss)
            log.record(row)
            stop = log.stop()
            if checkpoint is not None:
                _save(checkpoint, epoch, model, fused, opt if fused is None else None, gen, log,
                      first, stop)
            if stop:
                break
    return log.result()


def _save(checkpoint, epoch, model, fused, opt, gen, log, first, stopped) -> None:
    """:func:`~lstmkit.core.checkpoint.save_epoch`, with the fused step's moments when it
    replaces ``torch.optim.Adam``."""
    from lstmkit.core.checkpoint import save_epoch

    tensors, meta = {}, {"first": first, "stopped": stopped}
    if fused is not None:
        tensors |= {f"fused.m{i}": m for i, m in enumerate(fused.m)}
        tensors |= {f"fused.v{i}": v for i, v in enumerate(fused.v)}
        meta["fused_t"] = fused.t
    save_epoch(checkpoint, epoch, model, log, opt=opt, generators={"batches": gen},
               tensors=tensors, **meta)


def _resume(checkpoint, model, fused, opt, gen, log):
    from lstmkit.core.checkpoint import resume_epoch

    tensors, meta = resume_epoch(checkpoint, model, log, opt=opt, generators={"batches": gen})
    if fused is not None:
        for i in range(len(fused.m)):
            fused.m[i].copy_(tensors[f"fused.m{i}"])
            fused.v[i].copy_(tensors[f"fused.v{i}"])
        fused.t = int(meta["fused_t"])
    return meta["first"], int(meta["epoch"]) + 1, bool(meta["stopped"])


def fused_step(model: nn.Module, train_xy: tuple, cfg: TrainConfig, kernel: str = "auto"):
    """A :class:`lstmkit.forecast.fused_step.FusedStep` for ``model`` when ``kernel`` is
    auto, the network is a plain LSTM -> Linear forecaster and the C++ kernel builds; else
    None (autograd + ``torch.optim.Adam``)."""
    if kernel != "auto" or len(train_xy) != 3:
        return None
    from lstmkit.forecast import fused_step as fs

    if not fs.supports(model, cfg.loss) or fs.load() is None:
        return None
    x, last, y = train_xy
    if getattr(model, "skip", None) is not None:  # the kernel trains on what the fixed skip misses
        with torch.no_grad():
            y = y - model.skip(x)  # (B, K, D)
    return fs.FusedStep(model, x, last, y, cfg.lr, cfg.loss, cfg.clip_norm)


@torch.no_grad()
def evaluate_loss(model: nn.Module, xy: tuple[torch.Tensor, ...], loss: str = "mse") -> float:
    """Mean loss of ``model`` over all samples in ``xy`` (eval mode, no grad)."""
    was_training = model.training
    model.eval()
    *inputs, target = xy
    value = float(LOSSES[loss](model(*inputs), target))
    model.train(was_training)
    return value
