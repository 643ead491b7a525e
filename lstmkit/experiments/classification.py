"""Sequence-classification reproductions: ``digits-rows`` and ``mnist1d``.

* ``digits-rows``: the course's row-by-row image classifier, ``LSTM(128) -> Dense(10)`` read
  one image row per step. The course runs it on MNIST (28 x 28), which cannot be fetched
  offline; here it runs on scikit-learn's 8 x 8 digits (8 steps x 8 features, 1347 train /
  450 test, stratified, seed 0), beside the majority class and 1-nearest-neighbour.
* ``mnist1d``: MNIST-1D (Greydanus 2020) with its default generator arguments (4000 train /
  1000 test, 40 steps), against the paper's table: logistic regression 32%, MLP 68%,
  CNN 94%, GRU 91%, human 96%. lstmkit's target: >= 94% mean test accuracy over 3 seeds,
  with a 2-layer bidirectional LSTM, mean+max pooling and a one-cycle schedule.
"""

from __future__ import annotations

import os
import time

import torch

from lstmkit.experiments import Experiment

MNIST1D_PUBLISHED = {"logistic": 0.32, "MLP": 0.68, "CNN": 0.94, "GRU": 0.91, "human": 0.96}
MNIST1D_TARGET = 0.94


def _fit_report(clf, data: str, setting: str, published: list[str]) -> tuple[dict, list[str]]:
    from lstmkit.core.classifier import report_table
    from lstmkit.core.classifier_training import threads_for

    t0 = time.perf_counter()
    clf.fit(data)
    threads = threads_for(clf.networks_[0], clf.train_config()) or torch.get_num_threads()
    wall = time.perf_counter() - t0
    rep = clf.evaluate()
    n_tr, _, n_te = clf.split_sizes_
    lines = [f"setting: {setting}", f"data: {data}, {n_tr} train / {n_te} test sequences, "
             f"{clf.max_len_} steps x {len(clf.channels_)} channel(s), "
             f"{len(clf.classes_)} classes", *published, "",
             report_table(rep, "test set (accuracy and macro-F1 in %; model: mean [min-max] "
                               f"over {clf.seeds} seed(s))"), "",
             f"training time: {sum(clf.train_seconds_):.0f} s for {clf.seeds} seed(s) "
             f"({sum(clf.train_seconds_) / clf.seeds:.0f} s per seed, {threads} torch "
             f"thread(s), {os.cpu_count()} CPU cores, seeds in {clf.workers_} worker "
             f"process(es)); wall {wall:.0f} s"]
    return rep, lines


# the reproductions' networks are the documented ones, whatever the classifier's defaults
# become: no convolutional branch, every step read, plain cross-entropy, full epochs, whole
# sequences (no random windows)
COURSE_NET = dict(conv_channels=0, recurrent_steps=None, label_smoothing=0.0,
                  steps_per_epoch=None, random_crop=0.0)


def digits_rows_classifier(quick: bool = False):
    """The course's row classifier: LSTM(128), last hidden state, no dropout."""
    from lstmkit.classify.classifier import SequenceClassifier

    seeds, epochs = (1, 3) if quick else (3, 60)
    return SequenceClassifier(cell="lstm", hidden_size=128, pooling="last", dropout=0.0,
                              epochs=epochs, batch_size=64, lr=3e-3, weight_decay=1e-2,
                              schedule="onecycle", clip_norm=None, seeds=seeds, seed=0,
                              progress=False, **COURSE_NET)


def run_digits_rows(quick: bool = False) -> str:
    clf = digits_rows_classifier(quick)
    seeds, epochs = clf.seeds, clf.epochs
    setting = (f"course's row classifier LSTM(128) -> Linear(10), last hidden state; AdamW "
               f"(lr 3e-3 one-cycle, weight decay 1e-2), batch 64, {epochs} epochs, inputs "
               f"standardised, {seeds} seed(s)")
    published = ["published: the course reports this model on MNIST rows (28 x 28), not "
                 "available offline; no figure for the 8 x 8 digits, so lstmkit is compared "
                 "with the baselines on the same split"]
    rep, lines = _fit_report(clf, "digits-rows", setting, published)
    acc, knn = rep["aggregate"]["accuracy"], rep["baselines"]["1-NN"]["accuracy"]
    gap = (acc["mean"] - knn) * 100
    verdict = ("beats" if gap > 0.5 else "matches" if gap >= -0.5 else "does not beat")
    lines.append(f"verdict: LSTM(128) {acc['mean'] * 100:.2f}% [{acc['min'] * 100:.2f}-"
                 f"{acc['max'] * 100:.2f}%] {verdict} 1-NN {knn * 100:.2f}% ({gap:+.2f} points) "
                 f"and far exceeds the majority class "
                 f"{rep['baselines']['majority']['accuracy'] * 100:.2f}% on the same test images"
                 + (" [--quick: 1 seed, 3 epochs]" if quick else ""))
    return "\n".join(["digits-rows: row-by-row digit classification", *lines])


def mnist1d_classifier(quick: bool = False):
    """The configuration that reaches the 94% target (see docs/classification-and-text.md)."""
    from lstmkit.classify.classifier import SequenceClassifier

    seeds, epochs = (1, 4) if quick else (3, 50)
    return SequenceClassifier(cell="lstm", hidden_size=64, num_layers=2, bidirectional=True,
                              pooling="mean+max", dropout=0.1, epochs=epochs, batch_size=128,
                              lr=3e-3, weight_decay=1e-2, schedule="onecycle", clip_norm=1.0,
                              seeds=seeds, seed=0, progress=False, **COURSE_NET)


def run_mnist1d(quick: bool = False) -> str:
    clf = mnist1d_classifier(quick)
    setting = (f"BiLSTM 2 layers x 64 per direction, mean+max pooling, dropout 0.1, AdamW "
               f"(lr 3e-3 one-cycle, weight decay 1e-2), batch 128, clip 1.0, "
               f"{clf.epochs} epochs, inputs standardised, {clf.seeds} seed(s)")
    pub = ", ".join(f"{k} {v * 100:.0f}%" for k, v in MNIST1D_PUBLISHED.items())
    published = [f"published (Greydanus 2020, test accuracy): {pub}"]
    rep, lines = _fit_report(clf, "mnist1d", setting, published)
    acc = rep["aggregate"]["accuracy"]
    ok = acc["mean"] >= MNIST1D_TARGET
    lines.append(
        f"verdict: mean {acc['mean'] * 100:.2f}% [{acc['min'] * 100:.2f}-"
        f"{acc['max'] * 100:.2f}%] over {clf.seeds} seed(s) "
        + ("meets" if ok else "misses") + f" the {MNIST1D_TARGET * 100:.0f}% target "
        f"(published GRU 91%, CNN 94%, human 96%)"
        + (" [--quick: 1 seed, 4 epochs; not the real figure]" if quick else ""))
    return "\n".join(["mnist1d: MNIST-1D sequence classification", *lines])


EXPERIMENTS = {
    "digits-rows": Experiment("digits-rows", "course's LSTM(128) row classifier on 8x8 digits, "
                              "vs majority and 1-NN", run_digits_rows),
    "mnist1d": Experiment("mnist1d", "MNIST-1D: BiLSTM vs the paper's table (target >= 94%)",
                          run_mnist1d),
}
