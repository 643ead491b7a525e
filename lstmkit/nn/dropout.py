"""Inverted dropout with the mask drawn by thresholding uniforms.

``torch.nn.Dropout`` draws its mask with ``bernoulli_``, which on the CPU costs about 3x a
uniform draw (2.5 ms against 0.85 ms on a (32, 35, 200) batch, 2 cores): a tenth of a
small language model's training step. :class:`ThresholdDropout` keeps each element when
``U >= p`` for ``U ~ Uniform[0, 1)``, which is ``Bernoulli(1 - p)`` exactly, and scales the
kept ones by ``1 / (1 - p)``, as ``torch.nn.Dropout``; in eval mode it is the identity.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class ThresholdDropout(nn.Module):
    """``torch.nn.Dropout(p)``'s distribution and scaling, a faster mask on the CPU."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"ThresholdDropout: expected 0 <= p < 1, got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.rand_like(x) >= self.p  # Bernoulli(1 - p), same shape as x
        return x * keep * (1.0 / (1.0 - self.p))

    def extra_repr(self) -> str:
        return f"p={self.p}"
