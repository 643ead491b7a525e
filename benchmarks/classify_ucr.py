"""The sequence classifier's defaults against 1-NN DTW, on five bundled sets.

    .venv/bin/python benchmarks/classify_ucr.py [--only NAME ...] [--set KEY=VALUE ...]

Runs ``SequenceClassifier(seeds=3)`` with every other setting at its default (what
``lstmkit classify fit --data NAME --seeds 3`` runs) on OSULeaf and ACSF1 (univariate UCR),
PickupGestureWiimoteZ (variable length), digits-rows and mnist1d, each with its own
train/test split, and prints per set: the mean test accuracy of the 3 seeds, their
ensemble's, the 1-NN DTW baseline's (full window, dtaidistance), 1-NN Euclidean's, the
targets of issue 14, and the training seconds (all seeds). ``--set`` overrides a default,
to measure a candidate (``--set conv_channels=0``); README's table was printed without it.
``--only`` picks sets by part of their name, or names another bundled set
(``--only ucr:JapaneseVowels``).
"""

from __future__ import annotations

import argparse
import ast
import time

from lstmkit.classify.classifier import SequenceClassifier
from lstmkit.classify.data import is_bundled
from lstmkit.core.table import format_table

SETS = ["ucr:OSULeaf", "ucr:ACSF1", "ucr:PickupGestureWiimoteZ", "digits-rows", "mnist1d"]
TARGETS = {"ucr:OSULeaf": 0.92, "ucr:ACSF1": 0.90, "mnist1d": 0.94}  # besides beating DTW


def _value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    overrides = {k: _value(v) for k, v in (kv.split("=", 1) for kv in args.set)}
    rows, t_all, wins = [], time.perf_counter(), 0
    names = [n for n in SETS if not args.only or any(o in n for o in args.only)]
    names += [o for o in args.only or [] if is_bundled(o) and o not in names]  # any other set
    for name in names:
        clf = SequenceClassifier(seeds=args.seeds, progress=False, **overrides)
        t0 = time.perf_counter()
        clf.fit(name)
        fit_s = time.perf_counter() - t0
        rep = clf.evaluate()
        acc, ens = rep["aggregate"]["accuracy"]["mean"], rep["ensemble"]["accuracy"]
        base = rep["baselines"]
        dtw = base.get("1-NN DTW", {}).get("accuracy", float("nan"))
        target = TARGETS.get(name)
        ok = acc > dtw and (target is None or acc >= target)
        wins += ok
        rows.append([name, f"{acc:.3f}", f"{ens:.3f}", f"{dtw:.3f}",
                     f"{base['1-NN']['accuracy']:.3f}",
                     "-" if target is None else f"{target:.2f}", "PASS" if ok else "miss",
                     f"{fit_s:.0f}"])
        print(f"{name}: {acc:.3f} (DTW {dtw:.3f}) in {fit_s:.0f} s", flush=True)
    label = clf.label + ("" if not overrides else f" with {overrides}")
    print(f"\n{label}, {args.seeds} seeds, defaults otherwise")
    print(format_table(["set", "accuracy (mean of seeds)", "ensemble", "1-NN DTW", "1-NN",
                        "target", "beats DTW and target", "fit s"], rows))
    print(f"{wins}/{len(rows)} sets pass; total {time.perf_counter() - t_all:.0f} s")


if __name__ == "__main__":
    main()
