"""Recurrent language models, word- or character-level, and autocomplete.

    >>> from lstmkit.text.language import LanguageModel
    >>> lm = LanguageModel(level="word", epochs=8).fit("porttinari")      # doctest: +SKIP
    >>> lm.evaluate()            # held-out perplexity, LSTM and Kneser-Ney  # doctest: +SKIP
    >>> lm.complete("Segue documento em", k=5)   # [(word, probability)]    # doctest: +SKIP
    >>> lm.generate("O governo", n=20, temperature=0.8, top_k=40)          # doctest: +SKIP

Network: embedding -> dropout -> stacked :class:`lstmkit.nn.Recurrent` -> dropout -> linear
to the vocabulary, optionally with the output weights tied to the embedding (Press & Wolf
2017; a ``Linear(H, E)`` projection is added when H != E), or, for vocabularies of 4,000
tokens or more, an adaptive softmax (Grave et al. 2017,
``torch.nn.AdaptiveLogSoftmaxWithLoss``: exact probabilities, a fraction of the cost;
``softmax=``). Trained with truncated BPTT over the corpus as one stream
(:mod:`lstmkit.text.training`). The corpus is split by lines, contiguously: train, then
validation, then test. The baseline is an interpolated
Kneser-Ney n-gram model (:mod:`lstmkit.text.ngram`) on the same streams and vocabulary.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from lstmkit.core.errors import expected
from lstmkit.core.estimator import Estimator
from lstmkit.core.training import torch_threads
from lstmkit.core.validate import optional, positive_int
from lstmkit.nn import Recurrent
from lstmkit.nn.dropout import ThresholdDropout
from lstmkit.text.adaptive import TiedHead, adaptive_softmax
from lstmkit.text.config import LANGUAGE_MODEL, LMConfig, LMTrainConfig
from lstmkit.text.data import (
    EOS,
    Vocabulary,
    detokenize,
    load_corpus,
    split_lines,
    stream,
    tokenize,
)
from lstmkit.text.ngram import KneserNey
from lstmkit.text.training import perplexity, train_lm

SPECIAL = ("<pad>", "<unk>", EOS)


class LMNet(nn.Module):
    """``x`` (B, T) token ids, state -> scores (B, T, V), final state.

    The output layer is a full softmax (``decoder``: logits) or an adaptive one (``asm``:
    ``forward`` returns log-probabilities, which are logits too); :meth:`loss` is the mean
    next-token cross-entropy, computed without the (B, T, V) scores where the adaptive
    softmax allows it.
    """

    def __init__(self, cfg: LMConfig):
        super().__init__()
        self.cfg = cfg
        V, E, H = cfg.vocab_size, cfg.embed_size, cfg.hidden_size
        self.embed = nn.Embedding(V, E)
        nn.init.uniform_(self.embed.weight, -0.1, 0.1)
        self.drop = ThresholdDropout(cfg.dropout)  # nn.Dropout's, a faster mask on the CPU
        self.encoder = Recurrent(cfg.cell, E, H, num_layers=cfg.num_layers, dropout=cfg.dropout)
        self.adaptive = cfg.output_layer() == "adaptive"
        tied = cfg.tie_weights
        self.proj = nn.Linear(H, E) if (tied or self.adaptive) and H != E else None
        if self.adaptive:  # tied: the head's frequent-token rows are the embedding's
            self.decoder = None
            self.asm = adaptive_softmax(self.embed, V, tied)
            return
        self.decoder = nn.Linear(E if tied else H, V)
        nn.init.zeros_(self.decoder.bias)
        if tied:
            self.decoder.weight = self.embed.weight  # one tensor, saved once

    def features(self, x: torch.Tensor, state=None):
        """(B, T) ids -> (B, T, E or H) inputs of the output layer, final state."""
        out, state = self.encoder(self.drop(self.embed(x)), state)  # (B, T, H)
        out = self.drop(out)
        if self.proj is not None:
            out = self.proj(out)  # (B, T, E)
        return out, state

    def forward(self, x: torch.Tensor, state=None):
        out, state = self.features(x, state)
        if self.adaptive:
            B, T, E = out.shape
            return self.asm.log_prob(out.reshape(B * T, E)).view(B, T, -1), state  # (B, T, V)
        return self.decoder(out), state  # (B, T, V)

    def loss(self, x: torch.Tensor, y: torch.Tensor, state=None, reduction: str = "mean"):
        """Next-token cross-entropy of targets ``y`` (B, T) (nats), final state."""
        out, state = self.features(x, state)
        flat = out.reshape(-1, out.shape[-1])  # (B·T, E)
        if self.adaptive:
            nll = -self.asm(flat, y.reshape(-1)).output  # (B·T,) target log-probabilities
            return (nll.sum() if reduction == "sum" else nll.mean()), state
        logits = self.decoder(flat)  # (B·T, V)
        return torch.nn.functional.cross_entropy(logits, y.reshape(-1),
                                                 reduction=reduction), state

    def weights(self) -> dict:
        """state_dict without the tied copy (safetensors refuses shared tensors)."""
        sd = self.state_dict()
        if self.decoder is not None and self.decoder.weight is self.embed.weight:
            sd.pop("decoder.weight", None)
        return sd

    def load_weights(self, sd: dict) -> None:
        if self.adaptive and isinstance(self.asm.head, TiedHead) and "asm.head.weight" in sd:
            # a model saved before the adaptive head was tied: it has its own head rows
            self.asm.head = nn.Linear(self.cfg.embed_size, self.asm.head_size, bias=False)
        missing, unexpected = self.load_state_dict(sd, strict=False)
        tied = self.decoder is not None and self.decoder.weight is self.embed.weight
        missing = [k for k in missing if not (tied and k == "decoder.weight")]
        if missing or unexpected:
            raise expected("Model", "weights matching config.json",
                           f"missing {missing[:3]}, unexpected {unexpected[:3]}")


class LanguageModel(Estimator):
    """Word- or character-level recurrent language model with an n-gram baseline.

    Its parameters are the fields of :class:`~lstmkit.text.config.LMTokens` (level,
    min_count, max_vocab, lower), :class:`~lstmkit.text.config.LMConfig` (cell, embed_size,
    hidden_size, num_layers, dropout, tie_weights),
    :class:`~lstmkit.text.config.LMTrainConfig` (epochs, batch_size, bptt, lr, clip_norm,
    weight_decay, lr_decay), :class:`~lstmkit.text.config.NgramConfig` (ngram_order),
    ``seed``, and the execution settings (threads, progress; never saved).
    """

    spec = LANGUAGE_MODEL
    fitted_attr = "net_"

    def train_config(self) -> LMTrainConfig:
        return self.config("train")

    @property
    def label(self) -> str:
        return f"{self.cell.upper()}({self.num_layers}x{self.hidden_size}) {self.level}-level"

    # ------------------------------------------------------------------ data
    def _tokens(self, line: str) -> list[str]:
        return tokenize(line, self.level, self.config("tokens").lowercase())

    def _ids(self, lines) -> torch.Tensor:
        return torch.as_tensor(stream(lines, self.vocab_, self.level,
                                      self.config("tokens").lowercase()))

    # ------------------------------------------------------------------ fit
    def fit(self, corpus, *, val: float = 0.1, test: float = 0.1, on_epoch=None,
            checkpoint=None, resume: bool = False):
        """Train on a corpus name, a text file or a list of lines (split contiguously).
        ``on_epoch(seed, row)``: called after every epoch with its history row (``epoch``,
        ``train_ppl``, ``val_ppl``, ``lr``); an exception it raises stops the fit.
        ``checkpoint``: a folder where training writes a checkpoint after every epoch
        (removed when the fit completes); ``resume=True`` continues a fit interrupted there,
        and ends bitwise as the uninterrupted fit would have."""
        from lstmkit.core.checkpoint import finish_folder, seed_checkpoints, start_folder

        folder = start_folder(checkpoint, resume)
        lines = load_corpus(corpus)
        train, val_lines, test_lines = split_lines(lines, val, test)
        self.__dict__.pop("net_", None)  # a refit stopped midway leaves no stale network
        if self.level == "word":
            self.vocab_ = Vocabulary.build((self._tokens(t) for t in train), self.min_count,
                                           self.max_vocab, eos=True)
        else:
            self.vocab_ = Vocabulary.build((self._tokens(t) + ["\n"] for t in train), 1,
                                           self.max_vocab)
        self.corpus_ = str(corpus) if isinstance(corpus, str) else "lines"
        tr, va, te = self._ids(train), self._ids(val_lines), self._ids(test_lines)
        self.split_tokens_ = [int(tr.numel()), int(va.numel()), int(te.numel())]
        self.test_ids_ = te if te.numel() > 1 else None
        self.net_config_ = replace(self.config("network"), vocab_size=len(self.vocab_))
        c = self.net_config_
        from lstmkit.core.resources import check_memory, recurrent_params

        check_memory(type(self).__name__, recurrent_params(c.cell, c.embed_size, c.hidden_size,
                                                           c.num_layers)
                     + c.vocab_size * c.embed_size * (1 if c.tie_weights else 2),
                     f"hidden_size {c.hidden_size}, embed_size {c.embed_size}, vocabulary "
                     f"{c.vocab_size}")
        torch.manual_seed(self.seed)
        net = LMNet(self.net_config_)  # kept only once trained: a stopped fit leaves no model
        result = train_lm(net, tr, va if va.numel() > 1 else None, self.train_config(),
                          seed=self.seed, desc=self.label, run=self.config("execution"),
                          on_epoch=None if on_epoch is None else
                          (lambda row: on_epoch(self.seed, row)),
                          checkpoint=seed_checkpoints(folder, self, tr)(self.seed))
        self.net_ = net
        self.history_, self.best_epoch_ = result.history, result.best_epoch
        self.train_seconds_ = result.seconds
        self.stop_reason_ = result.stop_reason
        self.ngram_ = KneserNey(self.ngram_order, len(self.vocab_)).fit(tr.numpy())
        self.val_ppl_ = result.history[-1].get("val_ppl") if va.numel() > 1 else None
        if va.numel() > 1:
            self.val_ppl_ = min(r["val_ppl"] for r in result.history)
        finish_folder(folder)
        return self

    # ------------------------------------------------------------------ evaluate
    def evaluate(self, text=None) -> dict:
        """Perplexity of the LSTM and of the n-gram baseline on the held-out test lines
        (``text=None``) or on new text (corpus name, file, list of lines)."""
        self._check_fitted("evaluate")
        if text is None:
            if self.test_ids_ is None:
                raise expected("LanguageModel", "text, or a model fitted with a test split",
                               "neither")
            ids = self.test_ids_
        else:
            ids = self._ids(load_corpus(text))
        if ids.numel() < 2:
            raise expected("LanguageModel", "at least 2 tokens to evaluate", int(ids.numel()))
        with torch_threads(self.threads):
            out = {"model": self.label, "tokens": int(ids.numel()),
                   "oov_rate": float((ids == self.vocab_.unk_id).float().mean()),
                   "perplexity": perplexity(self.net_, ids)}
        if getattr(self, "ngram_", None) is not None:
            out["ngram_order"] = self.ngram_order
            out["ngram_perplexity"] = self.ngram_.perplexity(ids.numpy())
        return out

    # ------------------------------------------------------------------ prompts
    def check_prompt(self, prompt) -> str:
        """The prompt, or a one-line error when it is not text or has no token."""
        if not isinstance(prompt, str):
            raise expected("Prompt", "text", type(prompt).__name__)
        if not self._tokens(prompt):
            raise expected("Prompt", "at least one word", repr(prompt))
        return prompt

    def unknown_words(self, prompt: str) -> list[str] | None:
        """The prompt's words when none of them is in the vocabulary (they all read as
        ``<unk>``); None when at least one is known. Char level: the unknown characters."""
        toks = self._tokens(self.check_prompt(prompt))
        if self.level == "char":
            toks = [t for t in toks if not t.isspace()]
        known = [t for t in toks if t in self.vocab_.stoi and t not in SPECIAL]
        return None if known or not toks else list(dict.fromkeys(toks))

    def _context(self, prompt: str) -> list[int]:
        """Ids of the prompt, preceded by the end of a previous line."""
        start = [EOS] if self.level == "word" else ["\n"]
        return self.vocab_.encode(start + self._tokens(prompt)).tolist()

    @torch.no_grad()
    def _run(self, ids: list[int], state=None):
        """Feed ``ids``; return (log-probabilities of the next token (V,), state)."""
        x = torch.as_tensor([ids], dtype=torch.int64)  # (1, T)
        logits, state = self.net_.eval()(x, state)
        return torch.log_softmax(logits[0, -1].double(), 0), state

    def next_distribution(self, prompt: str) -> np.ndarray:
        """P(next token | prompt) over the vocabulary (V,)."""
        self._check_fitted("predicting")
        logp, _ = self._run(self._context(prompt))
        return logp.exp().numpy()

    def complete(self, prompt: str, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` most likely next words with their probabilities.

        An empty prompt (no token) is refused; :meth:`unknown_words` says when every word
        of it is unknown (the CLI warns).

        Word level: the next token (``<pad>``, ``<unk>`` and ``<eos>`` left out; the
        probabilities are not renormalised). Char level: a beam search over characters for
        the next word, its probability being P(its characters, then a non-word character);
        a space is appended to a prompt that does not end in whitespace.
        """
        self._check_fitted("complete")
        self.check_prompt(prompt)
        positive_int("complete", "k", k)
        if self.level == "char":
            return self._complete_chars(prompt if prompt[-1:].isspace() else prompt + " ", k)
        p = self.next_distribution(prompt)
        order = np.argsort(-p, kind="stable")
        out = []
        for i in order:
            tok = self.vocab_.itos[int(i)]
            if tok not in SPECIAL:
                out.append((tok, float(p[i])))
            if len(out) == k:
                break
        return out

    def _complete_chars(self, prompt: str, k: int, max_chars: int = 24):
        word = lambda c: c.isalnum() or c in "-'_"
        logp, state = self._run(self._context(prompt))
        beams = [("", 0.0, logp, state)]
        done: list[tuple[str, float]] = []
        width = max(2 * k, 8)
        for _ in range(max_chars):
            cand = []
            for text, lp, lv, st in beams:
                top = torch.topk(lv, min(width, lv.numel()))
                for v, i in zip(top.values.tolist(), top.indices.tolist(), strict=True):
                    c = self.vocab_.itos[i]
                    if len(c) == 1 and word(c):
                        cand.append((text + c, lp + v, i, st))
                    elif text and c not in SPECIAL:
                        done.append((text, lp + v))
            done = sorted(done, key=lambda d: -d[1])[:k]
            cand = sorted(cand, key=lambda c: -c[1])[:width]
            if not cand or (len(done) == k and cand[0][1] < done[-1][1]):
                break
            beams = []
            for text, lp, i, st in cand:
                lv, st2 = self._run([i], st)
                beams.append((text, lp, lv, st2))
        return [(w, math.exp(lp)) for w, lp in done[:k]]

    def generate(self, prompt: str, n: int = 30, temperature: float = 1.0,
                 top_k: int | None = None, seed: int | None = 0) -> str:
        """The prompt followed by ``n`` sampled tokens (temperature, optional top-k)."""
        self._check_fitted("generate")
        self.check_prompt(prompt)
        if not temperature > 0:
            raise expected("generate", "temperature > 0", repr(temperature))
        optional(positive_int)("generate", "top_k", top_k)
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        banned = [self.vocab_.stoi[s] for s in ("<pad>", "<unk>") if s in self.vocab_.stoi]
        logp, state = self._run(self._context(prompt))
        out: list[str] = []
        for _ in range(n):
            logits = logp / temperature
            logits[banned] = -math.inf
            if top_k is not None:
                kth = torch.topk(logits, min(top_k, logits.numel())).values[-1]
                logits[logits < kth] = -math.inf
            i = int(torch.multinomial(torch.softmax(logits, 0), 1, generator=gen))
            out.append(self.vocab_.itos[i])
            logp, state = self._run([i], state)
        sep = "" if self.level == "char" or not out else " "
        return prompt + sep + detokenize(out, self.level)

    # ------------------------------------------------------------------ persistence
    def _state_tensors(self) -> dict:
        return self.net_.weights()  # the n-gram baseline is not stored (metrics.json has it)

    def _fitted_config(self) -> dict:
        return {"network": self.net_config_.to_dict(), "train": self.train_config().to_dict(),
                "vocab": self.vocab_.to_dict(), "corpus": self.corpus_,
                "split_tokens": self.split_tokens_, "best_epoch": self.best_epoch_,
                "train_seconds": self.train_seconds_, "val_ppl": self.val_ppl_}

    def _restore(self, config: dict, tensors: dict) -> None:
        from lstmkit.core.config import from_dict

        self.vocab_ = Vocabulary.from_dict(config["vocab"])
        self.net_config_ = from_dict(LMConfig, config["network"])
        self.corpus_ = config.get("corpus")
        self.split_tokens_ = config.get("split_tokens")
        self.best_epoch_ = config.get("best_epoch")
        self.train_seconds_ = config.get("train_seconds")
        self.val_ppl_ = config.get("val_ppl")
        self.net_ = LMNet(self.net_config_)
        self.net_.load_weights(tensors)
        self.net_.eval()
        self.test_ids_, self.ngram_, self.history_ = None, None, []
