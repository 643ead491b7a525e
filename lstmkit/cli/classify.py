"""``lstmkit classify fit | predict | evaluate | datasets``: sequence classification."""

from __future__ import annotations

import json
import sys

ORDER = 20


def register(sub) -> None:
    from lstmkit.classify.config import SEQUENCE_CLASSIFIER as spec
    from lstmkit.cli.options import add_estimator_groups, add_out_args, option_type
    from lstmkit.core.validate import parse_count_or_fraction

    split = option_type(parse_count_or_fraction, "count_or_fraction")
    grp = sub.add_parser("classify", help="sequence classification (fit, predict, evaluate)")
    csub = grp.add_subparsers(dest="classify_command", metavar="SUBCOMMAND",
                              parser_class=type(grp))
    grp.set_defaults(func=lambda args: _usage(grp))

    p = csub.add_parser("fit", help="train a sequence classifier and write a run directory")
    p.add_argument("--data", required=True, metavar="NAME|PATH",
                   help="digits-rows, mnist1d, ucr:NAME, or a long CSV (id,t,channels...,label)")
    p.add_argument("--test", type=split, default=None, metavar="N|FRAC",
                   help="sequences held out for testing, stratified (default: the set's own "
                   "test split, else 0.2)")
    p.add_argument("--val", type=split, default=0, metavar="N|FRAC",
                   help="sequences of the training part held out for early stopping")
    add_estimator_groups(p, spec, ("network", "input"), "network")
    add_out_args(p)
    p.set_defaults(func=fit)

    p = csub.add_parser("predict", help="predict the class of every sequence")
    p.add_argument("--model", required=True, metavar="DIR", help="run directory of a classifier")
    p.add_argument("--data", required=True, metavar="NAME|PATH",
                   help="a long CSV (id,t,channels...[,label]) or a bundled set (its test split)")
    p.add_argument("--out", metavar="FILE.csv", help="write the predictions here (default stdout)")
    p.set_defaults(func=predict)

    p = csub.add_parser("evaluate", help="score a saved classifier beside the baselines")
    p.add_argument("--model", required=True, metavar="DIR", help="run directory of a classifier")
    p.add_argument("--data", required=True, metavar="NAME|PATH",
                   help="a long CSV (id,t,channels...,label) or a bundled set (its test split)")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.set_defaults(func=evaluate)

    p = csub.add_parser("datasets", help="list the bundled classification sets")
    p.set_defaults(func=datasets)


def _usage(parser) -> int:
    parser.print_help()
    return 2


def fit(args) -> int:
    from lstmkit.classify.classifier import SequenceClassifier
    from lstmkit.classify.plots import accuracy_plot, confusion_plot
    from lstmkit.cli.options import estimator_kwargs
    from lstmkit.core.classifier import report_table
    from lstmkit.core.errors import expected
    from lstmkit.core.persistence import check_out_dir, json_writer
    from lstmkit.forecast.report import history_csv

    check_out_dir(args.out, args.overwrite)  # refuse before any work
    if args.patience and not args.val:
        raise expected("classify fit", "--val > 0 with --patience (early stopping needs a "
                       "val split)", f"--val {args.val}")
    clf = SequenceClassifier(**estimator_kwargs(args, SequenceClassifier))
    clf.fit(args.data, test=args.test, val=args.val)
    extra = {"history.csv": lambda p: p.write_text(history_csv(clf.histories_, clf.seed_list)),
             "loss.png": lambda p: accuracy_plot(clf.histories_, clf.seed_list, p)}
    report = None
    if clf.test_set_ is not None:
        report = clf.evaluate()
        extra["metrics.json"] = json_writer(report)
        extra["confusion.png"] = lambda p: confusion_plot(
            report["ensemble"]["confusion"], clf.classes_, p,
            f"{clf.label} on {args.data}: test confusion")
    out = clf.save(args.out, overwrite=args.overwrite, extra=extra)
    train_n, val_n, test_n = clf.split_sizes_
    if report is not None:
        print(report_table(report, f"{clf.label} on {args.data}: {test_n} test sequences "
                           f"({train_n} train, {val_n} val)"))
    else:
        print(f"{clf.label} on {args.data}: {train_n} train sequences, no test split")
    print(f"\nwrote {out}/ ({', '.join(['model.safetensors', 'config.json', *extra])})")
    return 0


def predict(args) -> int:
    import numpy as np
    import pandas as pd

    from lstmkit.classify.classifier import SequenceClassifier
    from lstmkit.core.persistence import atomic_write_text
    from lstmkit.registry import load

    if args.out:
        from lstmkit.core.persistence import check_out_file

        check_out_file(args.out)  # refuse before any work
    clf = load(args.model, SequenceClassifier)
    s = clf._as_set(args.data, labels=False)
    proba = clf.predict_proba(s)
    frame = pd.DataFrame({"id": s.ids if s.ids is not None else np.arange(len(s)),
                          "predicted": np.asarray(clf.classes_, dtype=object)[proba.argmax(1)]})
    for j, c in enumerate(clf.classes_):
        frame[f"p_{c}"] = np.round(proba[:, j], 6)
    if args.out:
        atomic_write_text(args.out, frame.to_csv(index=False))
        print(f"wrote {args.out} ({len(frame)} sequences)")
    else:
        frame.to_csv(sys.stdout, index=False)
    return 0


def evaluate(args) -> int:
    from lstmkit.classify.classifier import SequenceClassifier
    from lstmkit.core.classifier import report_table
    from lstmkit.registry import load

    clf = load(args.model, SequenceClassifier)
    report = clf.evaluate(args.data)
    if args.json:
        print(json.dumps(report, indent=2, allow_nan=True))
        return 0
    print(report_table(report, f"{clf.label} on {args.data}: {report['n']} sequences"))
    return 0


def datasets(args) -> int:
    from lstmkit.classify.data import list_classification_datasets

    for name, desc in list_classification_datasets():
        print(f"{name:14s} {desc}")
    return 0
