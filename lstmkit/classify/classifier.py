"""Sequence classification: ``SequenceClassifier`` (recurrent encoder + pooling + logits).

    >>> from lstmkit.classify.classifier import SequenceClassifier
    >>> clf = SequenceClassifier(cell="gru", hidden_size=64, bidirectional=True,
    ...                          pooling="mean+max", epochs=30)
    >>> clf.fit("mnist1d")                       # the source's own test split  # doctest: +SKIP
    >>> clf.evaluate()["aggregate"]["accuracy"]  # mean / median / min / max   # doctest: +SKIP
    >>> clf.predict(X_new)                       # class names                # doctest: +SKIP

Inputs are multichannel sequences of any length: arrays (N, T, C) (with optional ``lengths``),
lists of (T_i, C) arrays, a long CSV ``id, t, channels..., label`` or a bundled set (see
:mod:`lstmkit.classify.data`). ``evaluate`` always reports the model beside three baselines
on the same test sequences: the majority class, 1-nearest-neighbour (Euclidean distance on
the standardised sequences, zero-padded or cut to the training length and flattened) and
1-nearest-neighbour under DTW (full window, each sequence at its own length;
:mod:`lstmkit.classify.dtw`). The report's verdict line says whether the model beats the best
of them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from lstmkit.classify.config import SEQUENCE_CLASSIFIER
from lstmkit.classify.data import (
    ClassificationData,
    SequenceSet,
    encode_labels,
    is_bundled,
    load_classification,
    read_long_csv,
    sequences_from,
    stratified_split,
)
from lstmkit.core.classifier import NeuralClassifierBase, classification_metrics
from lstmkit.core.errors import expected, shape_str
from lstmkit.core.labels import check_two_classes
from lstmkit.nn.sequence import SequenceNet, SequenceNetConfig

KNN_MAX_VALUES = 4_000_000  # store the 1-NN reference set in the run directory up to this size


class SequenceClassifier(NeuralClassifierBase):
    """Recurrent sequence classifier trained with cross-entropy.

    Its parameters are the fields of :class:`~lstmkit.nn.sequence.SequenceNetConfig` (cell,
    hidden_size, num_layers, bidirectional, pooling, dropout, activation),
    :class:`~lstmkit.classify.config.InputConfig` (standardize),
    :class:`~lstmkit.core.config.ClassifyConfig` (epochs, batch_size, lr,
    weight_decay, schedule, clip_norm, label_smoothing, patience, random_crop, min_window),
    :class:`~lstmkit.core.config.EnsembleConfig` (seeds, seed) and the execution settings
    (threads, workers, progress; never saved). It trains ``seeds`` networks; predictions
    average their probabilities.
    """

    network_class = SequenceNet
    spec = SEQUENCE_CLASSIFIER

    @property
    def label(self) -> str:  # type: ignore[override]
        bi = "Bi" if self.bidirectional else ""
        stack = f"{self.num_layers}x" if self.num_layers > 1 else ""
        pool = "" if self.conv_pooling == "mean" else f", {self.conv_pooling}"
        conv = f"+FCN({self.conv_channels}{pool})" if self.conv_channels else ""
        return f"{bi}{self.cell.upper()}({stack}{self.hidden_size}, {self.pooling}){conv}"

    def network_config(self, input_size: int, n_classes: int) -> SequenceNetConfig:
        return replace(self.config("network"), input_size=input_size, n_classes=n_classes)

    # ------------------------------------------------------------------ fit
    def fit(self, data, y=None, *, lengths=None, test=None, val=0.0, split_seed: int = 0,
            on_epoch=None, checkpoint=None, resume: bool = False):
        """Train on ``data`` (bundled name, long CSV path, arrays + ``y``).

        ``test``: sequences held out for :meth:`evaluate` (count or fraction, stratified);
        ``None`` means the source's own test split (bundled sets) or 0.2 otherwise; ``0``
        keeps everything for training. ``val``: held out of the training part; it is
        monitored every epoch and drives early stopping (``patience``). ``on_epoch(seed,
        row)``: called after every epoch of every seed with its history row; the seeds then
        train one after another in this process, and an exception it raises stops the fit.
        ``checkpoint``: a folder where every seed writes a checkpoint after every epoch
        (removed when the fit completes); ``resume=True`` continues a fit interrupted there,
        and ends bitwise as the uninterrupted fit would have.
        """
        d = load_classification(data, y, lengths=lengths)
        train, test_set = d.train, d.test
        if test_set is not None and test not in (None, 0):
            raise expected(type(self).__name__, f"test=None for {d.name}, which has its own "
                           "test split", f"test={test}")
        if test_set is None:
            test = 0.2 if test is None else test
            if test:
                keep, held = stratified_split(train.y, test, split_seed)
                train, test_set = train.subset(keep), train.subset(held)
        val_set = None
        if val:
            keep, held = stratified_split(train.y, val, split_seed + 1)
            train, val_set = train.subset(keep), train.subset(held)
        self.classes_, self.channels_ = list(d.classes), list(d.channels)
        self.dataset_ = d.name
        self.class_counts_ = np.bincount(train.y, minlength=len(self.classes_)).tolist()
        check_two_classes(type(self).__name__, self.class_counts_, self.classes_, "sequences")
        self.max_len_ = int(train.X.shape[1])
        self.test_set_ = test_set
        self.split_sizes_ = [len(train), 0 if val_set is None else len(val_set),
                             0 if test_set is None else len(test_set)]
        mean, std = _channel_stats(train) if self.standardize else (None, None)
        stats = (mean, std) if self.standardize else None
        net_cfg = self.network_config(train.X.shape[2], len(self.classes_))
        self._train_members(net_cfg, _tensors(train), _tensors(val_set) if val_set else None,
                            stats, on_epoch, checkpoint, resume)
        self._set_knn(train)
        return self

    # ------------------------------------------------------------------ data in
    def _as_set(self, data, lengths=None, y=None, labels: bool = True) -> SequenceSet:
        """New data -> SequenceSet (labels mapped onto the training classes when present and
        ``labels``; ignored otherwise, e.g. for predicting)."""
        name = type(self).__name__
        if data is None:
            if self.test_set_ is None:
                raise expected(name, "data, or a model fitted with a test split", "neither")
            return self.test_set_
        if isinstance(data, ClassificationData) or (isinstance(data, str) and is_bundled(data)):
            d = load_classification(data)
            s = d.test if d.test is not None else d.train
            self._check_channels(s)
            s.y = (encode_labels([d.classes[i] for i in s.y], self.classes_, name)[0]
                   if labels else None)
        elif isinstance(data, (str, Path)):
            s, raw, channels = read_long_csv(data, name)
            if channels != self.channels_:
                raise expected(name, f"channel columns {self.channels_}", channels)
            if raw is not None and labels:
                s.y, _ = encode_labels(raw, self.classes_, name)
        else:
            s = sequences_from(data, lengths, name)
            if y is not None:
                s.y, _ = encode_labels(y, self.classes_, name)
                if len(s.y) != len(s):
                    raise expected(name, f"{len(s)} labels (one per sequence)", len(s.y))
        self._check_channels(s)
        return s

    def _check_channels(self, s: SequenceSet) -> None:
        C = self.network_config_.input_size
        if s.X.shape[2] != C:
            raise expected(type(self).__name__, f"sequences with C={C} channels",
                           shape_str(s.X.shape))

    # ------------------------------------------------------------------ predict
    def predict_proba(self, data=None, lengths=None) -> np.ndarray:
        """Class probabilities (N, K), the mean over the seed members."""
        self._check_fitted("predict")
        s = self._as_set(data, lengths, labels=False)
        x, lens, _ = _tensors(s)
        return self._member_proba(x, lens).mean(0)

    def predict(self, data=None, lengths=None) -> np.ndarray:
        """Predicted class names (N,) (strings, as the training labels)."""
        proba = self.predict_proba(data, lengths)
        return np.asarray(self.classes_, dtype=object)[proba.argmax(1)]

    # ------------------------------------------------------------------ evaluate
    def evaluate(self, data=None, y=None, lengths=None) -> dict:
        """Accuracy and macro-F1 per seed, aggregated, for the ensemble (with its confusion
        matrix), beside the majority-class and 1-NN baselines on the same sequences."""
        self._check_fitted("evaluate")
        s = self._as_set(data, lengths, y)
        if s.y is None:
            raise expected(type(self).__name__, "labelled data to evaluate", "no labels")
        x, lens, _ = _tensors(s)
        members = self._member_proba(x, lens)  # (S, N, K)
        baselines, skipped = {"majority": self._majority(s.y)}, {}
        if self.knn_ is not None:
            baselines["1-NN"] = classification_metrics(s.y, self._knn_predict(s),
                                                       len(self.classes_))
            pred, why = self._dtw_predict(s)
            if pred is None:
                skipped["1-NN DTW"] = why
            else:
                baselines["1-NN DTW"] = classification_metrics(s.y, pred, len(self.classes_))
        report = self._report(s.y, members, baselines)
        report["skipped_baselines"] = skipped
        return report

    # ------------------------------------------------------------------ 1-NN baseline
    def _flat(self, s: SequenceSet) -> np.ndarray:
        """Standardised, padded/cut to the training length, flattened: (N, T*C)."""
        net = self.networks_[0]
        X = np.zeros((len(s), self.max_len_, s.X.shape[2]), dtype=np.float32)
        T = min(self.max_len_, s.X.shape[1])
        mask = np.arange(T)[None, :] < s.lengths[:, None]  # (N, T)
        z = (s.X[:, :T] - net.x_mean.numpy()) / net.x_std.numpy()
        X[:, :T] = np.where(mask[:, :, None], z, 0.0)
        return X.reshape(len(s), -1)

    def _set_knn(self, train: SequenceSet) -> None:
        flat = self._flat(train)
        lengths = np.minimum(train.lengths, self.max_len_).astype(np.int64)
        self.knn_ = (flat, train.y.copy(), lengths) if flat.size <= KNN_MAX_VALUES else None

    def _dtw_predict(self, s: SequenceSet):
        """(1-NN DTW predictions, None), or (None, why it was skipped)."""
        from lstmkit.classify import dtw

        flat, y, train_len = self.knn_
        if train_len is None:
            return None, "a model saved without its training lengths"
        lengths = np.minimum(s.lengths, self.max_len_)
        cost = dtw.cells(train_len, lengths)
        if cost > dtw.MAX_CELLS:
            return None, (f"{cost:.2g} DTW cell updates, over the {dtw.MAX_CELLS:.0g} "
                          "limit (minutes on 2 cores)")
        C = s.X.shape[2]
        train_X = flat.reshape(len(y), self.max_len_, C)  # (N, T, C)
        X = self._flat(s).reshape(len(s), self.max_len_, C)  # (M, T, C)
        return dtw.nearest(train_X, train_len, y, X, lengths), None

    def _knn_predict(self, s: SequenceSet) -> np.ndarray:
        from sklearn.neighbors import KNeighborsClassifier

        X, y, _ = self.knn_
        return KNeighborsClassifier(n_neighbors=1).fit(X, y).predict(self._flat(s))

    # ------------------------------------------------------------------ persistence
    def _state_tensors(self) -> dict:
        out = super()._state_tensors()
        if self.knn_ is not None:
            out["baseline.knn_X"] = torch.as_tensor(self.knn_[0])
            out["baseline.knn_y"] = torch.as_tensor(self.knn_[1])
            out["baseline.knn_lengths"] = torch.as_tensor(self.knn_[2])
        return out

    def _extra_config(self) -> dict:
        return {"channels": self.channels_, "max_len": self.max_len_,
                "dataset": self.dataset_, "split_sizes": self.split_sizes_}

    def _load_extra(self, config: dict, tensors: dict) -> None:
        self.channels_ = config["channels"]
        self.max_len_ = int(config["max_len"])
        self.dataset_ = config.get("dataset")
        self.split_sizes_ = config.get("split_sizes")
        self.test_set_ = None
        kx, ky = tensors.get("baseline.knn_X"), tensors.get("baseline.knn_y")
        kl = tensors.get("baseline.knn_lengths")  # absent from models saved before the DTW baseline
        self.knn_ = None if kx is None else (kx.numpy(), ky.numpy(),
                                             None if kl is None else kl.numpy())


def _tensors(s: SequenceSet | None):
    """(x float32 (N, T, C), lengths int64 (N,), y int64 (N,) or zeros)."""
    y = s.y if s.y is not None else np.zeros(len(s), dtype=np.int64)
    return (torch.as_tensor(s.X, dtype=torch.float32), torch.as_tensor(s.lengths),
            torch.as_tensor(y, dtype=torch.int64))


def _channel_stats(s: SequenceSet) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std over the valid steps of the training sequences."""
    mask = np.arange(s.X.shape[1])[None, :] < s.lengths[:, None]  # (N, T)
    vals = s.X[mask]  # (steps, C)
    return vals.mean(0), vals.std(0)
