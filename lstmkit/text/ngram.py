r"""Interpolated Kneser-Ney n-gram language model: the baseline of the LSTM language model.

Works on the same integer token stream (same vocabulary, same ``<unk>``, same ``<eos>``) as
:class:`~lstmkit.text.language.LanguageModel`, so the two perplexities are comparable.
For context :math:`h` of length n-1 and its shortened context :math:`h'`:

.. math::
    P(w \mid h) = \frac{\max(c(h w) - D_n, 0)}{c(h \cdot)}
                + \frac{D_n \, N_{1+}(h \cdot)}{c(h \cdot)} \, P(w \mid h')

with raw counts :math:`c` at the highest order and continuation counts
:math:`N_{1+}(\cdot\, h w)` (the number of distinct words seen before :math:`h w`) at the
lower orders; the unigram level is interpolated with the uniform distribution over the
vocabulary, and an unseen context backs off entirely to :math:`h'`. One discount per order,
:math:`D = n_1 / (n_1 + 2 n_2)` (Ney et al. 1994) from that order's counts of counts.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np

from lstmkit.core.errors import expected
from lstmkit.core.validate import positive_int


class KneserNey:
    """Interpolated Kneser-Ney of order ``order`` over ids ``0..vocab_size-1``."""

    def __init__(self, order: int = 3, vocab_size: int | None = None):
        positive_int("KneserNey", "order", order)
        self.order, self.vocab_size = order, vocab_size

    def fit(self, ids) -> KneserNey:
        """Count n-grams of the stream ``ids`` (1-d ints)."""
        ids = [int(i) for i in np.asarray(ids).reshape(-1)]
        if len(ids) < self.order:
            raise expected("KneserNey", f"a stream of at least {self.order} tokens", len(ids))
        V = self.vocab_size or (max(ids) + 1)
        self.vocab_size = V
        n = self.order
        grams = Counter(tuple(ids[i : i + n]) for i in range(len(ids) - n + 1))
        # tables[k]: context (k-1 ids) -> {w: count}; raw at order n, continuation below
        tables: list[dict] = [None] * (n + 1)
        tables[n] = _by_context(grams)
        higher = grams
        for k in range(n - 1, 0, -1):
            cont = Counter(g[1:] for g in higher)  # N1+(. g[1:])
            tables[k] = _by_context(cont)
            higher = set(cont)
        self.discounts = [0.0] * (n + 1)
        self.tables = [None] * (n + 1)
        for k in range(1, n + 1):
            cc = Counter(c for row in tables[k].values() for c in row.values())
            n1, n2 = cc.get(1, 0), cc.get(2, 0)
            self.discounts[k] = n1 / (n1 + 2 * n2) if n1 + n2 > 0 else 0.5
            self.tables[k] = {h: (np.fromiter(row.keys(), np.int64, len(row)),
                                  np.fromiter(row.values(), np.float64, len(row)))
                              for h, row in tables[k].items()}
        self._unigram = None
        self._unigram = self._prob_vector_order(1, ())
        return self

    def _prob_vector_order(self, k: int, h: tuple) -> np.ndarray:
        V = self.vocab_size
        if k == 0:
            return np.full(V, 1.0 / V)
        if k == 1 and getattr(self, "_unigram", None) is not None:
            return self._unigram
        lower = self._prob_vector_order(k - 1, h[1:])
        entry = self.tables[k].get(h)
        if entry is None:
            return lower
        words, counts = entry
        total, D = counts.sum(), self.discounts[k]
        p = lower * (D * len(words) / total)
        p[words] += np.maximum(counts - D, 0.0) / total
        return p

    def prob_vector(self, context) -> np.ndarray:
        """P(. | context) over the vocabulary (V,); only the last ``order-1`` ids are used."""
        self._check_fitted()
        h = tuple(int(i) for i in list(context)[-(self.order - 1):]) if self.order > 1 else ()
        return self._prob_vector_order(len(h) + 1, h)

    def _check_fitted(self):
        if not hasattr(self, "tables"):
            raise expected("KneserNey", "a fitted model", "an unfitted one")

    def nll(self, ids) -> tuple[float, int]:
        """Total negative log-likelihood (nats) of tokens 1..N-1, each given those before it."""
        self._check_fitted()
        ids = [int(i) for i in np.asarray(ids).reshape(-1)]
        total = 0.0
        for i in range(1, len(ids)):
            p = self.prob_vector(ids[max(0, i - self.order + 1) : i])[ids[i]]
            total -= math.log(max(p, 1e-300))
        return total, max(len(ids) - 1, 0)

    def perplexity(self, ids) -> float:
        total, count = self.nll(ids)
        return math.exp(total / max(count, 1))


def _by_context(counts: Counter) -> dict:
    out: dict = defaultdict(dict)
    for g, c in counts.items():
        out[g[:-1]][g[-1]] = c
    return dict(out)
