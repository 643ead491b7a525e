"""Labelled sequence data for classification: arrays, long CSVs and bundled sets.

A :class:`SequenceSet` holds N sequences of C channels, padded to a common length T:
``X`` (N, T, C) float32 (zeros after each sequence's end), ``lengths`` (N,) int64 and
``y`` (N,) int64 class indices into ``classes``. A :class:`ClassificationData` pairs a
training set with an optional test set (its own split, when the source has one).

Sources accepted by :func:`load_classification`:

* ``"digits-rows"``: scikit-learn's 8×8 handwritten digits, each image read as 8 steps of
  8 features (the course's "MNIST rows" classifier on a dataset that ships offline);
  1797 images, a fixed stratified 75/25 split (seed 0).
* ``"mnist1d"``: MNIST-1D (Greydanus 2020) generated locally by the ``mnist1d`` package with
  its default arguments: 4000 train / 1000 test sequences of 40 steps, 10 classes.
* ``"ucr:NAME"``: a UCR/UEA archive set shipped inside the ``aeon`` or ``sktime`` wheel
  (e.g. ``ucr:GunPoint``, ``ucr:JapaneseVowels``), with the archive's own train/test split.
  Optional: install ``aeon`` (or ``sktime``) with ``pip install --no-deps``; lstmkit only
  reads the ``.ts`` files, it never imports the package.
* a CSV path in long format: one row per time step, columns ``id, t, <channels...>, label``
  (``t`` orders the steps of one sequence; the label must be constant within an id).
* ``(X, y)`` arrays: X (N, T, C) or (N, T), or a list of (T_i, C) arrays of varying length.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstmkit.core.errors import LstmkitError, expected, shape_str
from lstmkit.core.labels import _natural_key, encode_labels, stratified_split  # noqa: F401

__all__ = [
    "ClassificationData", "SequenceSet", "is_bundled", "list_classification_datasets",
    "load_classification", "pad_sequences", "read_long_csv", "read_ts", "sequences_from",
    "stratified_split",
]

_C = "Classification data"

BUNDLED = {
    "digits-rows": "scikit-learn 8x8 digits, 8 steps x 8 features, 10 classes (1347/450)",
    "mnist1d": "MNIST-1D generated locally, 40 steps x 1 channel, 10 classes (4000/1000)",
    "ucr:NAME": "a UCR/UEA set shipped in the aeon or sktime wheel (e.g. ucr:GunPoint)",
}


@dataclass
class SequenceSet:
    """Padded sequences: ``X`` (N, T, C) float32, ``lengths`` (N,), ``y`` (N,) or None."""

    X: np.ndarray
    lengths: np.ndarray
    y: np.ndarray | None = None
    ids: list | None = None

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def subset(self, idx) -> SequenceSet:
        idx = np.asarray(idx)
        T = int(self.lengths[idx].max()) if len(idx) else self.X.shape[1]
        return SequenceSet(self.X[idx, :T], self.lengths[idx],
                           None if self.y is None else self.y[idx],
                           None if self.ids is None else [self.ids[i] for i in idx])


@dataclass
class ClassificationData:
    """A training set, an optional test set (the source's own split) and the class names."""

    train: SequenceSet
    test: SequenceSet | None
    classes: list[str]
    channels: list[str]
    name: str = "data"


def is_bundled(name: str) -> bool:
    """Whether ``name`` names a bundled set (``digits-rows``, ``mnist1d``, ``ucr:NAME``)."""
    return name in ("digits-rows", "mnist1d") or name.startswith("ucr:")


def list_classification_datasets() -> list[tuple[str, str]]:
    return list(BUNDLED.items())


# ------------------------------------------------------------------ padding
def pad_sequences(seqs, component: str = _C) -> tuple[np.ndarray, np.ndarray]:
    """List of (T_i, C) arrays -> ``X`` (N, max T_i, C) float32 zero-padded, ``lengths``."""
    if len(seqs) == 0:
        raise expected(component, "at least one sequence", "none")
    arrs = []
    for i, s in enumerate(seqs):
        a = np.asarray(s, dtype=np.float32)
        if a.ndim == 1:
            a = a[:, None]  # (T, 1)
        if a.ndim != 2 or a.shape[0] == 0:
            raise expected(component, "each sequence of shape (T >= 1, C)",
                           f"{shape_str(a.shape)} at index {i}")
        arrs.append(a)
    C = arrs[0].shape[1]
    if any(a.shape[1] != C for a in arrs):
        bad = next(a.shape for a in arrs if a.shape[1] != C)
        raise expected(component, f"every sequence with C={C} channels", shape_str(bad))
    lengths = np.array([a.shape[0] for a in arrs], dtype=np.int64)
    X = np.zeros((len(arrs), int(lengths.max()), C), dtype=np.float32)  # (N, T, C)
    for i, a in enumerate(arrs):
        X[i, : a.shape[0]] = a
    if not np.isfinite(X).all():
        raise expected(component, "finite values", "NaN or inf")
    return X, lengths


def sequences_from(X, lengths=None, component: str = _C) -> SequenceSet:
    """An array (N, T, C) / (N, T), or a list of (T_i, C) arrays -> :class:`SequenceSet`."""
    if isinstance(X, SequenceSet):
        return X
    if isinstance(X, (list, tuple)):
        Xp, lens = pad_sequences(X, component)
        return SequenceSet(Xp, lens)
    a = np.asarray(X)
    if a.dtype == object or not np.issubdtype(a.dtype, np.number):
        raise expected(component, "numeric sequences", f"dtype {a.dtype}")
    a = a.astype(np.float32)
    if a.ndim == 2:
        a = a[:, :, None]  # (N, T, 1)
    if a.ndim != 3 or 0 in a.shape:
        raise expected(component, "X of shape (N, T, C) or (N, T)", shape_str(a.shape))
    if lengths is None:
        lens = np.full(a.shape[0], a.shape[1], dtype=np.int64)
    else:
        lens = np.asarray(lengths, dtype=np.int64).reshape(-1)
        if lens.shape[0] != a.shape[0] or (lens < 1).any() or (lens > a.shape[1]).any():
            raise expected(component, f"N={a.shape[0]} lengths in [1, T={a.shape[1]}]",
                           f"{lens.shape[0]} lengths in [{lens.min()}, {lens.max()}]")
    mask = np.arange(a.shape[1])[None, :] < lens[:, None]  # (N, T)
    if not np.isfinite(a[mask]).all():
        raise expected(component, "finite values", "NaN or inf")
    a = np.where(mask[:, :, None], a, 0.0).astype(np.float32)  # padding is zero
    return SequenceSet(a, lens)


# ------------------------------------------------------------------ long CSV
def read_long_csv(path, component: str = _C):
    """Long CSV ``id, t, channels..., label`` -> (SequenceSet with ids, raw labels, channels).

    Columns are found by name (``id``, ``t``, ``label``; every other column is a channel).
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise expected(component, "an existing CSV file or a bundled name "
                       "(digits-rows, mnist1d, ucr:NAME)", f"'{path}'")
    try:
        frame = pd.read_csv(path)
    except Exception as err:  # pandas raises many types
        raise expected(component, "a readable CSV", f"{type(err).__name__}: {err}") from None
    cols = [str(c) for c in frame.columns]
    frame.columns = cols
    missing = [c for c in ("id", "t") if c not in cols]
    if missing:
        raise expected(component, "long-format columns id, t, <channels...>[, label]",
                       f"columns {cols[:8]} (missing {', '.join(missing)})")
    channels = [c for c in cols if c not in ("id", "t", "label")]
    if not channels:
        raise expected(component, "at least one channel column besides id, t, label", cols)
    values = frame[channels]
    bad = [c for c in channels if not pd.api.types.is_numeric_dtype(values[c])]
    if bad:
        raise expected(component, "numeric channel columns", f"non-numeric {bad[:5]}")
    frame = frame.sort_values(["id", "t"], kind="stable")
    seqs, labels, ids = [], [], []
    for key, grp in frame.groupby("id", sort=False):
        seqs.append(grp[channels].to_numpy(np.float32))  # (T_i, C)
        ids.append(key)
        if "label" in cols:
            lab = grp["label"].astype(str).unique()
            if len(lab) != 1:
                raise expected(component, "one label per id", f"{list(lab)[:3]} for id {key}")
            labels.append(lab[0])
    X, lens = pad_sequences(seqs, component)
    return SequenceSet(X, lens, ids=ids), (labels if "label" in cols else None), channels


# ------------------------------------------------------------------ UCR .ts files
def _ucr_dir(name: str) -> Path:
    for pkg in ("aeon", "sktime"):
        spec = importlib.util.find_spec(pkg)  # finds the package without importing it
        if spec is None or not spec.submodule_search_locations:
            continue
        d = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / name
        if (d / f"{name}_TRAIN.ts").is_file():
            return d
    have = _ucr_available()
    if not have:
        raise LstmkitError(
            f"{_C}: expected the aeon or sktime package for ucr:{name} "
            "(pip install --no-deps aeon), got neither installed")
    raise expected(_C, "a UCR/UEA set shipped with aeon/sktime: " + ", ".join(have),
                   repr(name))


def _ucr_available() -> list[str]:
    out: set[str] = set()
    for pkg in ("aeon", "sktime"):
        spec = importlib.util.find_spec(pkg)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
        out.update(p.parent.name for p in root.glob("*/*_TRAIN.ts")
                   if p.name == f"{p.parent.name}_TRAIN.ts")
    return sorted(out)


def read_ts(path) -> tuple[list[np.ndarray], list[str]]:
    """Parse a ``.ts`` file of the UCR/UEA archive: (list of (T_i, C) arrays, labels).

    Each data line is ``dim0:dim1:...:label`` with comma-separated values per dimension;
    ``?`` (missing) is read as NaN and trailing NaNs are cut (unequal lengths).
    """
    seqs, labels, in_data, has_label = [], [], False, True
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                low = line.lower()
                if low.startswith("@classlabel"):
                    has_label = low.split()[1] == "true"
                if low.startswith("@timestamps") and low.split()[1] == "true":
                    raise expected(_C, ".ts files without timestamps", str(path))
                in_data = low.startswith("@data")
                continue
            parts = line.split(":")
            dims = parts[:-1] if has_label else parts
            cols = [np.array([np.nan if v.strip() in ("?", "") else float(v)
                              for v in d.split(",")]) for d in dims]
            T = max(len(c) for c in cols)
            a = np.full((T, len(cols)), np.nan)
            for j, c in enumerate(cols):
                a[: len(c), j] = c
            valid = ~np.isnan(a).all(axis=1)
            last = int(np.nonzero(valid)[0].max()) + 1 if valid.any() else 1
            a = a[:last]
            seqs.append(np.nan_to_num(a, nan=0.0).astype(np.float32))
            labels.append(parts[-1].strip() if has_label else "")
    return seqs, labels


def _load_ucr(name: str) -> ClassificationData:
    d = _ucr_dir(name)
    tr_seqs, tr_lab = read_ts(d / f"{name}_TRAIN.ts")
    te_seqs, te_lab = read_ts(d / f"{name}_TEST.ts")
    y_tr, classes = encode_labels(tr_lab)
    y_te, _ = encode_labels(te_lab, classes)
    X_tr, l_tr = pad_sequences(tr_seqs)
    X_te, l_te = pad_sequences(te_seqs)
    C = X_tr.shape[2]
    return ClassificationData(SequenceSet(X_tr, l_tr, y_tr), SequenceSet(X_te, l_te, y_te),
                              classes, [f"dim{j}" for j in range(C)], f"ucr:{name}")


# ------------------------------------------------------------------ bundled sets
def _load_digits_rows() -> ClassificationData:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    X = (d.images / 16.0).astype(np.float32)  # (1797, 8, 8): rows are time steps
    y = d.target.astype(np.int64)
    i_tr, i_te = train_test_split(np.arange(len(y)), test_size=0.25, random_state=0,
                                  stratify=y)
    full = SequenceSet(X, np.full(len(y), 8, dtype=np.int64), y)
    return ClassificationData(full.subset(i_tr), full.subset(i_te),
                              [str(k) for k in range(10)], [f"px{j}" for j in range(8)],
                              "digits-rows")


def _load_mnist1d() -> ClassificationData:
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise LstmkitError(f"{_C}: expected the mnist1d package for mnist1d "
                           "(pip install mnist1d), got it missing") from None
    d = make_dataset(get_dataset_args())  # generated locally, never downloaded
    tr = np.asarray(d["x"], dtype=np.float32)[:, :, None]  # (4000, 40, 1)
    te = np.asarray(d["x_test"], dtype=np.float32)[:, :, None]  # (1000, 40, 1)
    lens = lambda a: np.full(a.shape[0], a.shape[1], dtype=np.int64)
    return ClassificationData(
        SequenceSet(tr, lens(tr), np.asarray(d["y"], dtype=np.int64)),
        SequenceSet(te, lens(te), np.asarray(d["y_test"], dtype=np.int64)),
        [str(k) for k in range(10)], ["x"], "mnist1d")


def load_classification(source, y=None, *, lengths=None) -> ClassificationData:
    """Load labelled sequences from a bundled name, a long CSV, or arrays (``source``, ``y``).

    Returns a :class:`ClassificationData` whose ``test`` is the source's own test split
    (bundled sets) or ``None`` (CSV, arrays: the caller splits).
    """
    if isinstance(source, ClassificationData):
        return source
    if isinstance(source, (str, Path)) and y is None:
        name = str(source)
        if not is_bundled(name) and not Path(name).is_file():
            raise expected(_C, "a bundled name (digits-rows, mnist1d, ucr:NAME) or a CSV "
                           "file", repr(name))
        if name == "digits-rows":
            return _load_digits_rows()
        if name == "mnist1d":
            return _load_mnist1d()
        if name.startswith("ucr:"):
            return _load_ucr(name[4:])
        seqs, labels, channels = read_long_csv(name)
        if labels is None:
            raise expected(_C, "a label column for training", f"columns of '{name}'")
        y_idx, classes = encode_labels(labels)
        seqs.y = y_idx
        return ClassificationData(seqs, None, classes, channels, Path(name).name)
    if y is None:
        raise expected(_C, "labels y with the arrays", "y=None")
    seqs = sequences_from(source, lengths)
    y_idx, classes = encode_labels(y)
    if len(y_idx) != len(seqs):
        raise expected(_C, f"{len(seqs)} labels (one per sequence)", len(y_idx))
    seqs.y = y_idx
    C = seqs.X.shape[2]
    return ClassificationData(seqs, None, classes, [f"c{j}" for j in range(C)], "arrays")
