"""``fit(..., on_epoch=hook)``: one name and one contract for every trained model.

The hook gets ``(seed, row)`` after every epoch of every seed, in seed order, with the row
the history keeps; with it the seeds train in this process even when ``workers`` asks for
more (a hook in a forked worker could neither be seen nor stop anything), and an exception
it raises stops the fit: that is how the tuner prunes.
"""

from __future__ import annotations

import pytest
from panels import synthetic_panel

import lstmkit
from lstmkit.classify.classifier import SequenceClassifier
from lstmkit.forecast.panel.model import GlobalForecaster


class Stop(Exception):
    pass


def fits():
    """(name, make, fit) of one small model per family; ``fit(model, hook)``."""
    return [
        ("single series", lambda: lstmkit.LSTMForecaster(
            epochs=3, seeds=2, workers=2, hidden_size=8, progress=False),
         lambda m, hook: m.fit("gas-furnace", target="CO2", on_epoch=hook)),
        ("panel", lambda: GlobalForecaster(
            lookback=12, horizon=4, hidden_size=8, epochs=3, steps_per_epoch=3, seeds=2,
            workers=2, progress=False),
         lambda m, hook: m.fit(synthetic_panel(3), on_epoch=hook)),
        ("sequences", lambda: SequenceClassifier(
            hidden_size=8, conv_channels=0, epochs=3, steps_per_epoch=2, seeds=2, workers=2,
            progress=False),
         lambda m, hook: m.fit("digits-rows", on_epoch=hook)),
    ]


@pytest.mark.parametrize("name,make,fit", fits(), ids=[f[0] for f in fits()])
def test_the_hook_sees_every_epoch_of_every_seed_in_this_process(name, make, fit):
    seen = []
    model = fit(make(), lambda seed, row: seen.append((seed, dict(row))))
    expected = [(s, row) for s, history in zip(model.seed_list, model.histories_, strict=True)
                for row in history]
    assert len(expected) == 2 * 3  # two seeds, three epochs each (no early stopping here)
    assert [(s, r["epoch"]) for s, r in seen] == [(s, r["epoch"]) for s, r in expected]
    assert [r["train_loss"] for _, r in seen] == [r["train_loss"] for _, r in expected]


@pytest.mark.parametrize("name,make,fit", fits(), ids=[f[0] for f in fits()])
def test_an_exception_from_the_hook_stops_the_fit(name, make, fit):
    seen = []

    def hook(seed, row):
        seen.append((seed, row["epoch"]))
        if row["epoch"] == 2:
            raise Stop

    model = make()
    with pytest.raises(Stop):
        fit(model, hook)
    assert seen == [(model.seed_list[0], 1), (model.seed_list[0], 2)]
    assert getattr(model, "networks_", None) is None  # nothing half-trained is kept


def test_the_language_model_takes_the_same_hook():
    from lstmkit.text.language import LanguageModel

    lines = ["o governo anunciou novas medidas hoje .", "a polícia federal investiga o caso ."]
    make = lambda: LanguageModel(min_count=1, embed_size=8, hidden_size=8, dropout=0.0,
                                 epochs=3, batch_size=2, bptt=4, progress=False, threads=1)
    seen = []
    model = make().fit(lines * 10, on_epoch=lambda seed, row: seen.append((seed, dict(row))))
    assert seen == [(model.seed, row) for row in model.history_] and len(seen) == 3

    def stop(seed, row):
        if row["epoch"] == 2:
            raise Stop

    model = make()
    with pytest.raises(Stop):
        model.fit(lines * 10, on_epoch=stop)
    assert getattr(model, "net_", None) is None
