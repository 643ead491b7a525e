"""The adaptive softmax's pieces (Grave et al. 2017, ``torch.nn.AdaptiveLogSoftmaxWithLoss``).

Token ids are sorted by training frequency, so the ``shortlist`` most frequent tokens are
ids ``0 .. shortlist-1`` and are scored in the head beside one entry per cluster of rarer
tokens; a rare token costs its cluster's smaller layer only.

:class:`TiedHead` ties the head's token rows to the embedding (Press & Wolf 2017's tying,
for the frequent tokens that carry most of the probability mass): the scores of the
shortlist are ``x @ embedding[:shortlist].T``, the cluster entries have their own rows. The
cost is the untied head's; the frequent tokens' output vectors learn from their input uses
too.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def adaptive_cutoffs(V: int) -> list[int]:
    """The adaptive softmax's cluster bounds for V tokens (ids sorted by training frequency):
    a head of the V/8 most frequent (at least min(500, V/4), at most 4000), then clusters up
    to V/2 and V (``benchmarks/text_speed.py`` measures the speed it gives)."""
    head = max(1, min(4000, max(V // 8, min(500, V // 4))))
    return [c for c in (head, max(V // 2, 2 * head)) if c < V - 1]


class TiedHead(nn.Module):
    """The head layer of an adaptive softmax, (N, E) -> (N, shortlist + clusters) scores,
    whose shortlist rows are the embedding's first ``shortlist`` rows."""

    def __init__(self, embed: nn.Embedding, shortlist: int, n_clusters: int):
        super().__init__()
        self._embed = (embed,)  # a reference, not a submodule: the weight is saved once
        self.shortlist = shortlist
        self.cluster = nn.Parameter(torch.empty(n_clusters, embed.embedding_dim))  # (n, E)
        nn.init.uniform_(self.cluster, -0.1, 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = self._embed[0].weight[: self.shortlist]  # (S, E)
        return F.linear(x, torch.cat([rows, self.cluster]))  # (N, S + n)


def adaptive_softmax(embed: nn.Embedding, V: int, tied: bool) -> nn.AdaptiveLogSoftmaxWithLoss:
    """An adaptive softmax over V tokens reading E = the embedding width; with ``tied``, its
    head's token rows are the embedding's (:class:`TiedHead`)."""
    E = embed.embedding_dim
    # each tail cluster's width is E / div**i: keep it at least 1 on small embeddings
    div = 4.0 if E >= 64 else (2.0 if E >= 4 else 1.0)
    asm = nn.AdaptiveLogSoftmaxWithLoss(E, V, cutoffs=adaptive_cutoffs(V), div_value=div)
    if tied:
        asm.head = TiedHead(embed, asm.shortlist_size, asm.n_clusters)
    return asm
