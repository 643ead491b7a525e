"""Long-time-lag tasks: generators (shapes, marker rules, targets, seeds) and the training run."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lstmkit.core.errors import LstmkitError
from lstmkit.experiments import all_experiments
from lstmkit.experiments._longlag_tasks import (
    ORDER_SYMBOLS,
    adding_problem,
    order_positions,
    temporal_order,
)
from lstmkit.experiments.longlag import (
    SequenceModel,
    Settings,
    count_wrong,
    format_table,
    init_memory_biases,
    train_task,
)


def test_adding_shapes_markers_and_target():
    T, n = 100, 400
    b = adding_problem(n, T, seed=3)
    assert b.x.shape == (n, b.lengths.max(), 2) and b.x.dtype == np.float32
    assert b.lengths.min() >= T and b.lengths.max() <= T + T // 10
    assert b.y.shape == (n,) and b.positions.shape == (n, 2)
    p1, p2 = b.positions.T
    assert (p1 < 10).all() and (p2 < T // 2 - 1).all() and (p1 != p2).all()
    # the rules' corners all occur: X1 or X2 on the first pair, X2 before X1, X2 late
    assert (p1 == 0).any() and (p2 == 0).any() and (p2 < p1).any() and (p2 > 10).any()
    for i in range(n):
        L, x = b.lengths[i], b.x[i]
        m = x[:L, 1]
        assert set(np.flatnonzero(m == 1.0)) == {p1[i], p2[i]}
        assert m[L - 1] == -1.0
        first_marked = 0 in (p1[i], p2[i])  # a marked first pair keeps marker 1
        assert m[0] == (1.0 if first_marked else -1.0)
        assert set(np.flatnonzero(m == -1.0)) == ({L - 1} if first_marked else {0, L - 1})
        assert (x[L:] == 0).all()  # padding after the end
        assert np.all(np.abs(x[:L, 0]) <= 1.0)
        if p1[i] == 0:
            assert x[0, 0] == 0.0  # paper: X1 = 0 when the first pair is marked
        X1, X2 = x[p1[i], 0], x[p2[i], 0]
        assert b.y[i] == pytest.approx(0.5 + (X1 + X2) / 4.0, abs=1e-6)
    assert (b.y >= 0).all() and (b.y <= 1).all()


def test_generators_deterministic_by_seed():
    for gen in (adding_problem, temporal_order):
        a, b, c = gen(20, 50, seed=1), gen(20, 50, seed=1), gen(20, 50, seed=2)
        for f in ("x", "lengths", "y", "positions"):
            np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
        assert not np.array_equal(a.y, c.y) or not np.array_equal(a.x.shape, c.x.shape)


def test_temporal_order_rules():
    T, n = 100, 300
    b = temporal_order(n, T, seed=0)
    assert b.x.shape[2] == len(ORDER_SYMBOLS) == 8
    assert order_positions(100) == ((10, 20), (50, 60))
    assert order_positions(1000) == ((100, 200), (500, 600))
    sym = b.x.argmax(-1)
    t1, t2 = b.positions.T
    assert t1.min() >= 10 and t1.max() <= 20 and t2.min() >= 50 and t2.max() <= 60
    assert set(b.y.tolist()) == {0, 1, 2, 3}
    X, Y, Bs, E = (ORDER_SYMBOLS.index(s) for s in "XYBE")
    for i in range(n):
        L = b.lengths[i]
        assert T <= L <= T + T // 10
        np.testing.assert_array_equal(b.x[i, :L].sum(-1), 1.0)  # one-hot on real steps
        assert (b.x[i, L:] == 0).all()
        s = sym[i, :L]
        assert s[0] == Bs and s[L - 1] == E
        assert set(np.flatnonzero((s == X) | (s == Y))) == {t1[i], t2[i]}
        assert b.y[i] == 2 * (s[t1[i]] == Y) + (s[t2[i]] == Y)  # XX, XY, YX, YY
        assert set(s[1 : L - 1]) - {X, Y} <= {0, 1, 2, 3}  # distractors a b c d


def test_generator_errors():
    with pytest.raises(LstmkitError, match="Adding problem: expected T an integer >= 12"):
        adding_problem(5, 8)
    with pytest.raises(LstmkitError, match="Temporal order: expected n to be a positive integer"):
        temporal_order(0, 100)


def test_sequence_model_reads_last_real_step_and_biases():
    torch.manual_seed(0)
    m = SequenceModel("lstm", 2, 8, 1)
    init_memory_biases(m.encoder, T=100)
    b_ih, b_hh = m.encoder.weights(0)[2:]
    assert torch.allclose(b_ih[8:16] + b_hh[8:16], torch.full((8,), math.log(100)))
    assert torch.allclose(b_ih[:8] + b_hh[:8], torch.full((8,), -3.0))
    b = adding_problem(6, 20, seed=0)
    x, lengths = torch.from_numpy(b.x), torch.from_numpy(b.lengths)
    noisy = x.clone()
    for i, L in enumerate(b.lengths):
        noisy[i, L:] = 5.0  # whatever follows the end must not matter
    with torch.no_grad():
        torch.testing.assert_close(m(x, lengths), m(noisy, lengths))
    gru = SequenceModel("gru", 2, 4, 1)
    init_memory_biases(gru.encoder, T=50)
    b_ih, b_hh = gru.encoder.weights(0)[2:]
    assert torch.allclose(b_ih[4:8] + b_hh[4:8], torch.full((4,), math.log(50)))


def test_train_task_smoke():
    r, model = train_task("temporal-order", "rnn", 20, budget_s=0.5, n_test=64,
                          settings=Settings(hidden_size=4))
    assert r.seen > 0 and r.seen % 32 == 0 and r.n_test == 64 and 0 <= r.test_wrong <= 64
    assert 0.0 <= r.train_correct <= 1.0 and (r.solved or r.seconds >= 0.5)
    assert count_wrong(model, "temporal-order", 20, n=64) == r.test_wrong  # same test stream
    assert "RNN" in format_table([r])
    with pytest.raises(LstmkitError, match="cell lstm, gru or rnn"):
        train_task("adding", "mlp", 20, 1)
    with pytest.raises(LstmkitError, match="adding or temporal-order"):
        train_task("copy", "lstm", 20, 1)


def test_experiments_registered():
    names = set(all_experiments())
    assert {"adding", "temporal-order", "adding-sweep", "temporal-order-sweep"} <= names
