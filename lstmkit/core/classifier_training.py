"""Training loop for classifiers: cross-entropy, AdamW, LR schedule, clipping, early stopping.

Like :func:`lstmkit.forecast.training.train`, no DataLoader: the padded dataset lives in
three tensors (inputs, lengths, labels); each epoch draws one permutation and slices
mini-batches, each trimmed to the longest sequence it holds. The model is called as
``model(x, lengths)`` and returns logits (B, K).
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from lstmkit.core import distributed
from lstmkit.core.augment import random_window
from lstmkit.core.checkpoint import resume_epoch, save_epoch
from lstmkit.core.config import ClassifyConfig, Execution
from lstmkit.core.device import on_device, resolve_device, to_device
from lstmkit.core.errors import expected
from lstmkit.core.training import (
    EpochLog,
    TrainResult,
    auto_threads,
    check_weights,
    guarded_step,
    torch_threads,
)


def threads_for(model: nn.Module, cfg: ClassifyConfig, threads: int = 0) -> int:
    """Torch threads for training ``model``: ``threads`` if > 0, else 1 for small models."""
    return auto_threads(model, threads, cfg.batch_size)


def make_scheduler(opt, cfg: ClassifyConfig, total_steps: int):
    """LR schedule stepped once per batch (None for ``constant``)."""
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(total_steps, 1))
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr,
                                                   total_steps=max(total_steps, 1))
    return None


def _batches(n: int, lengths: torch.Tensor, cfg: ClassifyConfig, gen) -> list:
    """Index tensors of one epoch's mini-batches. With ``bucket``: a random permutation is
    cut into pools of 50 batches, each pool sorted by length and sliced into batches, and the
    batch order shuffled, so a batch holds sequences of similar lengths."""
    perm = torch.randperm(n, generator=gen)
    bs = cfg.batch_size
    if not cfg.bucket:
        return [perm[i : i + bs] for i in range(0, n, bs)]
    out = []
    pool = 50 * bs
    for i in range(0, n, pool):
        chunk = perm[i : i + pool]
        chunk = chunk[torch.argsort(lengths[chunk], stable=True)]
        out.extend(chunk[j : j + bs] for j in range(0, chunk.numel(), bs))
    order = torch.randperm(len(out), generator=gen).tolist()
    return [out[k] for k in order]


def _batch(tensors, idx):
    """Slice (x, lengths, y) at ``idx`` and trim x to the longest sequence in the batch."""
    x, lengths, y = tensors
    lens = lengths[idx]
    T = int(lens.max())
    return x[idx, :T], lens, y[idx]


def train_classifier(model: nn.Module, train_data: tuple, val_data: tuple | None,
                     cfg: ClassifyConfig, seed: int = 0, desc: str = "train",
                     on_epoch=None, run: Execution | None = None,
                     checkpoint=None) -> TrainResult:
    """Train ``model`` in place on ``(x, lengths, y)`` tensors; returns history and kept epoch.

    An epoch is one pass over the training data, or ``steps_per_epoch`` mini-batches of a
    fresh random order when that is fewer. With ``random_crop`` each mini-batch is cut to
    random windows (:func:`lstmkit.core.augment.random_window`, its own generator per rank,
    so the batch order stays the same on every rank). History rows: ``epoch, train_loss,
    train_acc, lr`` (+ ``val_loss, val_acc``; the training figures over the sequences seen). With
    ``patience`` and a val split, training stops after ``patience`` epochs without a new best
    val loss and the best weights are restored. Fixed seed -> bitwise-identical on CPU.
    ``run``: threads and progress bar (defaults: :class:`lstmkit.core.config.Execution`).
    ``checkpoint`` (:class:`~lstmkit.core.checkpoint.Checkpoint`): written after every epoch
    and, where it exists, continued from (bitwise the uninterrupted run: the weights, AdamW's
    moments, the schedule, the batch-order, window and dropout generators, the history).
    """
    cfg.validate()
    run = run or Execution()
    device = resolve_device(run.device)
    distributed.init(device)
    with on_device(model, device):
        return _train(model, to_device(train_data, device), to_device(val_data, device), cfg,
                      seed, desc, on_epoch, run, device, checkpoint)


def _train(model, train_data, val_data, cfg, seed, desc, on_epoch, run, device, checkpoint):
    """Under torchrun an epoch's batches are union batches of ``batch_size`` x ranks
    sequences, each rank training on its slice (:mod:`lstmkit.core.distributed`)."""
    net, W = model, distributed.world()
    model = distributed.wrap(net, device)  # DDP under torchrun, else net itself
    n = int(train_data[2].shape[0])
    if n == 0:
        raise expected("Training", "at least one training sequence", 0)
    use_val = val_data is not None and int(val_data[2].shape[0]) > 0
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, foreach=True)
    union = replace(cfg, batch_size=cfg.batch_size * W)  # one step's sequences, all ranks
    per_epoch = math.ceil(n / union.batch_size)
    if cfg.steps_per_epoch is not None:
        per_epoch = min(per_epoch, cfg.steps_per_epoch)
    sched = make_scheduler(opt, cfg, cfg.epochs * per_epoch)
    gen = torch.Generator().manual_seed(seed)
    crops = torch.Generator().manual_seed(seed + 7919 * (distributed.rank() + 1))  # windows
    log = EpochLog(net, cfg.epochs, progress=run.progress and distributed.is_main(), desc=desc,
                   patience=cfg.patience, restore_best=cfg.patience is not None,
                   on_epoch=on_epoch)
    first, start, stopped = None, 1, False  # first: the divergence guard's yardstick
    gens = {"batches": gen, "crops": crops}
    if checkpoint is not None and checkpoint.exists():
        _, meta = resume_epoch(checkpoint, net, log, opt=opt, generators=gens)
        if sched is not None:
            sched.load_state_dict(meta["sched"])
        first, start, stopped = meta["first"], int(meta["epoch"]) + 1, bool(meta["stopped"])
    with torch_threads(threads_for(model, cfg, run.threads)):
        for epoch in range(start, cfg.epochs + 1 if not stopped else start):
            model.train()
            total, correct, steps, seen = 0.0, 0, 0, 0
            lr = opt.param_groups[0]["lr"]
            for idx in _batches(n, train_data[1].cpu(), union, gen)[:per_epoch]:
                if idx.numel() < W:  # too few to give every rank one (every rank skips it)
                    continue
                mine, weight = distributed.shard(idx)
                x, lens, y = _batch(train_data, mine.to(device))
                x, lens = random_window(x, lens, cfg.random_crop, crops, cfg.min_window)
                logits = model(x, lens)  # (B, K)
                loss = F.cross_entropy(logits, y, label_smoothing=cfg.label_smoothing) * weight
                value = distributed.union_mean(loss)  # the union batch's mean loss
                steps += 1
                first = guarded_step(loss, opt, params, cfg.clip_norm, epoch, steps, first,
                                     foreach=True, value=value)
                if sched is not None:
                    sched.step()
                total += value * idx.numel()
                correct += int((logits.detach().argmax(1) == y).sum())
                seen += idx.numel()
            correct = int(distributed.union_sum([correct])[0])
            check_weights(net, epoch, lr)
            row = {"epoch": epoch, "train_loss": total / seen, "train_acc": correct / seen,
                   "lr": lr}
            if use_val:
                row["val_loss"], row["val_acc"] = evaluate_classifier(net, val_data)
            log.record(row)
            stop = log.stop()
            if checkpoint is not None:
                save_epoch(checkpoint, epoch, net, log, opt=opt, generators=gens, first=first,
                           stopped=stop, sched=None if sched is None else sched.state_dict())
            if stop:
                break
    return log.result()


@torch.no_grad()
def predict_logits(model: nn.Module, x, lengths, batch_size: int = 512) -> torch.Tensor:
    """Logits (N, K) in eval mode, in batches (each trimmed to its longest sequence)."""
    was = model.training
    model.eval()
    order = torch.argsort(lengths, stable=True)  # similar lengths together: less padding
    outs = []
    for start in range(0, x.shape[0], batch_size):
        idx = order[start : start + batch_size]
        lens = lengths[idx]
        outs.append(model(x[idx, : int(lens.max())], lens))
    model.train(was)
    logits = torch.cat(outs, dim=0)
    return logits[torch.argsort(order)]  # back to the input order


@torch.no_grad()
def evaluate_classifier(model: nn.Module, data: tuple) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) on ``(x, lengths, y)``."""
    x, lengths, y = data
    logits = predict_logits(model, x, lengths)
    return float(F.cross_entropy(logits, y)), float((logits.argmax(1) == y).float().mean())
