"""Seeds trained side by side in forked workers give exactly the sequential results."""

from __future__ import annotations

import multiprocessing as mp
import sys

import numpy as np
import pytest
import torch

from lstmkit.core.errors import LstmkitError
from lstmkit.core.parallel import map_seeds, seed_workers
from lstmkit.forecast import NeuralForecaster
from lstmkit.forecast.config import ForecastExecution

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="workers fork (Linux only)")


def _frame():
    t = np.arange(120)
    return np.column_stack([np.sin(t / 6.0), np.cos(t / 9.0) + 0.01 * t])


def _fit(workers: int, **kw) -> NeuralForecaster:
    f = NeuralForecaster(6, 1, hidden_size=8, epochs=3, batch_size=16, seeds=3, workers=workers,
                         progress=False, **kw)
    return f.fit(_frame(), test=20, val=10)


@linux_only
@pytest.mark.parametrize("cell", ["lstm", "mlp"])
def test_workers_give_bitwise_identical_networks_and_histories(cell):
    seq, par = _fit(1, cell=cell), _fit(2, cell=cell)
    assert (seq.workers_, par.workers_) == (1, 2)
    for a, b in zip(seq.networks_, par.networks_, strict=True):
        sa, sb = a.state_dict(), b.state_dict()
        assert list(sa) == list(sb)
        for k in sa:
            assert torch.equal(sa[k], sb[k]), k
    assert seq.histories_ == par.histories_
    assert seq.best_epochs_ == par.best_epochs_
    np.testing.assert_array_equal(seq.predict(_frame()), par.predict(_frame()))


@linux_only
def test_parallel_networks_differ_by_seed_and_come_back_in_seed_order():
    par = _fit(2)
    first = [net.state_dict()["head.weight"] for net in par.networks_]
    assert not torch.equal(first[0], first[1])
    one = NeuralForecaster(6, 1, hidden_size=8, epochs=3, batch_size=16, seeds=1, seed=2,
                           progress=False).fit(_frame(), test=20, val=10)
    assert torch.equal(one.networks_[0].state_dict()["head.weight"], first[2])


@linux_only
def test_map_seeds_keeps_order_and_reports_each_result():
    seen = []
    out = map_seeds(lambda s: s * s, [3, 1, 2, 5], 2, on_result=seen.append)
    assert out == [9, 1, 4, 25]
    assert sorted(seen) == [1, 4, 9, 25]


def _boom(s):
    raise ValueError(f"seed {s} failed")


@linux_only
def test_a_failing_worker_raises_in_the_parent():
    with pytest.raises(ValueError, match="seed 2 failed"):
        map_seeds(lambda s: _boom(s) if s == 2 else s, [1, 2, 3], 2)


def test_seed_workers_rules():
    assert seed_workers(0, 1) == 1  # one seed: nothing to share
    assert seed_workers(1, 8) == 1  # asked for sequential
    if sys.platform == "linux":
        assert seed_workers(3, 2) == 2  # never more workers than seeds
        assert seed_workers(2, 5) == 2
        assert 1 <= seed_workers(0, 64) <= 64
    else:
        assert seed_workers(2, 5) == 1


def _daemon_workers(q):
    q.put(seed_workers(2, 4))


@linux_only
def test_no_workers_inside_a_daemonic_process():
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_daemon_workers, args=(q,), daemon=True)
    p.start()
    p.join(30)
    assert q.get(timeout=5) == 1


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_workers_must_be_a_nonnegative_integer(bad):
    with pytest.raises(LstmkitError, match="Training: expected workers"):
        ForecastExecution(workers=bad).validate()
    with pytest.raises(LstmkitError, match="workers"):
        NeuralForecaster(workers=bad)


@linux_only
def test_classifier_workers_give_bitwise_identical_members():
    from lstmkit.classify.classifier import SequenceClassifier

    fits = [SequenceClassifier(hidden_size=8, epochs=1, seeds=2, workers=w, progress=False)
            .fit("digits-rows") for w in (1, 2)]
    assert [f.workers_ for f in fits] == [1, 2]
    for a, b in zip(fits[0].networks_, fits[1].networks_, strict=True):
        for k, v in a.state_dict().items():
            assert torch.equal(v, b.state_dict()[k]), k
    assert fits[0].histories_ == fits[1].histories_


class _Bar:
    def __init__(self, total):
        self.total, self.n, self.postfix = total, 0, []

    def update(self, k):
        self.n += k

    def set_postfix(self, d):
        self.postfix.append(d)

    def close(self):
        pass


@linux_only
def test_the_seed_bar_follows_every_epoch_of_every_worker():
    from lstmkit.core.parallel import train_seeds
    from lstmkit.core.training import TrainResult

    def fake(net, s, on_epoch):  # seed 1 "stops early" after 2 of 3 epochs
        rows = [{"epoch": e, "train_loss": s + e / 10, "val_loss": 2.0}
                for e in range(1, 3 if s == 1 else 4)]
        for row in rows:
            on_epoch(row)
        return TrainResult(rows, len(rows), 0.0)

    bar = _Bar(total=3 * 3)
    out = train_seeds(lambda: torch.nn.Linear(2, 1), fake, [0, 1, 2], 2, bar)
    assert len(out) == 3 and [len(r.history) for _, r in out] == [3, 2, 3]
    assert bar.n == 9  # 8 epochs reported + the one seed 1 skipped
    assert len(bar.postfix) == 8
    assert {(p["seed"], p["train_loss"]) for p in bar.postfix} >= {(0, "0.3"), (1, "1.2")}
    assert all(p["val_loss"] == "2" for p in bar.postfix)


@linux_only
def test_a_forecaster_fit_reports_epochs_through_the_bar(monkeypatch):
    import lstmkit.core.training as trainer

    bars = []
    monkeypatch.setattr(trainer, "seed_bar", lambda progress, n, epochs, desc: bars.append(
        _Bar(n * epochs)) or bars[-1])
    f = _fit(2)
    assert bars and bars[0].n == 3 * 3  # 3 seeds x 3 epochs
    assert {p["seed"] for p in bars[0].postfix} == set(f.seed_list)
