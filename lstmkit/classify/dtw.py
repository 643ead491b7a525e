"""The 1-NN DTW baseline: dynamic time warping, full window, from ``dtaidistance`` (C).

The distance is DTW's (square root of the summed squared differences along the best warping
path; no window constraint), on sequences standardised per channel with the training
statistics and kept at their own lengths, so variable-length sets need no padding. Several
channels use ``dtaidistance.dtw_ndim`` (dependent DTW: one warping path for all channels).

A pairwise matrix costs ``n_train · n_test · T²`` cell updates; above :data:`MAX_CELLS` the
baseline is skipped and the report says why (at about 3·10⁸ cells per second on 2 cores,
the limit is about two minutes).
"""

from __future__ import annotations

import numpy as np

MAX_CELLS = 4e10


def cells(train_lengths: np.ndarray, test_lengths: np.ndarray) -> float:
    """DTW cell updates of the train x test distance matrix: sum T_i x sum T_j."""
    return float(np.sum(train_lengths, dtype=float) * np.sum(test_lengths, dtype=float))


def _series(X: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
    """(N, T, C) padded -> N contiguous float64 arrays, (T_i,) or (T_i, C)."""
    one = X.shape[2] == 1
    return [np.ascontiguousarray(X[i, :n, 0] if one else X[i, :n], dtype=np.float64)
            for i, n in enumerate(lengths)]


def nearest(train_X, train_lengths, train_y, X, lengths) -> np.ndarray:
    """The label of each sequence's nearest training sequence under DTW: (N,)."""
    from dtaidistance import dtw, dtw_ndim

    train = _series(train_X, train_lengths)
    test = _series(X, lengths)
    lib = dtw if train_X.shape[2] == 1 else dtw_ndim
    n = len(train)
    # one matrix over train + test; block: rows = train, columns = test (all above the diagonal)
    d = lib.distance_matrix_fast(train + test, block=((0, n), (n, n + len(test))),
                                 compact=False, parallel=True)  # (n+m, n+m), inf elsewhere
    return np.asarray(train_y)[np.argmin(d[:n, n:], axis=0)]
