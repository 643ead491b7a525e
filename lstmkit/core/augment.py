"""Training-time augmentation for sequence classifiers: random windows (window slicing).

Window slicing (Le Guennec, Malinowski and Tavenard 2016) trains on random sub-sequences so a
small training set shows the network many shifted views of each series; prediction still
reads whole sequences. ``random_window`` cuts one mini-batch:

* one fraction ``keep`` per batch, uniform in ``[1 - crop, 1]``, so sequences of one length
  stay of one length (no packing on the fast path);
* each sequence keeps ``ceil(keep * length)`` steps, never fewer than ``min(length,
  min_steps)``: short sequences are cut less, or not at all;
* each window starts at its own uniform offset inside the sequence's valid steps.
"""

from __future__ import annotations

import torch
from torch import Tensor


def random_window(x: Tensor, lengths: Tensor, crop: float, gen: torch.Generator,
                  min_steps: int = 1) -> tuple[Tensor, Tensor]:
    """Random windows of the sequences ``x`` (B, T, C) with valid ``lengths`` (B,): returns
    the windows (B, T', C), zero after each window's end, and their lengths (B,). ``crop``:
    the largest fraction of a sequence dropped (0: ``x`` unchanged); ``gen``: a CPU
    generator, so the windows are reproducible."""
    if crop <= 0:
        return x, lengths
    B, T, C = x.shape
    keep = 1.0 - crop * float(torch.rand((), generator=gen))
    n = lengths.cpu().to(torch.int64)  # (B,)
    floor = n.clamp(max=min_steps)  # (B,) never cut below this
    new = torch.maximum(torch.ceil(n.to(torch.float64) * keep).to(torch.int64), floor)
    start = (torch.rand(B, generator=gen, dtype=torch.float64) * (n - new + 1)).to(torch.int64)
    W = int(new.max())
    t = torch.arange(W).unsqueeze(0)  # (1, W)
    src = (start.unsqueeze(1) + t).clamp(max=T - 1).to(x.device)  # (B, W) source steps
    out = x.gather(1, src.unsqueeze(2).expand(B, W, C))  # (B, W, C)
    valid = (t < new.unsqueeze(1)).to(x.device)  # (B, W)
    return out * valid.unsqueeze(2).to(x.dtype), new.to(lengths.device)
