r"""Long-time-lag tasks of Hochreiter & Schmidhuber (1997), the tasks LSTM was invented for.

Both generators return a :class:`LongLagBatch` of ``n`` variable-length sequences, padded
with zeros to the longest one; a model reads its output at each sequence's last real step
``lengths - 1`` (padding comes *after* the end, so a causal recurrent network never sees it
before that step). ``seed`` is an int, a sequence of ints or a ``numpy.random.Generator``
(which is then advanced); every call is deterministic in it.

**Adding problem** (paper, Experiment 4), :func:`adding_problem`. Each step is a pair
(value, marker): the value is drawn from U[-1, 1]; the length is drawn uniformly from
[T, T + T/10]. One pair among the first 10 (its value is X1) and one other pair among the
first T/2 - 1 (X2) are marked with 1.0; the first and the last pair carry marker -1.0. A
marked first pair has marker 1.0 instead, and if it holds X1, X1 is set to 0 as in the
paper (which says nothing of X2 there, so X2 keeps its value). All other markers are 0.
The target, given at the end, is ``0.5 + (X1 + X2) / 4`` in [0, 1]; a sequence counts as
correct when the absolute error is below 0.04. (X2 is drawn uniformly among the first
T/2 - 1 positions other than X1's: the same distribution as "re-draw until they differ".)

**Temporal order** (paper, Experiment 6a), :func:`temporal_order`. Symbols
``a b c d X Y B E`` one-hot encoded (8 inputs, in that order): the sequence starts with
``B``, ends with ``E`` and is otherwise made of random distractors ``a b c d``, except at two
positions ``t1`` and ``t2`` which hold ``X`` or ``Y``. The class (4) is the order of the two
relevant symbols: 0 = XX, 1 = XY, 2 = YX, 3 = YY. In the paper T = 100: lengths in
[100, 110], t1 in [10, 20], t2 in [50, 60]. For other T the positions scale with T:
t1 in [round(T/10), round(T/5)], t2 in [round(T/2), round(3T/5)], lengths in [T, T + T/10]
(0-based positions, ``B`` at position 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstmkit.core.errors import expected
from lstmkit.core.validate import positive_int

ADDING_TOLERANCE = 0.04  # |error| below this counts as correct (paper)
ORDER_SYMBOLS = ("a", "b", "c", "d", "X", "Y", "B", "E")  # one-hot order of the 8 inputs
ORDER_CLASSES = ("XX", "XY", "YX", "YY")
_SYM = {s: k for k, s in enumerate(ORDER_SYMBOLS)}

__all__ = [
    "ADDING_TOLERANCE",
    "ORDER_CLASSES",
    "ORDER_SYMBOLS",
    "LongLagBatch",
    "adding_problem",
    "order_positions",
    "temporal_order",
]


@dataclass
class LongLagBatch:
    """``n`` padded sequences of a long-time-lag task.

    * ``x`` (n, T_max, F) float32 inputs, zero after each sequence's end.
    * ``lengths`` (n,) int64: real length of each sequence (>= T).
    * ``y``: (n,) float32 targets (adding) or (n,) int64 classes (temporal order).
    * ``positions`` (n, 2) int64: the two relevant (marked) positions, 0-based.
    """

    x: np.ndarray
    lengths: np.ndarray
    y: np.ndarray
    positions: np.ndarray

    def __len__(self) -> int:
        return int(self.x.shape[0])


def _check(component: str, n, T, min_T: int) -> tuple[int, int]:
    positive_int(component, "n", n)
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < min_T:
        raise expected(component, f"T an integer >= {min_T}", repr(T))
    return int(n), int(T)


def _lengths(rng: np.random.Generator, n: int, T: int) -> np.ndarray:
    """(n,) lengths uniform in [T, T + T // 10]."""
    return rng.integers(T, T + T // 10 + 1, size=n).astype(np.int64)


def _pad_mask(lengths: np.ndarray) -> np.ndarray:
    """(n, T_max) bool: True on real steps."""
    return np.arange(int(lengths.max()))[None, :] < lengths[:, None]


def adding_problem(n: int, T: int = 100, seed: int = 0) -> LongLagBatch:
    """``n`` sequences of the adding problem with minimal length ``T`` (>= 12).

    Returns ``x`` (n, T_max, 2) with ``x[..., 0]`` the values and ``x[..., 1]`` the markers,
    ``y`` (n,) = 0.5 + (X1 + X2) / 4, ``positions`` (n, 2) = (position of X1, of X2).
    """
    n, T = _check("Adding problem", n, T, 12)
    rng = np.random.default_rng(seed)
    lengths = _lengths(rng, n, T)
    T_max = int(lengths.max())
    rows = np.arange(n)
    values = rng.uniform(-1.0, 1.0, size=(n, T_max))
    p1 = rng.integers(0, 10, size=n)  # X1 among the first 10 pairs
    m = T // 2 - 1  # X2 among the first T/2 - 1 pairs, other than p1
    inside = p1 < m
    p2 = np.floor(rng.random(n) * (m - inside)).astype(np.int64)
    p2 += inside & (p2 >= p1)  # skip p1: uniform over the remaining positions
    values[rows[p1 == 0], 0] = 0.0  # paper: X1 = 0 when the first pair is marked
    markers = np.zeros((n, T_max))
    markers[:, 0] = -1.0
    markers[rows, lengths - 1] = -1.0
    markers[rows, p1] = 1.0
    markers[rows, p2] = 1.0
    mask = _pad_mask(lengths)
    x = np.stack([values * mask, markers * mask], axis=-1).astype(np.float32)  # (n, T_max, 2)
    y = 0.5 + (values[rows, p1] + values[rows, p2]) / 4.0
    return LongLagBatch(x, lengths, y.astype(np.float32), np.stack([p1, p2], axis=1))


def order_positions(T: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Inclusive ranges of t1 and t2 for minimal length ``T``: (10, 20), (50, 60) at T = 100."""
    return (round(T / 10), round(T / 5)), (round(T / 2), round(3 * T / 5))


def temporal_order(n: int, T: int = 100, seed: int = 0) -> LongLagBatch:
    """``n`` sequences of the temporal order task (Experiment 6a) with minimal length ``T``
    (>= 10): ``x`` (n, T_max, 8) one-hot over :data:`ORDER_SYMBOLS`, ``y`` (n,) int64 class
    in 0..3 (:data:`ORDER_CLASSES`), ``positions`` (n, 2) = (t1, t2)."""
    n, T = _check("Temporal order", n, T, 10)
    rng = np.random.default_rng(seed)
    lengths = _lengths(rng, n, T)
    T_max = int(lengths.max())
    rows = np.arange(n)
    sym = rng.integers(0, 4, size=(n, T_max))  # distractors a b c d
    (lo1, hi1), (lo2, hi2) = order_positions(T)
    t1 = rng.integers(lo1, hi1 + 1, size=n)
    t2 = rng.integers(lo2, hi2 + 1, size=n)
    cls = rng.integers(0, 4, size=n)  # first symbol X/Y = cls // 2, second = cls % 2
    sym[rows, t1] = _SYM["X"] + cls // 2
    sym[rows, t2] = _SYM["X"] + cls % 2
    sym[:, 0] = _SYM["B"]
    sym[rows, lengths - 1] = _SYM["E"]
    x = np.eye(len(ORDER_SYMBOLS), dtype=np.float32)[sym]  # (n, T_max, 8)
    x *= _pad_mask(lengths)[..., None]
    return LongLagBatch(x, lengths, cls.astype(np.int64), np.stack([t1, t2], axis=1))
