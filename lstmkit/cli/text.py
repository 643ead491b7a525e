"""``lstmkit text fit | complete | generate | evaluate | corpora``: language models and
autocomplete."""

from __future__ import annotations

import json

ORDER = 30


def register(sub) -> None:
    from lstmkit.cli.forecast import positive_float, positive_int

    grp = sub.add_parser("text", help="language models: fit, autocomplete, generate")
    tsub = grp.add_subparsers(dest="text_command", metavar="SUBCOMMAND")
    grp.set_defaults(func=lambda args: _usage(grp))

    p = tsub.add_parser("fit", help="train a language model and write a run directory")
    p.add_argument("--corpus", required=True, metavar="NAME|PATH",
                   help="porttinari, petrogold, danteshots, dantestocks, or a UTF-8 text file")
    p.add_argument("--level", choices=["word", "char"], default="word")
    p.add_argument("--min-count", type=positive_int, default=2,
                   help="words seen fewer times in training become <unk> (word level)")
    p.add_argument("--max-vocab", type=positive_int, default=None)
    p.add_argument("--cell", choices=["lstm", "gru", "rnn"], default="lstm")
    p.add_argument("--embed-size", type=positive_int, default=200)
    p.add_argument("--hidden-size", type=positive_int, default=200)
    p.add_argument("--layers", type=positive_int, default=2)
    p.add_argument("--dropout", type=float, default=0.4)
    p.add_argument("--no-tie", action="store_true", help="separate output weights")
    p.add_argument("--epochs", type=positive_int, default=10)
    p.add_argument("--batch-size", type=positive_int, default=32)
    p.add_argument("--bptt", type=positive_int, default=35)
    p.add_argument("--lr", type=positive_float, default=2e-3)
    p.add_argument("--ngram-order", type=positive_int, default=3)
    p.add_argument("--val", type=float, default=0.1, help="fraction of lines (default 0.1)")
    p.add_argument("--test", type=float, default=0.1, help="fraction of lines (default 0.1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=fit)

    p = tsub.add_parser("complete", help="print the top-k next words with probabilities")
    p.add_argument("--model", required=True, metavar="DIR")
    p.add_argument("prompt")
    p.add_argument("-k", "--top", type=positive_int, default=5)
    p.set_defaults(func=complete)

    p = tsub.add_parser("generate", help="sample a continuation of the prompt")
    p.add_argument("--model", required=True, metavar="DIR")
    p.add_argument("prompt")
    p.add_argument("--tokens", type=positive_int, default=30, help="words or characters")
    p.add_argument("--temperature", type=positive_float, default=0.8)
    p.add_argument("--top-k", type=positive_int, default=40)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=generate)

    p = tsub.add_parser("evaluate", help="perplexity of a saved model on a corpus or file")
    p.add_argument("--model", required=True, metavar="DIR")
    p.add_argument("--corpus", required=True, metavar="NAME|PATH")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=evaluate)

    p = tsub.add_parser("corpora", help="list the bundled corpora")
    p.set_defaults(func=corpora)


def _usage(parser) -> int:
    parser.print_help()
    return 2


def _check_fraction(name: str, v: float) -> None:
    from lstmkit.core.errors import expected

    if not 0 <= v < 1:
        raise expected("text fit", f"{name} a fraction in [0, 1)", v)


def fit(args) -> int:
    from lstmkit.core.persistence import check_out_dir, json_writer
    from lstmkit.forecast.report import history_csv
    from lstmkit.text.language import LanguageModel

    check_out_dir(args.out, args.overwrite)  # refuse before any work
    _check_fraction("--val", args.val)
    _check_fraction("--test", args.test)
    lm = LanguageModel(level=args.level, min_count=args.min_count, max_vocab=args.max_vocab,
                       cell=args.cell, embed_size=args.embed_size, hidden_size=args.hidden_size,
                       num_layers=args.layers, dropout=args.dropout, tie_weights=not args.no_tie,
                       epochs=args.epochs, batch_size=args.batch_size, bptt=args.bptt,
                       lr=args.lr, ngram_order=args.ngram_order, seed=args.seed,
                       threads=args.threads, progress=not args.quiet)
    lm.fit(args.corpus, val=args.val, test=args.test)
    metrics = lm.evaluate() if lm.test_ids_ is not None else {}
    metrics.update(val_perplexity=lm.val_ppl_, split_tokens=lm.split_tokens_,
                   vocab_size=len(lm.vocab_), train_seconds=lm.train_seconds_)
    extra = {"metrics.json": json_writer(metrics),
             "history.csv": lambda p: p.write_text(history_csv([lm.history_], [lm.seed])),
             "loss.png": lambda p: _ppl_plot(lm.history_, p)}
    out = lm.save(args.out, overwrite=args.overwrite, extra=extra)
    print(_summary(lm, metrics, args.corpus))
    print(f"\nwrote {out}/ ({', '.join(['model.safetensors', 'config.json', *extra])})")
    return 0


def _summary(lm, m: dict, corpus) -> str:
    tr, va, te = lm.split_tokens_
    lines = [f"{lm.label} on {corpus}: {tr} train / {va} val / {te} test tokens, "
             f"vocabulary {len(lm.vocab_)}, {lm.train_seconds_:.0f} s"]
    if "perplexity" in m:
        lines.append(f"test perplexity: {lm.label} {m['perplexity']:.1f}   "
                     f"Kneser-Ney {m['ngram_order']}-gram {m['ngram_perplexity']:.1f}   "
                     f"(<unk> rate {m['oov_rate'] * 100:.1f}%)")
    return "\n".join(lines)


def _ppl_plot(history: list[dict], path) -> None:
    from lstmkit.core.plotting import pyplot

    plt = pyplot()

    fig, ax = plt.subplots(figsize=(7, 4))
    ep = [r["epoch"] for r in history]
    ax.plot(ep, [r["train_ppl"] for r in history], label="train")
    if history and "val_ppl" in history[0]:
        ax.plot(ep, [r["val_ppl"] for r in history], ls="--", label="validation")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("perplexity")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)


def complete(args) -> int:
    from lstmkit.text.language import LanguageModel

    lm = LanguageModel.load(args.model)
    for word, p in lm.complete(args.prompt, k=args.top):
        print(f"{word}\t{p:.4f}")
    return 0


def generate(args) -> int:
    from lstmkit.text.language import LanguageModel

    lm = LanguageModel.load(args.model)
    print(lm.generate(args.prompt, n=args.tokens, temperature=args.temperature,
                      top_k=args.top_k, seed=args.seed))
    return 0


def evaluate(args) -> int:
    from lstmkit.text.language import LanguageModel

    lm = LanguageModel.load(args.model)
    m = lm.evaluate(args.corpus)
    if args.json:
        print(json.dumps(m, indent=2))
    else:
        print(f"{lm.label} on {args.corpus}: {m['tokens']} tokens, perplexity "
              f"{m['perplexity']:.1f} (<unk> rate {m['oov_rate'] * 100:.1f}%)")
    return 0


def corpora(args) -> int:
    from lstmkit.text.data import CORPORA, LABELLED

    for name, desc in {**CORPORA, **LABELLED}.items():
        print(f"{name:18s} {desc}")
    return 0
