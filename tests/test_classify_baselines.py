"""The classifiers' 1-NN DTW baseline (dtaidistance) and the verdict line."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.classify import dtw
from lstmkit.core.classifier import report_table, verdict


def _dtw(a: np.ndarray, b: np.ndarray) -> float:
    """Textbook DTW (full window): sqrt of the least summed squared distance of a path.
    Written here only to check the library's answer."""
    n, m = len(a), len(b)
    D = np.full((n + 1, m + 1), np.inf)
    D[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost = float(np.sum((a[i - 1] - b[j - 1]) ** 2))
            D[i, j] = cost + min(D[i - 1, j], D[i, j - 1], D[i - 1, j - 1])
    return float(np.sqrt(D[n, m]))


@pytest.mark.parametrize("channels", [1, 3])
def test_nearest_is_the_textbook_dtw_neighbour_at_each_length(channels):
    rng = np.random.default_rng(channels)
    N, M, T = 12, 7, 16
    X = rng.standard_normal((N, T, channels)).cumsum(1)
    Q = rng.standard_normal((M, T, channels)).cumsum(1)
    lx, lq = rng.integers(5, T + 1, N), rng.integers(5, T + 1, M)
    y = np.arange(N)
    got = dtw.nearest(X, lx, y, Q, lq)
    want = [int(np.argmin([_dtw(Q[j, :lq[j]], X[i, :lx[i]]) for i in range(N)]))
            for j in range(M)]
    np.testing.assert_array_equal(got, want)
    # padding beyond a sequence's length is never read
    X2 = X.copy()
    for i, n in enumerate(lx):
        X2[i, n:] = 1e6
    np.testing.assert_array_equal(dtw.nearest(X2, lx, y, Q, lq), got)


def test_dtw_finds_a_shifted_shape_that_euclid_misses():
    t = np.linspace(0, 1, 60)
    bump = lambda c: np.exp(-((t - c) / 0.05) ** 2)
    train = np.stack([bump(0.3), 0.2 * np.ones_like(t)])[:, :, None]  # a bump / a flat line
    query = bump(0.6)[None, :, None]  # the bump, shifted
    lengths = np.array([60, 60])
    assert dtw.nearest(train, lengths, np.array([0, 1]), query, np.array([60]))[0] == 0
    euclid = np.argmin(((train - query) ** 2).sum((1, 2)))
    assert euclid == 1


def _report(seed_accs, ens, baselines):
    return {"model": "LSTM(8, last)", "per_seed": [{"accuracy": a, "macro_f1": a}
                                                    for a in seed_accs],
            "aggregate": {"accuracy": {"mean": np.mean(seed_accs), "median": np.mean(seed_accs),
                                       "min": min(seed_accs), "max": max(seed_accs)},
                          "macro_f1": {"mean": 0.5, "median": 0.5, "min": 0.5, "max": 0.5}},
            "ensemble": {"accuracy": ens, "macro_f1": ens},
            "baselines": {n: {"accuracy": a, "macro_f1": a} for n, a in baselines.items()}}


def test_the_verdict_names_the_baseline_that_wins():
    r = _report([0.7, 0.8], 0.75, {"majority": 0.3, "1-NN": 0.6, "1-NN DTW": 0.9})
    assert verdict(r) == ("verdict: LSTM(8, last) (ensemble of 2) does NOT beat 1-NN DTW: "
                          "accuracy 75.00% vs 90.00%")
    r = _report([0.95], 0.95, {"majority": 0.3, "1-NN DTW": 0.9})
    assert verdict(r) == ("verdict: LSTM(8, last) beats every baseline: accuracy 95.00% vs "
                          "1-NN DTW 90.00%")
    r["skipped_baselines"] = {"1-NN DTW": "too long"}
    lines = report_table(r).splitlines()
    assert lines[-2:] == ["1-NN DTW skipped: too long", verdict(r)]


def test_a_tie_is_not_a_win():
    r = _report([0.9], 0.9, {"1-NN DTW": 0.9})
    assert "does NOT beat 1-NN DTW" in verdict(r)
