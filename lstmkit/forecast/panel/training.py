"""The global forecaster's training loop: sampled mini-batches, Adam, cosine schedule.

An epoch is ``steps_per_epoch`` mini-batches of windows drawn by
:class:`~lstmkit.forecast.panel.windows.WindowSampler` (no epoch enumerates every window:
100k series x their cut-offs would not fit a run). Every step goes through the divergence
guard; with validation windows, early stopping keeps the best epoch's weights.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from lstmkit.core import distributed
from lstmkit.core.checkpoint import resume_epoch, save_epoch
from lstmkit.core.device import on_device, resolve_device, to_device
from lstmkit.core.training import EpochLog, TrainResult, check_weights, guarded_step, torch_threads
from lstmkit.forecast.panel.windows import normalize

LOSSES = {"mse": F.mse_loss, "mae": F.l1_loss, "huber": F.smooth_l1_loss}


def pinball(pred: torch.Tensor, y: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Mean pinball loss of quantile forecasts ``pred`` (B, K, Q) of ``y`` (B, K)."""
    e = y.unsqueeze(-1) - pred  # (B, K, Q)
    return torch.maximum(q * e, (q - 1) * e).mean()


def batch_tensors(data, series: np.ndarray, y: np.ndarray, hist, futr, kind: str):
    """Network inputs and target of windows ``y`` (B, L+K) raw."""
    L = data.L
    z, _, _ = normalize(y, L, kind)
    f32 = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float32)
    inputs = (f32(z[:, :L]), f32(hist), f32(futr), f32(data.static[series]),
              torch.as_tensor(series, dtype=torch.long))
    return inputs, f32(z[:, L:])


def train_global(net, data, val, cfg, seed: int, run, on_epoch=None, desc="global",
                 checkpoint=None) -> TrainResult:
    """Train ``net`` in place on windows sampled from ``data``
    (:class:`~lstmkit.forecast.panel.model.TrainingData`); ``val``: (inputs, target) or None.
    ``checkpoint`` (:class:`~lstmkit.core.checkpoint.Checkpoint`): written after every
    epoch and, where it exists, continued from (bitwise the uninterrupted run)."""
    device = resolve_device(run.device)
    distributed.init(device)
    with on_device(net, device):
        return _train(net, data, to_device(val, device), cfg, seed, run, on_epoch, desc, device,
                      checkpoint)


def _train(net, data, val, cfg, seed, run, on_epoch, desc, device, checkpoint) -> TrainResult:
    """Under torchrun every rank draws the same union batch of ``batch_size`` x ranks
    windows and trains on its slice (:mod:`lstmkit.core.distributed`)."""
    from lstmkit.forecast.panel.windows import WindowSampler

    model = distributed.wrap(net, device)  # DDP under torchrun, else net itself
    W = distributed.world()
    torch.manual_seed(seed + distributed.rank())  # dropout: other masks on other ranks
    sampler = WindowSampler(data.flat, data.L, data.K, cfg.max_windows, seed)
    loss_fn = LOSSES[cfg.loss]
    if data.quantiles:  # the pinball loss of the quantile head replaces ``loss``
        q = torch.tensor(data.quantiles, dtype=torch.float32, device=device)
        loss_fn = lambda pred, y: pinball(pred, y, q)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=cfg.lr)
    steps = cfg.steps_per_epoch or max(1, math.ceil(sampler.count() / cfg.batch_size))
    total = cfg.epochs * steps
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    log = EpochLog(net, cfg.epochs, progress=run.progress and distributed.is_main(), desc=desc,
                   patience=cfg.patience,
                   restore_best=val is not None, on_epoch=on_epoch)
    first, start, stopped = None, 1, False
    if checkpoint is not None and checkpoint.exists():
        _, meta = resume_epoch(checkpoint, net, log, opt=opt)
        sched.load_state_dict(meta["sched"])
        sampler.rng.bit_generator.state = meta["sampler"]
        first, start, stopped = meta["first"], int(meta["epoch"]) + 1, bool(meta["stopped"])
    with torch_threads(run.threads or 1):
        for epoch in range(start, cfg.epochs + 1 if not stopped else start):
            net.train()
            seen = 0.0
            for step in range(1, steps + 1):
                series, (y, hist, futr) = sampler.draw(cfg.batch_size * W)  # the union batch
                mine, weight = distributed.shard(torch.arange(len(series)))
                mine = mine.numpy()  # this rank's slice
                inputs, target = to_device(batch_tensors(data, series[mine], y[mine],
                                                         hist[mine], futr[mine], data.kind),
                                           device)
                loss = loss_fn(model(*inputs), target) * weight
                value = distributed.union_mean(loss)  # the union batch's mean loss
                first = guarded_step(loss, opt, params, cfg.clip_norm, epoch, step, first,
                                     value=value)
                sched.step()
                seen += value
            row = {"epoch": epoch, "train_loss": seen / steps}
            check_weights(net, epoch, cfg.lr)
            if val is not None:
                net.eval()
                with torch.no_grad():
                    row["val_loss"] = float(loss_fn(net(*val[0]), val[1]))
            log.record(row)
            stop = log.stop()
            if checkpoint is not None:
                save_epoch(checkpoint, epoch, net, log, opt=opt, first=first, stopped=stop,
                           sched=sched.state_dict(), sampler=sampler.rng.bit_generator.state)
            if stop:
                break
    return log.result()
