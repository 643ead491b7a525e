"""Text classification (e.g. sentiment): ``TextClassifier`` = embedding -> BiLSTM -> pooling
-> logits, the network of :class:`~lstmkit.classify.classifier.SequenceClassifier` with a token
embedding in front.

    >>> from lstmkit.text.classifier import TextClassifier
    >>> clf = TextClassifier(hidden_size=64, epochs=5).fit("tweets-sentiment")  # doctest: +SKIP
    >>> clf.evaluate()["baselines"]["tf-idf + logistic regression"]             # doctest: +SKIP
    >>> clf.predict(["what a great day", "this is awful"])                      # doctest: +SKIP

``evaluate`` reports the network beside the majority class and TF-IDF (word 1-2 grams) +
logistic regression, fitted on the same training texts and scored on the same test texts.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from lstmkit.core.classifier import NeuralClassifierBase, classification_metrics
from lstmkit.core.errors import expected
from lstmkit.core.labels import check_two_classes, encode_labels, stratified_split
from lstmkit.nn.sequence import SequenceNet, SequenceNetConfig
from lstmkit.text.config import TEXT_CLASSIFIER
from lstmkit.text.data import Vocabulary, encode_texts, load_labelled_text, tokenize


class TextClassifier(NeuralClassifierBase):
    """Embedding + recurrent encoder + pooling + linear, trained with cross-entropy.

    Its parameters are those of :class:`~lstmkit.classify.classifier.SequenceClassifier`'s
    network, optimiser and ensemble (default here: bidirectional LSTM, max pooling), with
    :class:`~lstmkit.text.config.TextInputConfig` (embed_size, min_count, max_vocab,
    max_len, lower) in place of channel standardisation.
    """

    network_class = SequenceNet
    spec = TEXT_CLASSIFIER

    _bucket = True  # texts vary in length: batches of similar lengths

    @property
    def label(self) -> str:  # type: ignore[override]
        bi = "Bi" if self.bidirectional else ""
        return f"{bi}{self.cell.upper()}({self.hidden_size}, {self.pooling})"

    def network_config(self, input_size: int, n_classes: int) -> SequenceNetConfig:
        return replace(self.config("network"), input_size=self.embed_size, n_classes=n_classes,
                       vocab_size=max(input_size, 2), embed_size=self.embed_size)

    # ------------------------------------------------------------------ fit
    def fit(self, texts, labels=None, *, test=0.2, val=0.1, split_seed: int = 0,
            on_epoch=None, checkpoint=None, resume: bool = False):
        """Train on ``texts`` and ``labels`` (lists), or a source name / CSV path
        (``labels=None``; see :func:`lstmkit.text.data.load_labelled_text`).

        ``test`` / ``val``: stratified random held-out counts or fractions (seed
        ``split_seed``); the vocabulary and the baselines see the training texts only.
        ``on_epoch(seed, row)``, ``checkpoint`` and ``resume``: as in
        :meth:`lstmkit.classify.classifier.SequenceClassifier.fit`.
        """
        name = type(self).__name__
        if labels is None:
            texts, labels = load_labelled_text(texts)
        texts = [str(t) for t in texts]
        if len(texts) != len(labels):
            raise expected(name, f"{len(texts)} labels (one per text)", len(labels))
        if len(texts) < 2:
            raise expected(name, "at least 2 labelled texts", len(texts))
        y, self.classes_ = encode_labels(labels, component=name)
        idx = np.arange(len(y))
        test_idx = np.zeros(0, dtype=np.int64)
        if test:
            idx, test_idx = stratified_split(y, test, split_seed, name)
        val_idx = np.zeros(0, dtype=np.int64)
        if val:
            keep, held = stratified_split(y[idx], val, split_seed + 1, name)
            idx, val_idx = idx[keep], idx[held]
        pick = lambda ii: ([texts[i] for i in ii], y[ii])
        (tr_x, tr_y), (va_x, va_y) = pick(idx), pick(val_idx)
        self.test_texts_, self.test_y_ = pick(test_idx) if len(test_idx) else (None, None)
        self.vocab_ = Vocabulary.build((tokenize(t, "word", bool(self.lower)) for t in tr_x),
                                       self.min_count, self.max_vocab)
        self.class_counts_ = np.bincount(tr_y, minlength=len(self.classes_)).tolist()
        check_two_classes(name, self.class_counts_, self.classes_, "texts")
        self.split_sizes_ = [len(tr_y), len(va_y), len(test_idx)]
        net_cfg = self.network_config(len(self.vocab_), len(self.classes_))
        val_t = self._tensors(va_x, va_y) if len(va_y) else None
        self._train_members(net_cfg, self._tensors(tr_x, tr_y), val_t, on_epoch=on_epoch,
                            checkpoint=checkpoint, resume=resume)
        self.tfidf_ = _tfidf_baseline(tr_x, tr_y)
        return self

    def _tensors(self, texts, y=None):
        X, lengths = encode_texts(texts, self.vocab_, self.max_len, "word", bool(self.lower))
        y = np.zeros(len(texts), dtype=np.int64) if y is None else y
        return torch.as_tensor(X), torch.as_tensor(lengths), torch.as_tensor(y)

    def _texts(self, texts) -> list[str]:
        if texts is None:
            if self.test_texts_ is None:
                raise expected(type(self).__name__, "texts, or a model fitted with a test "
                               "split", "neither")
            return self.test_texts_
        if isinstance(texts, str):
            texts = [texts]
        return [str(t) for t in texts]

    # ------------------------------------------------------------------ predict / evaluate
    def predict_proba(self, texts=None) -> np.ndarray:
        """Class probabilities (N, K), the mean over the seed members."""
        self._check_fitted("predict")
        x, lens, _ = self._tensors(self._texts(texts))
        return self._member_proba(x, lens).mean(0)

    def predict(self, texts=None) -> np.ndarray:
        proba = self.predict_proba(texts)
        return np.asarray(self.classes_, dtype=object)[proba.argmax(1)]

    def evaluate(self, texts=None, labels=None) -> dict:
        """Accuracy / macro-F1 per seed, aggregated and for the ensemble, beside the majority
        class and TF-IDF + logistic regression on the same texts."""
        self._check_fitted("evaluate")
        name = type(self).__name__
        if texts is None:
            texts, y = self._texts(None), self.test_y_
        else:
            if labels is None:
                texts, labels = load_labelled_text(texts)
            texts = self._texts(texts)
            y, _ = encode_labels(labels, self.classes_, name)
        x, lens, _ = self._tensors(texts)
        baselines = {"majority": self._majority(y)}
        if getattr(self, "tfidf_", None) is not None:
            baselines["tf-idf + logistic regression"] = classification_metrics(
                y, self.tfidf_.predict(texts), len(self.classes_))
        return self._report(y, self._member_proba(x, lens), baselines)

    # ------------------------------------------------------------------ persistence
    def _state_tensors(self) -> dict:
        out = super()._state_tensors()
        if getattr(self, "tfidf_", None) is not None:
            out |= tfidf_tensors(self.tfidf_)
        return out

    def _extra_config(self) -> dict:
        out = {"vocab": self.vocab_.to_dict(), "split_sizes": self.split_sizes_}
        if getattr(self, "tfidf_", None) is not None:
            out["baseline_terms"] = tfidf_terms(self.tfidf_)
        return out

    def _load_extra(self, config: dict, tensors: dict) -> None:
        self.vocab_ = Vocabulary.from_dict(config["vocab"])
        self.split_sizes_ = config.get("split_sizes")
        self.test_texts_ = self.test_y_ = None
        terms = config.get("baseline_terms")  # models saved before it was stored have none
        self.tfidf_ = None if terms is None else tfidf_from_state(terms, tensors)


TFIDF = dict(ngram_range=(1, 2), sublinear_tf=True)  # the baseline's vectoriser settings


def _tfidf_baseline(texts: list[str], y: np.ndarray):
    """TF-IDF (word 1-2 grams, sublinear tf, at most 50,000 terms) + logistic regression,
    fitted on ``texts``."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    pipe = make_pipeline(TfidfVectorizer(min_df=2, max_features=50_000, **TFIDF),
                         LogisticRegression(C=4.0, max_iter=2000))
    if len(set(y.tolist())) < 2:
        return None
    return pipe.fit(texts, y)


# The baseline is saved as data (terms in config.json; idf and the logistic regression's
# weights in model.safetensors), never pickled, and rebuilt with scikit-learn's own classes.
def tfidf_terms(pipe) -> list[str]:
    vocab = pipe[0].vocabulary_
    return sorted(vocab, key=vocab.__getitem__)  # term of column 0, 1, ...


def tfidf_tensors(pipe) -> dict:
    vec, lr = pipe[0], pipe[1]
    return {"baseline.idf": torch.as_tensor(vec.idf_),
            "baseline.coef": torch.as_tensor(lr.coef_),
            "baseline.intercept": torch.as_tensor(lr.intercept_),
            "baseline.classes": torch.as_tensor(lr.classes_)}


def tfidf_from_state(terms: list[str], tensors: dict):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    vec = TfidfVectorizer(vocabulary={t: i for i, t in enumerate(terms)}, **TFIDF)
    vec.fit(terms[:1])  # a fixed vocabulary: this only marks it fitted; idf_ is set next
    vec.idf_ = tensors["baseline.idf"].numpy()
    lr = LogisticRegression()
    lr.coef_ = tensors["baseline.coef"].numpy()
    lr.intercept_ = tensors["baseline.intercept"].numpy()
    lr.classes_ = tensors["baseline.classes"].numpy()
    return make_pipeline(vec, lr)
