"""``lstmkit text classify fit | predict | evaluate``: text classification (sentiment).

The report puts the network beside the majority class and TF-IDF + logistic regression, and
ends with a verdict line. Data: a labelled set (``tweets-sentiment``, English;
``dantestocks-emotion``, Portuguese) or a CSV with ``text`` and ``label`` columns.
"""

from __future__ import annotations

SOURCES = "tweets-sentiment, dantestocks-emotion, or a CSV with text,label columns"


def register_under(tsub) -> None:
    """Add ``classify`` to the ``text`` group (not a top-level command)."""
    from lstmkit.cli.options import (
        add_device_arg,
        add_estimator_groups,
        add_out_args,
        add_resume_arg,
        option_type,
    )
    from lstmkit.core.validate import parse_count_or_fraction
    from lstmkit.text.config import TEXT_CLASSIFIER as spec

    split = option_type(parse_count_or_fraction, "count_or_fraction")
    grp = tsub.add_parser("classify", help="text classification, e.g. sentiment (fit, "
                          "predict, evaluate)")
    csub = grp.add_subparsers(dest="text_classify_command", metavar="SUBCOMMAND",
                              parser_class=type(grp))
    from lstmkit.cli.classify import _usage

    grp.set_defaults(func=lambda args: _usage(grp))

    p = csub.add_parser("fit", help="train a text classifier and write a run directory")
    p.add_argument("--data", required=True, metavar="NAME|PATH", help=SOURCES)
    p.add_argument("--test", type=split, default=0.2, metavar="N|FRAC",
                   help="texts held out for testing (stratified, seed 0)")
    p.add_argument("--val", type=split, default=0.1, metavar="N|FRAC",
                   help="texts of the training part held out for early stopping")
    add_estimator_groups(p, spec, ("network", "input"), "network and tokens")
    add_out_args(p)
    add_resume_arg(p)
    p.set_defaults(func=fit)

    p = csub.add_parser("predict", help="the class of each text")
    p.add_argument("--model", required=True, metavar="DIR",
                   help="run directory of a text classifier")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", metavar="PATH", help="a CSV with a text column")
    src.add_argument("--text", nargs="+", metavar="TEXT", help="texts given here")
    p.add_argument("--out", metavar="FILE.csv", help="write the predictions here (default "
                   "stdout)")
    add_device_arg(p)
    p.set_defaults(func=predict)

    p = csub.add_parser("evaluate", help="score a saved text classifier beside its baselines")
    p.add_argument("--model", required=True, metavar="DIR",
                   help="run directory of a text classifier")
    p.add_argument("--data", required=True, metavar="NAME|PATH", help=SOURCES)
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    add_device_arg(p)
    p.set_defaults(func=evaluate)


def fit(args) -> int:
    from lstmkit.cli.classify import fit_classifier
    from lstmkit.text.classifier import TextClassifier

    return fit_classifier(args, TextClassifier, "text classify fit", "texts",
                          lambda clf: clf.test_texts_ is not None,
                          lambda clf: f"; vocabulary {len(clf.vocab_)}")


def _texts(args) -> list[str]:
    if args.text is not None:
        return list(args.text)
    import pandas as pd

    from lstmkit.core.errors import expected

    try:
        frame = pd.read_csv(args.data)
    except FileNotFoundError:
        raise expected("text classify predict", "an existing CSV", repr(args.data)) from None
    except Exception as err:  # pandas raises many types
        raise expected("text classify predict", "a readable CSV",
                       f"{type(err).__name__}: {err}") from None
    if "text" not in frame.columns:
        raise expected("text classify predict", "a text column",
                       f"columns {list(frame.columns)[:8]}")
    return frame["text"].fillna("").astype(str).tolist()


def predict(args) -> int:
    import numpy as np
    import pandas as pd

    from lstmkit.cli.classify import write_predictions
    from lstmkit.registry import load
    from lstmkit.text.classifier import TextClassifier

    if args.out:
        from lstmkit.core.persistence import check_out_file

        check_out_file(args.out)  # refuse before any work
    from lstmkit.cli.options import apply_device

    clf = apply_device(load(args.model, TextClassifier), args)
    texts = _texts(args)
    proba = clf.predict_proba(texts)
    frame = pd.DataFrame({"text": texts,
                          "predicted": np.asarray(clf.classes_, dtype=object)[proba.argmax(1)]})
    write_predictions(frame, proba, clf.classes_, args.out, "texts")
    return 0


def evaluate(args) -> int:
    from lstmkit.cli.classify import evaluate_classifier
    from lstmkit.text.classifier import TextClassifier

    return evaluate_classifier(args, TextClassifier, "texts")
