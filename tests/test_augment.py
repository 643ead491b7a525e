"""Random windows (window slicing) for the classifiers' training batches."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lstmkit.classify.classifier import SequenceClassifier
from lstmkit.core.augment import random_window


def _batch(lengths, T=30, C=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(len(lengths), T, C, generator=g, dtype=torch.float64)
    lens = torch.tensor(lengths)
    x[torch.arange(T).unsqueeze(0) >= lens.unsqueeze(1)] = 1e6  # padding nobody may read
    return x, lens


def test_no_crop_returns_the_batch_itself():
    x, lens = _batch([30, 12, 5])
    out, new = random_window(x, lens, 0.0, torch.Generator().manual_seed(0))
    assert out is x and new is lens


@pytest.mark.parametrize("crop,min_steps", [(0.5, 1), (0.9, 1), (0.5, 8), (1.0, 4)])
def test_each_window_is_a_contiguous_piece_of_the_valid_steps(crop, min_steps):
    x, lens = _batch([30, 30, 17, 5, 1])
    gen = torch.Generator().manual_seed(1)
    for _ in range(50):
        out, new = random_window(x, lens, crop, gen, min_steps=min_steps)
        keeps = []
        for b, n in enumerate(lens.tolist()):
            w = int(new[b])
            assert min(n, min_steps) <= w <= n
            assert w >= math.ceil(n * (1 - crop)) - 1e-9
            # the window equals x[b, s:s+w] for one start s inside the valid steps
            starts = [s for s in range(n - w + 1) if torch.equal(out[b, :w], x[b, s : s + w])]
            assert starts, "the window is not a piece of the sequence"
            assert torch.all(out[b, w:] == 0)  # zero after the window's end, never padding
            if w > min_steps:
                keeps.append(w / n)
        assert float(out.abs().max()) < 1e6
        # one fraction per batch: sequences of one length keep one length
        assert int(new[0]) == int(new[1])
        if len(keeps) > 1:  # ceil() moves each by under one step
            assert max(keeps) - min(keeps) < 1 / 5 + 1e-9


def test_windows_vary_cover_the_range_and_repeat_with_the_seed():
    x, lens = _batch([30] * 4)
    draws = [random_window(x, lens, 0.5, torch.Generator().manual_seed(s)) for s in range(200)]
    widths = np.array([int(n[0]) for _, n in draws])
    assert widths.min() <= 17 and widths.max() == 30  # keep runs over [0.5, 1]
    starts = {float(o[0, 0, 0]) for o, _ in draws}
    assert len(starts) > 5  # windows start at different places
    again = random_window(x, lens, 0.5, torch.Generator().manual_seed(7))
    torch.testing.assert_close(again[0], draws[7][0], rtol=0, atol=0)


def _toy(n=48, T=40, seed=0):
    """A bump somewhere in noise: its sign is the class (any window of half the series that
    holds the bump shows it)."""
    rng = np.random.default_rng(seed)
    X = 0.1 * rng.normal(size=(n, T, 1))
    y = np.arange(n) % 2
    for i in range(n):
        s = int(rng.integers(0, T - 6))
        X[i, s : s + 6, 0] += 1.0 if y[i] else -1.0
    return X.astype(np.float32), np.where(y, "up", "down")


def test_training_on_windows_is_deterministic_and_never_reads_padding():
    X, y = _toy()
    lengths = np.full(len(X), 30)
    garbage = X.copy()
    garbage[:, 30:] = 1e4  # steps past every sequence's end
    clean = X.copy()
    clean[:, 30:] = 0.0
    kw = dict(hidden_size=4, conv_channels=4, epochs=3, batch_size=8, seeds=1,
              progress=False, random_crop=0.5, min_window=8)
    a = SequenceClassifier(**kw).fit(clean, y, lengths=lengths, test=0)
    b = SequenceClassifier(**kw).fit(garbage, y, lengths=lengths, test=0)
    np.testing.assert_array_equal(a.predict_proba(clean[:, :30]), b.predict_proba(clean[:, :30]))
    whole = SequenceClassifier(**{**kw, "random_crop": 0.0}).fit(clean, y, lengths=lengths,
                                                                 test=0)
    assert not np.array_equal(a.predict_proba(clean[:, :30]),
                              whole.predict_proba(clean[:, :30]))
    assert a.get_params()["random_crop"] == 0.5
    # windows never shorter than min_window: 30-step sequences under min_window=30 stay whole
    kept = SequenceClassifier(**{**kw, "min_window": 30}).fit(clean, y, lengths=lengths, test=0)
    np.testing.assert_array_equal(kept.predict_proba(clean[:, :30]),
                                  whole.predict_proba(clean[:, :30]))


def test_the_course_reproductions_keep_their_documented_networks():
    # the classifier's defaults moved (dropout 0.3, random windows, conv branch); the course's
    # networks must not follow them: they are documented setting for setting
    from lstmkit.experiments.classification import digits_rows_classifier, mnist1d_classifier

    digits = digits_rows_classifier().get_params()
    assert digits["dropout"] == 0.0 and digits["pooling"] == "last"
    mnist = mnist1d_classifier().get_params()
    assert mnist["dropout"] == 0.1
    for p in (digits, mnist):
        assert p["random_crop"] == 0.0 and p["conv_channels"] == 0
        assert p["recurrent_steps"] is None and p["label_smoothing"] == 0.0
    default = SequenceClassifier().get_params()
    assert default["random_crop"] > 0 and default["dropout"] > 0  # else this test is moot
