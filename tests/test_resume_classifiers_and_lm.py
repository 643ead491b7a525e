"""Checkpoints of the classifiers and the language model: a fit stopped midway and resumed
from its checkpoint folder ends bitwise as the uninterrupted fit (weights, batch-norm
statistics, history), with the defaults' random windows and dropout, a learning-rate
schedule and early stopping's best weights in play (for the language model: the decayed
learning rate and a min_lr stop); a resume with other settings is refused; a completed fit
removes its checkpoints. (The stop comes from the ``on_epoch`` hook, before that epoch's
checkpoint is written, so the resume redoes the epoch, as after a kill.)"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmkit.classify.classifier import SequenceClassifier
from lstmkit.core.errors import LstmkitError
from lstmkit.text.classifier import TextClassifier

KW = dict(hidden_size=8, conv_channels=4, epochs=4, steps_per_epoch=3, seeds=2,
          schedule="cosine", patience=3, progress=False)  # random_crop, dropout: defaults


class Stop(Exception):
    pass


def stop_at(seed: int, epoch: int):
    def hook(s, row):
        if (s, row["epoch"]) == (seed, epoch):
            raise Stop

    return hook


def same(a, b) -> None:
    assert a.histories_ == b.histories_
    for na, nb in zip(a.networks_, b.networks_, strict=True):
        sa, sb = na.state_dict(), nb.state_dict()
        assert sa.keys() == sb.keys()
        assert all(torch.equal(sa[k], sb[k]) for k in sa), "weights differ after the resume"


def test_a_stopped_sequence_classifier_fit_resumes_bitwise(tmp_path):
    assert SequenceClassifier().random_crop > 0 and SequenceClassifier().dropout > 0
    full = SequenceClassifier(**KW).fit("digits-rows", val=0.2)
    ck = tmp_path / "ck"
    first, second = SequenceClassifier(**KW).seed_list
    with pytest.raises(Stop):  # the first seed finishes, the second stops in epoch 3
        SequenceClassifier(**KW).fit("digits-rows", val=0.2, checkpoint=ck,
                                     on_epoch=stop_at(second, 3))
    assert sorted(p.name for p in ck.iterdir()) == [f"seed{first}.ckpt", f"seed{second}.ckpt"]
    with pytest.raises(LstmkitError, match="^Resume: expected the settings of the "):
        SequenceClassifier(**{**KW, "hidden_size": 9}).fit("digits-rows", val=0.2,
                                                           checkpoint=ck, resume=True)
    resumed = SequenceClassifier(**KW).fit("digits-rows", val=0.2, checkpoint=ck, resume=True)
    same(resumed, full)
    assert not ck.exists()  # a completed fit leaves nothing to resume


def test_a_stopped_text_classifier_fit_resumes_bitwise(tmp_path):
    texts = ["gostei muito do filme", "odiei o final", "que filme lindo", "muito chato",
             "adorei tudo", "horrível e longo"] * 8
    labels = ["pos", "neg", "pos", "neg", "pos", "neg"] * 8
    kw = dict(embed_size=8, hidden_size=8, epochs=4, seeds=1, min_count=1, progress=False)
    full = TextClassifier(**kw).fit(texts, labels)
    ck = tmp_path / "ck"
    with pytest.raises(Stop):
        TextClassifier(**kw).fit(texts, labels, checkpoint=ck, on_epoch=stop_at(0, 2))
    same(TextClassifier(**kw).fit(texts, labels, checkpoint=ck, resume=True), full)


def cli_resumes_after_an_interrupt(args, tmp_path, capsys, monkeypatch) -> None:
    """``main(args)`` interrupted (^C as epoch 2 ends, before its checkpoint) exits 130,
    says where the checkpoint is and writes no run directory; ``--resume`` then writes the
    uninterrupted run's model, byte for byte, and removes the checkpoints."""
    from lstmkit.cli.main import main
    from lstmkit.core import training

    assert main([*args, "--out", str(tmp_path / "whole")]) == 0
    record = training.EpochLog.record

    def interrupted(self, row):
        out = record(self, row)
        if row["epoch"] == 2:
            raise KeyboardInterrupt
        return out

    monkeypatch.setattr(training.EpochLog, "record", interrupted)
    run = tmp_path / "run"
    capsys.readouterr()
    assert main([*args, "--out", str(run)]) == 130
    err = capsys.readouterr().err
    assert "interrupted: the last checkpoint is kept in" in err and "--resume" in err
    assert not run.exists()
    monkeypatch.setattr(training.EpochLog, "record", record)
    assert main([*args, "--out", str(run), "--resume"]) == 0
    assert (run / "model.safetensors").read_bytes() == \
        (tmp_path / "whole" / "model.safetensors").read_bytes()
    assert not (tmp_path / ".run.checkpoint").exists()


def test_cli_classify_fit_resumes_after_an_interrupt(tmp_path, capsys, monkeypatch):
    cli_resumes_after_an_interrupt(
        ["classify", "fit", "--data", "digits-rows", "--hidden-size", "8", "--conv-channels",
         "4", "--epochs", "3", "--steps-per-epoch", "2", "--seeds", "1", "--quiet"],
        tmp_path, capsys, monkeypatch)


LINES = ["o governo anunciou novas medidas hoje .", "a polícia federal investiga o caso .",
         "segue em anexo o relatório do governo ."] * 10


def test_a_stopped_language_model_fit_resumes_bitwise(tmp_path):
    from lstmkit.text.language import LanguageModel

    kw = dict(min_count=1, embed_size=8, hidden_size=8, dropout=0.2, epochs=5, batch_size=2,
              bptt=4, progress=False, threads=1)

    def same_lm(a, b):
        assert a.history_ == b.history_ and a.stop_reason_ == b.stop_reason_
        sa, sb = a.net_.state_dict(), b.net_.state_dict()
        assert all(torch.equal(sa[k], sb[k]) for k in sa)

    # the second one, on noise, stalls, decays its learning rate under min_lr, stops early
    rng = np.random.default_rng(0)
    noise = [" ".join(rng.choice([f"w{i}" for i in range(30)], 8)) for _ in range(120)]
    for lines, extra in ((LINES, {}), (noise, {"epochs": 40, "lr": 3e-2, "lr_decay": 0.1,
                                              "min_lr": 1e-4, "batch_size": 4})):
        full = LanguageModel(**{**kw, **extra}).fit(lines)
        ck = tmp_path / f"ck{len(extra)}"
        stop = len(full.history_)  # interrupted in its last epoch
        with pytest.raises(Stop):
            LanguageModel(**{**kw, **extra}).fit(lines, checkpoint=ck,
                                                 on_epoch=stop_at(0, stop))
        resumed = LanguageModel(**{**kw, **extra}).fit(lines, checkpoint=ck, resume=True)
        same_lm(resumed, full)
        assert not ck.exists()
    assert full.stop_reason_ is not None and len(full.history_) < 40


def test_cli_text_fit_resumes_after_an_interrupt(tmp_path, capsys, monkeypatch):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(LINES), encoding="utf-8")
    cli_resumes_after_an_interrupt(
        ["text", "fit", "--corpus", str(corpus), "--min-count", "1", "--embed-size", "8",
         "--hidden-size", "8", "--epochs", "3", "--batch-size", "2", "--bptt", "4", "--quiet"],
        tmp_path, capsys, monkeypatch)
