"""Class labels and stratified splits, shared by the sequence and the text classifier."""

from __future__ import annotations

import numpy as np

from lstmkit.core.errors import expected

_C = "Classification data"


def encode_labels(labels, classes: list[str] | None = None,
                  component: str = _C) -> tuple[np.ndarray, list[str]]:
    """Labels (any hashable) -> int indices and the sorted class names (as strings)."""
    names = np.asarray([str(v) for v in np.asarray(labels).reshape(-1)])
    if classes is None:
        uniq = sorted(set(names.tolist()), key=_natural_key)
        classes = list(uniq)
    lookup = {c: i for i, c in enumerate(classes)}
    unknown = sorted(set(names.tolist()) - set(lookup))
    if unknown:
        raise expected(component, f"labels among the training classes {classes[:10]}",
                       f"unknown label(s) {unknown[:5]}")
    return np.array([lookup[n] for n in names], dtype=np.int64), list(classes)


def _natural_key(s: str):
    try:
        return (0, float(s), s)
    except ValueError:
        return (1, 0.0, s)


def stratified_split(n_or_y, size, seed: int = 0, component: str = _C):
    """Indices (keep, held) with ``size`` (count or fraction) held out, stratified if possible."""
    from sklearn.model_selection import train_test_split

    y = np.asarray(n_or_y)
    n = len(y)
    if isinstance(size, float):
        if not 0.0 < size < 1.0:
            raise expected(component, "a split fraction in (0, 1) or a count", size)
        k = int(round(n * size))
    else:
        k = int(size)
    if not 1 <= k < n:
        raise expected(component, f"a split of 1..{n - 1} sequences", k)
    idx = np.arange(n)
    counts = np.bincount(y)
    strat = y if counts[counts > 0].min() >= 2 and k >= len(counts[counts > 0]) else None
    if strat is not None and n - k < len(counts[counts > 0]):
        strat = None
    keep, held = train_test_split(idx, test_size=k, random_state=seed, stratify=strat)
    return np.sort(keep), np.sort(held)


def check_two_classes(component: str, counts: list[int], classes: list[str],
                      what: str = "sequences") -> None:
    """A classifier needs two classes in its training part: with one it would score 100%."""
    present = [c for c, n in zip(classes, counts, strict=True) if n > 0]
    if len(present) < 2:
        raise expected(component, f"training {what} of at least 2 classes",
                       f"only class {present[0]!r}" if present else "none")
