"""Language model, Kneser-Ney baseline, truncated BPTT and the ``lstmkit text`` CLI."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lstmkit.cli.main import main
from lstmkit.core.errors import LstmkitError
from lstmkit.text.language import LanguageModel, LMConfig, LMNet
from lstmkit.text.ngram import KneserNey
from lstmkit.text.training import batchify, stream_nll

LINES = [
    "segue documento em anexo .",
    "segue o documento em anexo para revisão .",
    "o governo anunciou novas medidas hoje .",
    "o presidente anunciou o documento .",
    "segue em anexo o relatório do governo .",
    "a polícia federal investiga o caso .",
] * 12


def _tiny_lm(level="word", epochs=3, **kw):
    return LanguageModel(level=level, min_count=1, embed_size=16, hidden_size=16,
                         num_layers=1, dropout=0.0, epochs=epochs, batch_size=4, bptt=8,
                         lr=1e-2, progress=False, threads=1, **kw).fit(LINES, val=0.1,
                                                                      test=0.1)


# ---------------------------------------------------------------- n-gram baseline
@pytest.mark.parametrize("order", [1, 2, 3])
def test_kneser_ney_is_a_distribution(order):
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 12, size=400)
    kn = KneserNey(order, vocab_size=15).fit(ids)  # ids 12..14 never seen
    for ctx in ([], [3], [3, 4], [13, 14], [1, 2, 3]):
        p = kn.prob_vector(ctx)
        assert p.shape == (15,) and (p > 0).all()
        assert math.isclose(p.sum(), 1.0, rel_tol=1e-9)
    assert kn.perplexity(ids[:50]) < 15  # better than uniform on its own data


def test_kneser_ney_learns_a_deterministic_sequence():
    ids = np.tile(np.arange(5), 60)
    kn = KneserNey(2, vocab_size=5).fit(ids)
    assert kn.prob_vector([2]).argmax() == 3
    assert kn.perplexity(ids[:40]) < 1.5


# ---------------------------------------------------------------- TBPTT helpers
def test_batchify_and_chunked_nll_carry_state():
    ids = torch.arange(23)
    b = batchify(ids, 4)
    assert b.shape == (4, 5) and b[1, 0] == 5  # contiguous columns, remainder dropped
    torch.manual_seed(0)
    net = LMNet(LMConfig(vocab_size=30, embed_size=6, hidden_size=5, num_layers=2,
                         dropout=0.0, tie_weights=False)).double()
    long = torch.randint(0, 30, (50,))
    one, n1 = stream_nll(net, long, chunk=1000)
    many, n2 = stream_nll(net, long, chunk=7)  # state carried across chunks
    assert n1 == n2 == 49
    assert math.isclose(one, many, rel_tol=1e-10)


# ---------------------------------------------------------------- language model
def test_word_lm_learns_beats_uniform_and_completes(tmp_path):
    lm = _tiny_lm(epochs=8)
    m = lm.evaluate()
    assert m["perplexity"] < len(lm.vocab_) / 2 and "ngram_perplexity" in m
    top = lm.complete("segue documento em", k=3)
    assert len(top) == 3 and top[0][1] >= top[1][1] >= top[2][1]
    assert all(w not in ("<pad>", "<unk>", "<eos>") for w, _ in top)
    text = lm.generate("o governo", n=6, temperature=0.8, top_k=5, seed=1)
    assert text.startswith("o governo") and text == lm.generate("o governo", n=6,
                                                               temperature=0.8, top_k=5, seed=1)
    lm.save(tmp_path / "lm")
    again = LanguageModel.load(tmp_path / "lm")
    import lstmkit

    assert type(lstmkit.load(tmp_path / "lm")) is LanguageModel
    np.testing.assert_allclose(again.next_distribution("segue documento"),
                               lm.next_distribution("segue documento"), rtol=1e-6)
    assert again.evaluate(LINES[:6])["tokens"] > 10


def test_char_lm_and_tied_weights_save(tmp_path):
    lm = _tiny_lm(level="char", epochs=2)
    assert lm.net_.decoder.weight is lm.net_.embed.weight
    words = lm.complete("segue documento em", k=2)
    assert 1 <= len(words) <= 2 and all(w and w.isalnum() for w, _ in words)
    lm.save(tmp_path / "c")
    again = LanguageModel.load(tmp_path / "c")
    assert again.net_.decoder.weight is again.net_.embed.weight
    assert len(again.generate("se", n=10, seed=0)) == 12


def test_lm_errors():
    with pytest.raises(LstmkitError, match="level"):
        LanguageModel(level="byte")
    with pytest.raises(LstmkitError, match="fitted"):
        LanguageModel().complete("x")
    with pytest.raises(LstmkitError, match="corpus name"):
        LanguageModel().fit("no-such-corpus")
    with pytest.raises(LstmkitError, match="training stream"):
        LanguageModel(batch_size=64, progress=False).fit(LINES[:12], val=0.2, test=0.2)


# ---------------------------------------------------------------- CLI
def test_cli_text_fit_complete_generate(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(LINES), encoding="utf-8")
    out = tmp_path / "lm"
    args = ["text", "fit", "--corpus", str(corpus), "--out", str(out), "--epochs", "2",
            "--embed-size", "8", "--hidden-size", "8", "--num-layers", "1", "--batch-size", "4",
            "--bptt", "8", "--min-count", "1", "--quiet"]
    assert main(args) == 0
    assert "Kneser-Ney" in capsys.readouterr().out
    assert {"model.safetensors", "config.json", "metrics.json", "history.csv",
            "loss.png"} <= {p.name for p in out.iterdir()}
    assert main(["text", "complete", "--model", str(out), "Segue documento em", "-k", "3"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    assert len(rows) == 3 and all(len(r.split("\t")) == 2 for r in rows)
    assert main(["text", "generate", "--model", str(out), "o governo", "--tokens", "5"]) == 0
    assert capsys.readouterr().out.startswith("o governo")
    assert main(args) == 2  # non-empty --out
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("não".encode("latin-1"))
    assert main(["text", "fit", "--corpus", str(bad), "--out", str(tmp_path / "b")]) == 2
    assert "UTF-8" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


# ---------------------------------------------------------------- adaptive softmax
def test_adaptive_softmax_is_a_distribution_and_its_loss_is_its_nll():
    torch.manual_seed(0)
    cfg = LMConfig(vocab_size=5000, embed_size=12, hidden_size=8, num_layers=1, dropout=0.0)
    assert cfg.output_layer() == "adaptive"  # auto, from 4000 tokens
    net = LMNet(cfg).double().eval()
    assert net.adaptive and net.asm.cutoffs[:-1] == [625, 2500]
    x, y = torch.randint(0, 5000, (3, 7)), torch.randint(0, 5000, (3, 7))
    logp, _ = net(x)  # (B, T, V) log-probabilities
    assert logp.shape == (3, 7, 5000)
    torch.testing.assert_close(logp.logsumexp(-1), torch.zeros(3, 7, dtype=torch.float64))
    want = -logp.gather(2, y.unsqueeze(2)).mean()
    loss, _ = net.loss(x, y)
    torch.testing.assert_close(loss, want, rtol=1e-12, atol=1e-12)
    total, n = stream_nll(net, x.reshape(-1), chunk=5)  # the training/eval path
    with torch.no_grad():
        full = -torch.log_softmax(net(x.reshape(1, -1))[0], -1)[0, :-1].gather(
            1, x.reshape(-1)[1:].unsqueeze(1)).sum()
    assert n == 20 and math.isclose(total, float(full), rel_tol=1e-10)
    assert LMNet(LMConfig(vocab_size=3999)).decoder is not None  # auto: full below 4000
    assert LMNet(LMConfig(vocab_size=300, softmax="adaptive")).adaptive


def test_an_adaptive_model_trains_saves_and_completes(tmp_path):
    lm = _tiny_lm(epochs=4, softmax="adaptive")
    assert lm.net_.adaptive and lm.evaluate()["perplexity"] < len(lm.vocab_) / 2
    lm.save(tmp_path / "a")
    again = LanguageModel.load(tmp_path / "a")
    np.testing.assert_allclose(again.next_distribution("segue documento"),
                               lm.next_distribution("segue documento"), rtol=1e-6)
    assert again.complete("segue documento em", k=2) == lm.complete("segue documento em", k=2)


def test_the_tied_adaptive_head_scores_frequent_tokens_with_their_embedding_rows():
    from torch import nn

    from lstmkit.text.adaptive import TiedHead

    torch.manual_seed(0)
    cfg = LMConfig(vocab_size=5000, embed_size=12, hidden_size=12, num_layers=1, dropout=0.0)
    net = LMNet(cfg).double()
    head = net.asm.head
    assert isinstance(head, TiedHead) and head.shortlist == 625
    z = torch.randn(4, 12, dtype=torch.float64)
    torch.testing.assert_close(head(z)[:, :625], z @ net.embed.weight[:625].T)
    # a loss on the output side alone reaches the shortlist's embedding rows, not the rare ones
    loss, _ = net.loss(torch.zeros(1, 3, dtype=torch.int64), torch.tensor([[3, 4, 5]]))
    grad = torch.autograd.grad(loss, net.embed.weight)[0]
    assert grad[3:6].abs().sum() > 0 and grad[625:].abs().sum() == 0
    assert "asm.head.weight" not in net.weights() and "asm.head.cluster" in net.weights()
    untied = LMNet(LMConfig(vocab_size=5000, embed_size=12, hidden_size=12, num_layers=1,
                            dropout=0.0, tie_weights=False))
    assert isinstance(untied.asm.head, nn.Linear)
    again = LMNet(cfg)  # a tied config given an untied head's weights (models saved before)
    again.load_weights(untied.weights())
    x = torch.randint(0, 5000, (2, 5))
    torch.testing.assert_close(again.eval()(x)[0], untied.eval()(x)[0])


# ---------------------------------------------------------------- stopping, prompts
def test_the_learning_rate_floor_stops_training_and_says_so():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(30)]
    noise = [" ".join(rng.choice(words, 8)) for _ in range(120)]  # nothing to learn: val
    lm = LanguageModel(min_count=1, embed_size=16, hidden_size=16, num_layers=1, dropout=0.0,
                       epochs=40, batch_size=4, bptt=8, lr=3e-2, lr_decay=0.1, min_lr=1e-4,
                       progress=False, threads=1).fit(noise, val=0.2, test=0.1)
    assert len(lm.history_) < 40  # perplexity stops improving, lr / 10 each time, < 1e-4
    assert lm.history_[-1]["lr"] < 1e-3
    assert lm.stop_reason_.startswith(f"stopped after epoch {len(lm.history_)} of 40: the "
                                      "learning rate decayed to")
    with pytest.raises(LstmkitError, match="expected min_lr below lr"):
        LanguageModel(lr=1e-3, min_lr=1e-3).fit(LINES)


def test_prompts_empty_are_refused_and_unknown_are_named(tmp_path, capsys):
    lm = _tiny_lm(epochs=1)
    for bad in ("", "   ", "\n"):
        with pytest.raises(LstmkitError, match="Prompt: expected at least one word"):
            lm.complete(bad)
        with pytest.raises(LstmkitError, match="Prompt: expected at least one word"):
            lm.generate(bad)
    assert lm.unknown_words("xyzzy plugh") == ["xyzzy", "plugh"]
    assert lm.unknown_words("xyzzy governo") is None
    lm.save(tmp_path / "lm")
    assert main(["text", "complete", "--model", str(tmp_path / "lm"), "xyzzy plugh"]) == 0
    err = capsys.readouterr().err
    assert "warning: every word of the prompt is unknown to the model (xyzzy, plugh)" in err
    assert main(["text", "generate", "--model", str(tmp_path / "lm"), ""]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and cap.err.startswith("error: Prompt: expected at least one word")
    assert main(["text", "complete", "--model", str(tmp_path / "lm"), "o governo"]) == 0
    assert capsys.readouterr().err == ""
