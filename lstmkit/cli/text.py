"""``lstmkit text fit | complete | generate | evaluate | corpora``: language models and
autocomplete; ``lstmkit text classify ...`` (:mod:`lstmkit.cli.text_classify`): sentiment."""

from __future__ import annotations

import json
import sys

ORDER = 30


def register(sub) -> None:
    from lstmkit.cli.options import (
        add_estimator_groups,
        add_out_args,
        add_resume_arg,
        option_type,
    )
    from lstmkit.core.validate import Check, fraction, positive_int, seed_int
    from lstmkit.text.config import LANGUAGE_MODEL as spec

    count = option_type(positive_int.parse, "positive_int")
    grp = sub.add_parser("text", help="language models (fit, autocomplete, generate) and "
                         "text classification (classify)")
    tsub = grp.add_subparsers(dest="text_command", metavar="SUBCOMMAND")
    grp.set_defaults(func=lambda args: _usage(grp))

    p = tsub.add_parser("fit", help="train a language model and write a run directory")
    p.add_argument("--corpus", required=True, metavar="NAME|PATH",
                   help="porttinari, petrogold, danteshots, dantestocks, or a UTF-8 text file")
    p.add_argument("--val", type=option_type(fraction.parse, "fraction"), default=0.1,
                   metavar="FRAC", help="fraction of the lines for validation")
    p.add_argument("--test", type=option_type(fraction.parse, "fraction"), default=0.1,
                   metavar="FRAC", help="fraction of the lines for testing")
    add_estimator_groups(p, spec, ("tokens", "network", "baseline"),
                         "tokens, network and baseline")
    add_out_args(p)
    add_resume_arg(p)
    p.set_defaults(func=fit)

    p = tsub.add_parser("complete", help="print the top-k next words with probabilities")
    p.add_argument("--model", required=True, metavar="DIR",
                   help="run directory of a language model")
    p.add_argument("prompt", help="the text to continue")
    p.add_argument("-k", "--top", type=count, default=5, metavar="K",
                   help="how many next words to print")
    p.set_defaults(func=complete)

    p = tsub.add_parser("generate", help="sample a continuation of the prompt")
    p.add_argument("--model", required=True, metavar="DIR",
                   help="run directory of a language model")
    p.add_argument("prompt", help="the text to continue")
    p.add_argument("--tokens", type=count, default=30, metavar="N",
                   help="words or characters to sample")
    p.add_argument("--temperature", default=0.8, metavar="X",
                   type=option_type(Check("float", low=1e-3).parse, "temperature"),
                   help="softmax temperature (>= 0.001; lower is more conservative)")
    p.add_argument("--top-k", type=count, default=40, metavar="K",
                   help="sample among the K most likely tokens")
    p.add_argument("--seed", type=option_type(seed_int.parse, "seed"), default=0, metavar="N",
                   help="random seed of the sampling")
    p.set_defaults(func=generate)

    p = tsub.add_parser("evaluate", help="perplexity of a saved model on a corpus or file")
    p.add_argument("--model", required=True, metavar="DIR",
                   help="run directory of a language model")
    p.add_argument("--corpus", required=True, metavar="NAME|PATH",
                   help="bundled corpus name or a UTF-8 text file")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=evaluate)

    p = tsub.add_parser("corpora", help="list the bundled corpora and labelled sets")
    p.set_defaults(func=corpora)

    from lstmkit.cli import text_classify

    text_classify.register_under(tsub)


def _usage(parser) -> int:
    parser.print_help()
    return 2


def fit(args) -> int:
    from lstmkit.cli.options import estimator_kwargs
    from lstmkit.core.distributed import refuse
    from lstmkit.core.persistence import check_out_dir, json_writer
    from lstmkit.forecast.report import history_csv
    from lstmkit.text.language import LanguageModel

    refuse("text fit", "a language model (it trains on one process)")
    check_out_dir(args.out, args.overwrite)  # refuse before any work
    lm = LanguageModel(**estimator_kwargs(args, LanguageModel))
    from lstmkit.cli.options import checkpointed

    if not checkpointed(args.out, lambda folder: lm.fit(
            args.corpus, val=args.val, test=args.test, checkpoint=folder, resume=args.resume)):
        return 130
    metrics = lm.evaluate() if lm.test_ids_ is not None else {}
    metrics.update(val_perplexity=lm.val_ppl_, split_tokens=lm.split_tokens_,
                   vocab_size=len(lm.vocab_), train_seconds=lm.train_seconds_)
    extra = {"metrics.json": json_writer(metrics),
             "history.csv": lambda p: p.write_text(history_csv([lm.history_], [lm.seed])),
             "loss.png": lambda p: _ppl_plot(lm.history_, p)}
    from lstmkit.core.report_page import page_writers

    summary = _summary(lm, metrics, args.corpus)
    extra |= page_writers(summary, args.out)
    out = lm.save(args.out, overwrite=args.overwrite, extra=extra)
    print(summary)
    print(f"\nwrote {out}/ ({', '.join(['model.safetensors', 'config.json', *extra])})")
    return 0


def _summary(lm, m: dict, corpus) -> str:
    tr, va, te = lm.split_tokens_
    lines = [f"{lm.label} on {corpus}: {tr} train / {va} val / {te} test tokens, "
             f"vocabulary {len(lm.vocab_)}, {lm.train_seconds_:.0f} s"]
    if getattr(lm, "stop_reason_", None):
        lines.append(lm.stop_reason_)
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
    from lstmkit.registry import load
    from lstmkit.text.language import LanguageModel

    lm = load(args.model, LanguageModel)
    _warn_unknown(lm, args.prompt)
    for word, p in lm.complete(args.prompt, k=args.top):
        print(f"{word}\t{p:.4f}")
    return 0


def generate(args) -> int:
    from lstmkit.registry import load
    from lstmkit.text.language import LanguageModel

    lm = load(args.model, LanguageModel)
    _warn_unknown(lm, args.prompt)
    print(lm.generate(args.prompt, n=args.tokens, temperature=args.temperature,
                      top_k=args.top_k, seed=args.seed))
    return 0


def _warn_unknown(lm, prompt: str) -> None:
    """A warning on stderr when no word of the prompt is in the vocabulary."""
    lm.check_prompt(prompt)  # refuses an empty prompt before anything is printed
    unknown = lm.unknown_words(prompt)
    if unknown is not None:
        print(f"warning: every word of the prompt is unknown to the model ({', '.join(unknown)}"
              "): the prediction ignores the prompt", file=sys.stderr)


def evaluate(args) -> int:
    from lstmkit.registry import load
    from lstmkit.text.language import LanguageModel

    lm = load(args.model, LanguageModel)
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
