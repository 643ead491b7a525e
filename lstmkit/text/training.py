"""Language-model training: truncated BPTT over one long token stream.

The training stream is cut into ``batch_size`` contiguous columns (``batchify``); each step
reads the next ``bptt`` tokens of every column, predicts each following token, and carries
the recurrent state into the next step detached from the graph (so gradients flow back at
most ``bptt`` steps while the state flows through the whole stream). Adam, gradient
clipping, and the learning rate divided by 4 whenever the validation perplexity does not
improve (Zaremba et al. 2014 / Merity et al. 2017 style); the best-validation weights are kept.
Training stops, and says why, once the learning rate has decayed under ``min_lr``.
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch
from torch import nn

from lstmkit.core.checkpoint import resume_epoch, save_epoch
from lstmkit.core.config import Execution
from lstmkit.core.device import on_device, resolve_device, to_device
from lstmkit.core.errors import expected
from lstmkit.core.training import (
    EpochLog,
    TrainResult,
    check_weights,
    guarded_step,
    torch_threads,
)
from lstmkit.text.config import LMTrainConfig


def batchify(ids: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Stream (N,) -> (B, N // B): B contiguous columns (the remainder is dropped)."""
    n = ids.shape[0] // batch_size
    if n < 2:
        raise expected("LanguageModel", f"a training stream of at least {2 * batch_size} "
                       "tokens for this batch size", f"{ids.shape[0]} tokens")
    return ids[: n * batch_size].view(batch_size, n)


def detach(state):
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


@torch.no_grad()
def stream_nll(model: nn.Module, ids: torch.Tensor, chunk: int = 256) -> tuple[float, int]:
    """Total negative log-likelihood (nats) of tokens 1..N-1 of ``ids`` (N,), each predicted
    from every token before it (one sequence, state carried across chunks)."""
    was = model.training
    model.eval()
    data = ids.view(1, -1)
    state, total, count = None, 0.0, 0
    for i in range(0, data.shape[1] - 1, chunk):
        x = data[:, i : i + chunk]
        y = data[:, i + 1 : i + 1 + chunk]
        x = x[:, : y.shape[1]]
        nll, state = model.loss(x, y, state, reduction="sum")
        total += float(nll)
        count += y.numel()
    model.train(was)
    return total, count


def perplexity(model: nn.Module, ids: torch.Tensor) -> float:
    total, count = stream_nll(model, ids)
    return math.exp(total / max(count, 1))


def train_lm(model: nn.Module, train_ids: torch.Tensor, val_ids: torch.Tensor | None,
             cfg: LMTrainConfig, seed: int = 0, desc: str = "LM",
             run: Execution | None = None, on_epoch=None, checkpoint=None) -> TrainResult:
    """Train ``model`` (``model.loss(x (B, T), y (B, T), state) -> (mean nats, state)``) in
    place.

    History rows: ``epoch, train_ppl, lr`` (+ ``val_ppl``). With a validation stream the
    weights of the best validation epoch are restored at the end. ``run``: threads (0: torch's
    default) and progress bar. ``on_epoch(row)``: called with every history row.
    ``checkpoint`` (:class:`~lstmkit.core.checkpoint.Checkpoint`): written after every epoch
    and, where it exists, continued from (bitwise the uninterrupted run: the weights, Adam's
    moments and decayed learning rate, the dropout RNG, the history, a min_lr stop).
    """
    cfg.validate()
    run = run or Execution()
    device = resolve_device(run.device)
    with on_device(model, device):
        return _train(model, to_device(train_ids, device), to_device(val_ids, device), cfg,
                      seed, desc, run, on_epoch, checkpoint)


def _train(model, train_ids, val_ids, cfg, seed, desc, run, on_epoch, checkpoint) -> TrainResult:
    torch.manual_seed(seed)
    data = batchify(train_ids, cfg.batch_size)  # (B, N)
    params = [p for p in model.parameters() if p.requires_grad]
    # fused: one kernel for every parameter's update (a sixth of a small model's CPU step)
    opt = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)
    log = EpochLog(model, cfg.epochs, progress=run.progress, desc=desc, monitor="val_ppl",
                   restore_best=True, on_epoch=on_epoch)
    first, start, stop = None, 1, None  # first: the divergence guard's yardstick
    if checkpoint is not None and checkpoint.exists():
        _, meta = resume_epoch(checkpoint, model, log, opt=opt)  # opt: the decayed lr too
        first, start, stop = meta["first"], int(meta["epoch"]) + 1, meta["stop"]
    with torch_threads(run.threads):
        for epoch in range(start, cfg.epochs + 1 if stop is None else start):
            model.train()
            state, total, count, steps = None, 0.0, 0, 0
            for i in range(0, data.shape[1] - 1, cfg.bptt):
                x = data[:, i : i + cfg.bptt]  # (B, t)
                y = data[:, i + 1 : i + 1 + cfg.bptt]  # (B, t): the next tokens
                x = x[:, : y.shape[1]]
                loss, state = model.loss(x, y, detach(state))  # mean next-token nats
                steps += 1
                first = guarded_step(loss, opt, params, cfg.clip_norm, epoch, steps, first,
                                     foreach=True)
                total += float(loss.detach()) * y.numel()
                count += y.numel()
            check_weights(model, epoch, opt.param_groups[0]["lr"])
            row = {"epoch": epoch, "train_ppl": math.exp(min(total / count, 700.0)),
                   "lr": opt.param_groups[0]["lr"]}
            if val_ids is not None and val_ids.numel() > 1:
                row["val_ppl"] = perplexity(model, val_ids)
            if not log.record(row) and "val_ppl" in row:
                for g in opt.param_groups:  # no new best: decay the learning rate
                    g["lr"] *= cfg.lr_decay
                lr = opt.param_groups[0]["lr"]
                if lr < cfg.min_lr and epoch < cfg.epochs:
                    stop = (f"stopped after epoch {epoch} of {cfg.epochs}: the learning rate "
                            f"decayed to {lr:.3g}, under min_lr {cfg.min_lr:g} (best "
                            "validation epoch kept)")
            if checkpoint is not None:
                save_epoch(checkpoint, epoch, model, log, opt=opt, first=first, stop=stop)
            if stop is not None:
                break
    result = log.result()
    return result if stop is None else replace(result, stop_reason=stop)
