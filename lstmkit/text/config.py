"""The text models' hyperparameters, each declared once (see :mod:`lstmkit.core.config`).

- :class:`TokenConfig`: the vocabulary (language model and text classifier);
- :class:`EmbeddingConfig`: the token embedding's width (both);
- :class:`LMTokens`, :class:`LMConfig`, :class:`LMTrainConfig`, :class:`NgramConfig`: the
  language model's tokens, network, optimisation and n-gram baseline;
- :class:`TextInputConfig`: the text classifier's tokens.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from lstmkit.core.config import (
    CLASSIFIER_DEFAULTS,
    ClassifyConfig,
    EnsembleConfig,
    OptimConfig,
    ParamSpec,
    SeedConfig,
    SeedExecution,
    WeightDecay,
    check_config,
    param,
    shape,
)
from lstmkit.core.validate import Check, choice, flag, optional, positive_int
from lstmkit.nn.config import RecurrentConfig, SequenceNetConfig


@dataclass
class TokenConfig:
    min_count: int = param(2, "words seen fewer times in training become <unk>", positive_int)
    max_vocab: int | None = param(None, "keep at most this many words (none: all)",
                                  optional(positive_int))
    lower: bool | None = param(None, "lower-case the text (None: words yes, characters no)",
                               optional(flag))


@dataclass
class EmbeddingConfig:
    embed_size: int = param(200, "token embedding width (E)", positive_int)


@dataclass
class LMTokens(TokenConfig):
    level: str = param("word", "word (words and punctuation, <eos> ends a line) or char",
                       choice("word", "char"))

    def lowercase(self) -> bool:
        return (self.level == "word") if self.lower is None else bool(self.lower)


ADAPTIVE_FROM = 4000  # softmax="auto": the adaptive softmax from this vocabulary size


@dataclass
class LMConfig(RecurrentConfig, EmbeddingConfig):
    """Everything needed to rebuild an :class:`~lstmkit.text.language.LMNet`."""

    tie_weights: bool = param(True, "separate output weights (default: tied to the embedding, "
                              "Press & Wolf 2017; adaptive softmax: the frequent "
                              "tokens' head rows)", flag,
                              cli="--no-tie-weights")
    softmax: str = param("auto", "output layer: full (one score per token), adaptive (Grave et "
                         "al. 2017: frequent tokens in a head, rare ones in smaller clusters; "
                         "exact probabilities, several times faster on large vocabularies), or "
                         f"auto (adaptive from {ADAPTIVE_FROM} tokens)",
                         choice("auto", "full", "adaptive"))
    vocab_size: int = shape(2, "V: vocabulary size")

    def output_layer(self) -> str:
        """full or adaptive, for this vocabulary size."""
        if self.softmax == "auto":
            return "adaptive" if self.vocab_size >= ADAPTIVE_FROM else "full"
        return self.softmax

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class LMTrainConfig(OptimConfig, WeightDecay):
    """Optimisation settings of a language model (stored in ``config.json``)."""

    bptt: int = param(35, "steps of truncated backpropagation through time", positive_int)
    lr_decay: float = param(0.25, "lr multiplier after an epoch without a better validation "
                            "perplexity", Check("float", low=0, low_open=True, high=1))
    min_lr: float = param(1e-5, "stop training when the decayed learning rate falls below "
                          "this", Check("float", low=0, low_open=True))

    def to_dict(self) -> dict:
        return asdict(self)

    def validate(self, component: str = "LanguageModel") -> LMTrainConfig:
        check_config(self, component)
        if self.min_lr >= self.lr:
            from lstmkit.core.errors import expected

            raise expected(component, f"min_lr below lr ({self.lr:g})", f"{self.min_lr:g}")
        return self


@dataclass
class NgramConfig:
    ngram_order: int = param(3, "order of the Kneser-Ney baseline", positive_int)


@dataclass
class TextInputConfig(TokenConfig, EmbeddingConfig):
    max_len: int = param(60, "tokens kept per text (the rest is cut)", positive_int)


# ---------------------------------------------------------------------- the estimators' specs
LANGUAGE_MODEL = ParamSpec(
    {"tokens": LMTokens, "network": LMConfig, "train": LMTrainConfig, "baseline": NgramConfig,
     "seeding": SeedConfig},
    # dropout 0.6 and up to 30 epochs (the min_lr floor ends training sooner): what brings the
    # adaptive softmax to the full softmax's perplexity (benchmarks/text_speed.py)
    defaults={"hidden_size": 200, "num_layers": 2, "dropout": 0.6, "epochs": 30, "lr": 2e-3,
              "clip_norm": 0.5})
TEXT_CLASSIFIER = ParamSpec(
    {"network": SequenceNetConfig, "input": TextInputConfig, "train": ClassifyConfig,
     "ensemble": EnsembleConfig}, SeedExecution,
    {**CLASSIFIER_DEFAULTS, "embed_size": 100, "bidirectional": True, "pooling": "max",
     "dropout": 0.3, "max_vocab": 30000, "lower": True, "epochs": 5, "lr": 2e-3})
