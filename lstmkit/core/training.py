"""What every training loop does around its batches, for every job.

- :class:`EpochLog`: the progress bar, the history rows, the weights of the best epoch,
  early stopping, and the :class:`TrainResult`;
- :func:`torch_threads` / :func:`auto_threads`: one thread for small models (on a 2-core
  machine intra-op threading costs more than it gives for matmuls of a few thousand elements);
- :func:`seed_bar`: one bar over every epoch of every seed trained in worker processes.

The loops themselves live with their job (:mod:`lstmkit.forecast.training`,
:mod:`lstmkit.core.classifier_training`, :mod:`lstmkit.text.training`).
"""

from __future__ import annotations

import contextlib
import copy
import math
import sys
import time
from dataclasses import dataclass

import torch
from torch import nn

from lstmkit.core.errors import LstmkitError


class Diverged(LstmkitError):
    """Training produced a non-finite loss, gradient or weight: it stopped there."""


EXPLOSION = 1e6  # a step's loss this many times the first step's: diverged


def check_step(loss: float, epoch: int, step: int, lr: float,
               grad_norm: float | None = None, first: float | None = None) -> float:
    """``loss`` if it (and the gradient norm, where one was computed) is finite and, given the
    ``first`` step's loss, has not exploded past :data:`EXPLOSION` times it; else
    :class:`Diverged` with one line naming the epoch, the step and the learning rate.

    The explosion rule catches what stays finite: on scaled data an absurd learning rate
    drives the loss from ~1 to ~1e12 without a NaN (tanh saturates, the head does not)."""
    finite = math.isfinite(loss) and (grad_norm is None or math.isfinite(grad_norm))
    # the floor: a first loss near zero (a fixed linear skip that fits the data exactly)
    # would make any later rounding noise look like an explosion
    exploded = finite and first is not None and loss > EXPLOSION * max(first, 1e-3)
    if finite and not exploded:
        return loss
    if exploded:
        what = f"loss {loss:.3g} ({EXPLOSION:g} times the first step's {first:.3g})"
    else:
        what = f"loss {loss}" if not math.isfinite(loss) else f"gradient norm {grad_norm}"
    raise Diverged(f"Training: expected a finite, non-exploding loss, got {what} at epoch "
                   f"{epoch}, step {step} (lr {lr:g}): the training diverged; lower the "
                   "learning rate (lr) or clip the gradients (clip_norm)")


def guarded_step(loss, opt, params, clip_norm: float | None, epoch: int, step: int,
                 first: float | None, foreach: bool | None = None,
                 value: float | None = None) -> float:
    """One optimiser step on ``loss`` under the divergence guard (:func:`check_step` on the
    loss and, when clipping, on the gradient norm); returns the first step's loss.
    ``value``: the loss the guard checks (data-parallel: the union batch's), default
    ``loss``'s own."""
    value = float(loss.detach()) if value is None else value
    first = value if first is None else first
    lr = opt.param_groups[0]["lr"]
    check_step(value, epoch, step, lr, first=first)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if clip_norm is not None:
        norm = float(nn.utils.clip_grad_norm_(params, clip_norm, foreach=foreach))
        check_step(value, epoch, step, lr, norm)
    opt.step()
    return first


def check_weights(model: nn.Module, epoch: int, lr: float) -> None:
    """:class:`Diverged` if any weight of ``model`` is not finite (after an epoch)."""
    for name, p in model.named_parameters():
        if not bool(torch.isfinite(p).all()):
            raise Diverged(f"Training: expected finite weights, got NaN or inf in {name} after "
                           f"epoch {epoch} (lr {lr:g}): the training diverged; lower the "
                           "learning rate (lr) or clip the gradients (clip_norm)")


@dataclass
class TrainResult:
    history: list[dict]  # one row per epoch: epoch, train_loss, val_loss, grad_norm, clipped
    best_epoch: int  # epoch whose weights were kept (1-based)
    seconds: float
    stop_reason: str | None = None  # why training stopped before its last epoch, if it did


@contextlib.contextmanager
def torch_threads(n: int):
    """Temporarily set ``torch.set_num_threads(n)`` (n <= 0: leave as is)."""
    old = torch.get_num_threads()
    if n > 0:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def auto_threads(model: nn.Module | int, threads: int, batch_size: int) -> int:
    """``threads`` if > 0; else 1 thread for small models (measured faster on 2 cores) and
    torch's default (0) for large ones. ``model``: the network, or its number of weights
    (before it is built)."""
    if threads > 0:
        return threads
    n_params = model if isinstance(model, int) else sum(p.numel() for p in model.parameters())
    return 1 if n_params * batch_size < 50_000_000 else 0


def seed_bar(progress: bool, n_seeds: int, epochs: int, desc: str):
    """One tqdm bar over every epoch of every seed trained in worker processes (None when
    progress is off or stderr is no terminal)."""
    if not (progress and sys.stderr.isatty()):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=n_seeds * epochs, desc=desc, leave=False, dynamic_ncols=True)


class EpochLog:
    """What every training loop does around its batches (forecasters, classifiers, language
    models): the progress bar, the history rows, the weights of the best epoch by a validation
    metric, early stopping, and the :class:`TrainResult`.

    ``record(row)`` after each epoch (True when ``row[monitor]`` is a new best; also passes
    the row to ``on_epoch``, which a seed worker uses to report progress); ``stop()`` once
    ``patience`` epochs passed without one; ``result()`` at the end restores the best
    weights when ``restore_best`` and puts the model in eval mode.
    """

    def __init__(self, model: nn.Module, epochs: int, *, progress: bool, desc: str,
                 monitor: str = "val_loss", patience: int | None = None,
                 restore_best: bool = False, on_epoch=None):
        self.model, self.monitor, self.patience = model, monitor, patience
        self.restore_best, self.on_epoch = restore_best, on_epoch
        self.history: list[dict] = []
        self.best: tuple[float, int, dict | None] = (math.inf, 0, None)  # value, epoch, state
        self.bar = None
        if progress and sys.stderr.isatty():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=epochs, desc=desc, leave=False, dynamic_ncols=True)
        self.t0 = time.perf_counter()

    def record(self, row: dict) -> bool:
        value = row.get(self.monitor)
        improved = value is not None and value < self.best[0]
        if improved:
            self.best = (value, row["epoch"], copy.deepcopy(self.model.state_dict()))
        self.history.append(row)
        if self.on_epoch is not None:
            self.on_epoch(row)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in row.items() if k != "epoch"})
        return improved

    def stop(self) -> bool:
        last = self.history[-1]
        return (self.patience is not None and self.monitor in last
                and last["epoch"] - self.best[1] >= self.patience)

    # ---------------------------------------------------------------- checkpoints
    def state(self) -> tuple[dict, dict]:
        """(tensors, JSON-able meta) to checkpoint: the best epoch's weights, the history."""
        value, epoch, best = self.best
        tensors = {f"best.{k}": v for k, v in (best or {}).items()}
        meta = {"history": self.history, "best_value": value, "best_epoch": epoch,
                "has_best": best is not None, "seconds": time.perf_counter() - self.t0}
        return tensors, meta

    def restore(self, tensors: dict, meta: dict) -> None:
        """Continue from a checkpoint's :meth:`state` (the bar jumps to its epoch)."""
        self.history = list(meta["history"])
        best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
        self.best = (meta["best_value"], meta["best_epoch"], best if meta["has_best"] else None)
        self.t0 = time.perf_counter() - meta["seconds"]
        if self.bar is not None:
            self.bar.update(len(self.history))

    def result(self) -> TrainResult:
        if self.bar is not None:
            self.bar.close()
        best_epoch = self.history[-1]["epoch"]
        if self.restore_best and self.best[2] is not None:
            self.model.load_state_dict(self.best[2])
            best_epoch = self.best[1]
        self.model.eval()
        return TrainResult(self.history, best_epoch, time.perf_counter() - self.t0)
