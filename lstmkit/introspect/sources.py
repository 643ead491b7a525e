"""Inputs for ``lstmkit inspect`` / ``lstmkit gradients`` from a saved model of any kind.

* forecasters (``windows_for``): scaled input windows (handled by the commands themselves);
* :class:`lstmkit.text.language.LanguageModel`: token ids of a text (corpus name, text
  file or a prompt), the time axis labelled with the tokens (characters or words); the
  gradient loss is the next-token cross-entropy at the last step;
* :class:`lstmkit.classify.classifier.SequenceClassifier`: one (standardised) sequence of its
  data; the gradient loss is the cross-entropy of the label.

Anything else gives a one-line :class:`lstmkit.core.errors.LstmkitError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from lstmkit.core.errors import expected
from lstmkit.core.validate import positive_int

KINDS = "a forecaster, a SequenceClassifier or a LanguageModel"


def model_kind(model, component: str = "Introspect") -> str:
    """``"forecaster"``, ``"language"`` or ``"classifier"``; otherwise an error."""
    from lstmkit.classify.classifier import SequenceClassifier
    from lstmkit.text.language import LanguageModel

    if isinstance(model, LanguageModel):
        if not hasattr(model, "net_"):
            raise expected(component, "a fitted LanguageModel", "an unfitted one")
        return "language"
    if isinstance(model, SequenceClassifier):
        if not getattr(model, "networks_", None):
            raise expected(component, "a fitted SequenceClassifier", "an unfitted one")
        return "classifier"
    if hasattr(model, "windows_for"):
        return "forecaster"
    raise expected(component, KINDS, f"model class {type(model).__name__}")


@dataclass
class Sequence:
    """One sequence to trace: the module, its encoder input ``x`` and time-axis labels."""

    module: object
    x: object  # (T,) token ids or (T, F) encoder input
    labels: list[str] | None
    description: str
    arrays: dict = field(default_factory=dict)


def _pick(component: str, n: int, index: int, what: str) -> int:
    if not -n <= index < n:
        raise expected(component, f"--index in [{-n}, {n}) ({n} {what})", index)
    return index % n


def _start_tokens(lm) -> list[int]:
    return lm._context("")  # the end of a previous line: how every line starts in training


def _lm_stream(lm, data, component: str, first_line: int, min_tokens: int):
    """Token ids (np.int64) of the corpus ``data`` from line ``first_line`` on, at least
    ``min_tokens`` (or all there are), preceded by the line-start token; and (k, lines)."""
    from lstmkit.text.data import load_corpus, stream

    lines = load_corpus(data)
    if not lines:
        raise expected(component, "a non-empty text", f"{data!r} without lines")
    k = _pick(component, len(lines), first_line, "lines")
    ids, n, stop = [np.asarray(_start_tokens(lm), dtype=np.int64)], 0, k
    while n < min_tokens and stop < len(lines):
        chunk = stream(lines[stop:stop + 64], lm.vocab_, lm.level, lm.lower)
        ids.append(np.asarray(chunk, dtype=np.int64))
        n += len(chunk)
        stop += 64
    return np.concatenate(ids), k, len(lines)


def lm_sequence(lm, data=None, text=None, index: int = 0, length: int = 40) -> Sequence:
    """The first ``length`` tokens of ``text`` (a prompt) or of the corpus ``data`` from line
    ``index`` on, as ids for ``lm.net_`` with the tokens as labels."""
    positive_int("Inspect", "length", length)
    if text is not None:
        ids = np.asarray(lm._context(text), dtype=np.int64)[:length]
        where = "the prompt"
    elif data is not None:
        ids, k, n = _lm_stream(lm, data, "Inspect", index, length)
        ids = ids[:length]
        where = f"line {k} of {n}"
    else:
        raise expected("Inspect", "--data or --text for a language model", "neither")
    labels = lm.vocab_.decode(ids) if hasattr(lm.vocab_, "decode") else [
        lm.vocab_.itos[int(i)] for i in ids]
    return Sequence(lm.net_, torch.as_tensor(ids), [str(t) for t in labels],
                    f"{lm.level}-level text, {where} ({len(ids)} tokens)", {"ids": ids})


def lm_windows(lm, data, lookback: int, windows: int) -> tuple[torch.Tensor, torch.Tensor]:
    """At most ``windows`` evenly spaced (ids (M, T), next token (M,)) pairs of ``data``."""
    ids, _, _ = _lm_stream(lm, data, "Gradients", 0, max(4 * lookback * windows, 10_000))
    M = len(ids) - lookback
    if M < 1:
        raise expected("Gradients", f"a text of more than {lookback} tokens (--lookback)",
                       f"{len(ids)} tokens")
    starts = np.unique(np.linspace(0, M - 1, min(windows, M)).round().astype(int))
    x = np.stack([ids[s:s + lookback] for s in starts])
    y = ids[starts + lookback]
    return torch.as_tensor(x), torch.as_tensor(y)


def lm_loss(target: torch.Tensor):
    """Next-token cross-entropy at the last step of an ``LMNet`` output ``(logits, state)``."""
    return lambda out: F.cross_entropy(out[0][:, -1], target)


def classifier_set(clf, data, component: str, labels: bool):
    s = clf._as_set(data, labels=labels)
    if len(s) == 0:
        raise expected(component, "at least one sequence", "none")
    return s


def classifier_sequence(clf, data, index: int = 0) -> Sequence:
    """Sequence ``index`` of ``data`` (its valid steps), standardised as the first seed's
    network does before its encoder."""
    net = clf.networks_[0]
    if net.embed is not None:
        raise expected("Inspect", "a numeric SequenceClassifier", "one with an embedding")
    s = classifier_set(clf, data, "Inspect", labels=False)
    k = _pick("Inspect", len(s), index, "sequences")
    n = int(s.lengths[k])
    x = np.asarray(s.X[k, :n], dtype=np.float32)  # (T, C) raw
    z = (torch.as_tensor(x) - net.x_mean) / net.x_std
    return Sequence(net, z.to(torch.float32), None,
                    f"sequence {k} of {len(s)} ({n} steps)", {"x": x})


def classifier_windows(clf, data, windows: int):
    """At most ``windows`` evenly spaced labelled sequences: (x, lengths, y) tensors."""
    s = classifier_set(clf, data, "Gradients", labels=True)
    if s.y is None:
        raise expected("Gradients", "labelled sequences (the loss is the label's "
                       "cross-entropy)", "no labels")
    idx = np.unique(np.linspace(0, len(s) - 1, min(windows, len(s))).round().astype(int))
    s = s.subset(idx)
    return (torch.as_tensor(s.X, dtype=torch.float32), torch.as_tensor(s.lengths),
            torch.as_tensor(s.y, dtype=torch.int64))


def initial_network(model, kind: str):
    """The network ``model`` started from (its first seed's initial weights)."""
    if kind == "language":
        from lstmkit.text.language import LMNet

        torch.manual_seed(model.seed)  # as LanguageModel.fit does
        return LMNet(model.net_config_)
    from lstmkit.nn.sequence import SequenceNet

    torch.manual_seed(model.seed_list[0])  # as NeuralClassifierBase._train_members does
    net = SequenceNet(model.network_config_)
    trained = model.networks_[0]
    net.set_standardization(trained.x_mean, trained.x_std)
    return net
