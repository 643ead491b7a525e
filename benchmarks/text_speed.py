"""Language-model training speed on Porttinari: tokens per second, before and after.

    .venv/bin/python benchmarks/text_speed.py [--epochs 30] [--only ROW ...]

Every row trains ``LanguageModel(hidden_size=64, num_layers=1)`` (embedding 200, the same
model size as issue 14's measurement) on Porttinari (136k training tokens, vocabulary 7,797
words at min_count 2), one seed, on this machine's threads, until the learning-rate floor
(``min_lr``) stops it or ``--epochs`` is reached, and prints training tokens per second, the
best validation perplexity, and the <unk> rate of the validation tokens. Rows:

* full softmax, dropout 0.3: the output layer and the dropout before issue 14 (tied weights);
  always run, the yardstick of the speed-up;
* the default now: an adaptive softmax (``softmax="auto"`` picks it from 4,000 tokens; the
  same vocabulary and exact probabilities, so its perplexity is comparable) whose head's
  frequent-token rows are tied to the embedding, and dropout 0.6;
* the same with an untied head, and with dropout 0.3: what the tying and the dropout each
  bring;
* the full softmax with dropout 0.6: the old output layer at the new regularisation;
* a vocabulary cut-off (``max_vocab=2000``) with the full softmax: fast too, but more tokens
  become <unk>, so its perplexity is on an easier task and cannot be compared;
* truncated BPTT over longer, wider batches (``bptt=70, batch_size=64``), adaptive;
* the recurrent layer's share of a training step (full softmax): the most that a faster LSTM
  kernel (lstmkit's fused C++ layer) could save, measured by timing the layer alone.

``--only N ...`` runs only those rows (0-based; row 0 always runs). Each row also prints the
epoch of its best validation perplexity and the training seconds to reach it.
"""

from __future__ import annotations

import argparse
import time

import torch

from lstmkit.core.table import format_table
from lstmkit.text.language import LanguageModel

MODEL = dict(hidden_size=64, num_layers=1, progress=False)
BEFORE = dict(softmax="full", dropout=0.3)  # the output layer and dropout before issue 14
ROWS = [
    ("full softmax, dropout 0.3 (before)", BEFORE),
    ("adaptive, tied head, dropout 0.6 (default)", dict()),
    ("adaptive, untied head, dropout 0.6", dict(tie_weights=False)),
    ("full softmax, dropout 0.6", dict(softmax="full")),
    ("adaptive, tied head, dropout 0.3", dict(dropout=0.3)),
    ("full softmax, max_vocab 2000", dict(BEFORE, max_vocab=2000)),
    ("adaptive, bptt 70, batch 64", dict(dropout=0.3, bptt=70, batch_size=64)),
]


def unk_rate(lm) -> float:
    from lstmkit.text.data import load_corpus, split_lines

    _, val, _ = split_lines(load_corpus("porttinari"), 0.1, 0.1)
    ids = lm._ids(val)
    return float((ids == lm.vocab_.unk_id).float().mean())


def recurrent_share(lm) -> float:
    """Seconds in the embedding + LSTM (forward and backward) over seconds of a whole step."""
    net = lm.net_.train()
    x = torch.randint(0, len(lm.vocab_), (lm.batch_size, lm.bptt))
    y = torch.randint(0, len(lm.vocab_), (lm.batch_size, lm.bptt))

    def timed(fn, n=20) -> float:
        fn()
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - t0) / n

    whole = timed(lambda: net.loss(x, y)[0].backward())
    layer = timed(lambda: net.features(x)[0].sum().backward())
    return layer / whole


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--only", type=int, nargs="*", default=None, metavar="ROW")
    args = ap.parse_args()
    rows, base, share = [], None, None
    for k, (label, change) in enumerate(ROWS):
        if args.only is not None and k not in args.only and k != 0:  # row 0: the yardstick
            continue
        lm = LanguageModel(**MODEL, **{"epochs": args.epochs, **change}).fit("porttinari")
        tokens = lm.split_tokens_[0] * len(lm.history_)
        tps = tokens / lm.train_seconds_
        base = base or tps
        to_best = lm.train_seconds_ * lm.best_epoch_ / len(lm.history_)
        rows.append([label, str(len(lm.vocab_)), f"{tps:,.0f}", f"{tps / base:.1f}x",
                     f"{lm.val_ppl_:.1f}", str(lm.best_epoch_), f"{to_best:.0f}",
                     f"{unk_rate(lm) * 100:.1f}%"])
        if share is None:
            share = recurrent_share(lm)
    print(f"Porttinari, LSTM(1x64), embedding 200, up to {args.epochs} epochs, "
          f"{torch.get_num_threads()} threads")
    print(format_table(["output layer", "vocabulary", "train tokens/s", "speed-up",
                        "best val ppl", "best epoch", "s to best", "val <unk>"], rows))
    print(f"embedding + LSTM: {share * 100:.0f}% of a full-softmax training step (the most a "
          "faster recurrent kernel could save)")


if __name__ == "__main__":
    main()
