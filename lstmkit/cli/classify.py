"""``lstmkit classify fit | predict | evaluate | datasets``: sequence classification."""

from __future__ import annotations

import json
import sys

ORDER = 20


def register(sub) -> None:
    from lstmkit.classify.config import SEQUENCE_CLASSIFIER as spec
    from lstmkit.cli.options import (
        add_device_arg,
        add_estimator_groups,
        add_out_args,
        add_resume_arg,
        option_type,
    )
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
    add_resume_arg(p)
    p.set_defaults(func=fit)

    p = csub.add_parser("predict", help="predict the class of every sequence")
    p.add_argument("--model", required=True, metavar="DIR", help="run directory of a classifier")
    p.add_argument("--data", required=True, metavar="NAME|PATH",
                   help="a long CSV (id,t,channels...[,label]) or a bundled set (its test split)")
    p.add_argument("--out", metavar="FILE.csv", help="write the predictions here (default stdout)")
    add_device_arg(p)
    p.set_defaults(func=predict)

    p = csub.add_parser("evaluate", help="score a saved classifier beside the baselines")
    p.add_argument("--model", required=True, metavar="DIR", help="run directory of a classifier")
    p.add_argument("--data", required=True, metavar="NAME|PATH",
                   help="a long CSV (id,t,channels...,label) or a bundled set (its test split)")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    add_device_arg(p)
    p.set_defaults(func=evaluate)

    p = csub.add_parser("datasets", help="list the bundled classification sets")
    p.set_defaults(func=datasets)


def _usage(parser) -> int:
    parser.print_help()
    return 2


def fit(args) -> int:
    from lstmkit.classify.classifier import SequenceClassifier

    return fit_classifier(args, SequenceClassifier, "classify fit", "sequences",
                          lambda clf: clf.test_set_ is not None)


def fit_classifier(args, cls, component: str, noun: str, has_test, detail=lambda clf: "") -> int:
    """``fit`` of a classifier command: train ``cls`` on ``args.data`` with ``args.test`` and
    ``args.val``, write the run directory, print the report (with its verdict line).
    ``has_test(clf)``: whether it kept a test split; ``detail(clf)``: more for the title."""
    from lstmkit.classify.plots import accuracy_plot, confusion_plot
    from lstmkit.cli.options import estimator_kwargs
    from lstmkit.core.classifier import report_table
    from lstmkit.core.errors import expected
    from lstmkit.core.persistence import check_out_dir, json_writer
    from lstmkit.forecast.report import history_csv

    check_out_dir(args.out, args.overwrite)  # refuse before any work
    if args.patience and not args.val:
        raise expected(component, "--val > 0 with --patience (early stopping needs a val "
                       "split)", f"--val {args.val}")
    clf = cls(**estimator_kwargs(args, cls))
    from lstmkit.cli.options import checkpointed

    if not checkpointed(args.out, lambda folder: clf.fit(
            args.data, test=args.test, val=args.val, checkpoint=folder, resume=args.resume)):
        return 130
    from lstmkit.core.distributed import is_main

    if not is_main():  # torchrun: the other ranks trained their share; rank 0 writes
        return 0
    extra = {"history.csv": lambda p: p.write_text(history_csv(clf.histories_, clf.seed_list)),
             "loss.png": lambda p: accuracy_plot(clf.histories_, clf.seed_list, p)}
    report = None
    if has_test(clf):
        report = clf.evaluate()
        extra["metrics.json"] = json_writer(report)
        extra["confusion.png"] = lambda p: confusion_plot(
            report["ensemble"]["confusion"], clf.classes_, p,
            f"{clf.label} on {args.data}: test confusion")
    train_n, val_n, test_n = clf.split_sizes_
    if report is not None:
        summary = report_table(report, f"{clf.label} on {args.data}: {test_n} test {noun} "
                               f"({train_n} train, {val_n} val{detail(clf)})")
    else:
        summary = f"{clf.label} on {args.data}: {train_n} train {noun}, no test split"
    from lstmkit.core.report_page import page_writers

    extra |= page_writers(summary, args.out)
    out = clf.save(args.out, overwrite=args.overwrite, extra=extra)
    print(summary)
    print(f"\nwrote {out}/ ({', '.join(['model.safetensors', 'config.json', *extra])})")
    return 0


def write_predictions(frame, proba, classes, out, noun: str) -> None:
    """Add ``p_<class>`` columns to ``frame`` and write it to ``out`` (atomically) or stdout."""
    import numpy as np

    from lstmkit.core.persistence import atomic_write_text

    for j, c in enumerate(classes):
        frame[f"p_{c}"] = np.round(proba[:, j], 6)
    if out:
        atomic_write_text(out, frame.to_csv(index=False))
        print(f"wrote {out} ({len(frame)} {noun})")
    else:
        frame.to_csv(sys.stdout, index=False)


def predict(args) -> int:
    import numpy as np
    import pandas as pd

    from lstmkit.classify.classifier import SequenceClassifier
    from lstmkit.registry import load

    if args.out:
        from lstmkit.core.persistence import check_out_file

        check_out_file(args.out)  # refuse before any work
    from lstmkit.cli.options import apply_device

    clf = apply_device(load(args.model, SequenceClassifier), args)
    s = clf._as_set(args.data, labels=False)
    proba = clf.predict_proba(s)
    frame = pd.DataFrame({"id": s.ids if s.ids is not None else np.arange(len(s)),
                          "predicted": np.asarray(clf.classes_, dtype=object)[proba.argmax(1)]})
    write_predictions(frame, proba, clf.classes_, args.out, "sequences")
    return 0


def evaluate(args) -> int:
    from lstmkit.classify.classifier import SequenceClassifier

    return evaluate_classifier(args, SequenceClassifier, "sequences")


def evaluate_classifier(args, cls, noun: str) -> int:
    """``evaluate`` of a classifier command: the saved ``cls`` on ``args.data``, as a table
    with its verdict line, or JSON."""
    from lstmkit.cli.options import apply_device
    from lstmkit.core.classifier import report_table
    from lstmkit.registry import load

    clf = apply_device(load(args.model, cls), args)
    report = clf.evaluate(args.data)
    if args.json:
        print(json.dumps(report, indent=2, allow_nan=True))
        return 0
    print(report_table(report, f"{clf.label} on {args.data}: {report['n']} {noun}"))
    return 0


def datasets(args) -> int:
    from lstmkit.classify.data import list_classification_datasets

    for name, desc in list_classification_datasets():
        print(f"{name:14s} {desc}")
    return 0
