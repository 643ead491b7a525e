"""``lstmkit gradients``: the vanishing gradient, measured on LSTM, GRU and simple RNN.

Trains a small LSTM, GRU and RNN forecaster on the same data (or loads ``--model``) and
measures ‖∂L/∂h_t‖ and ‖∂L/∂x_t‖ for t = T … 1 at initialisation (the same seed's initial
weights) and after training, on the same windows (see :func:`lstmkit.introspect.gradient_flow`).
Writes into ``--out`` (atomically; new or empty unless ``--overwrite``):

* ``gradients.png``: both norms against steps before the end, log scale;
* ``gradients.csv``: ``cell, stage, t, lag, dh_norm, dx_norm``;
* ``training.csv`` (when training): ``cell, epoch, train_loss, grad_norm`` (mean global
  gradient norm of the epoch's updates; no clipping is applied).

``--model`` may also be a language model (``--data`` a corpus name or text file; windows of
``--lookback`` tokens, L = next-token cross-entropy at the last step) or a sequence
classifier (``--data`` as its loaders accept; L = cross-entropy of the label).
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np

from lstmkit.core.errors import expected

ORDER = 55
CELLS = ("lstm", "gru", "rnn")


def register(sub) -> None:
    from lstmkit.cli.options import add_column_args, option_type
    from lstmkit.core.validate import parse_count_or_fraction, positive_int, seed_int

    count = option_type(positive_int.parse, "positive_int")
    p = sub.add_parser("gradients",
                       help="gradient norms through time for LSTM, GRU and RNN (log plot)")
    p.add_argument("--data", required=True, metavar="NAME|PATH",
                   help="bundled dataset name or CSV/Parquet file")
    add_column_args(p)
    p.add_argument("--lookback", type=count, default=50, metavar="L",
                   help="window length T (default 50)")
    p.add_argument("--test", type=option_type(parse_count_or_fraction, "count_or_fraction"),
                   default=0.2, metavar="N|FRAC",
                   help="rows held out from training (count or fraction; default 0.2); the "
                        "norms are measured on windows of all the data")
    p.add_argument("--epochs", type=count, default=20, metavar="N", help="training epochs")
    p.add_argument("--hidden-size", type=count, default=32, metavar="H",
                   help="hidden units of the three trained models")
    p.add_argument("--windows", type=count, default=256, metavar="M",
                   help="windows to measure on, evenly spaced (default 256)")
    p.add_argument("--seed", type=option_type(seed_int.parse, "seed"), default=0, metavar="N",
                   help="random seed of the three trained models")
    p.add_argument("--model", default=None, metavar="DIR",
                   help="measure this saved model instead of training three")
    p.add_argument("--out", default="gradients", metavar="DIR", help="output directory")
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
    p.set_defaults(func=run)


def _subset(w, m: int):
    """At most ``m`` evenly spaced windows of ``w``."""
    from lstmkit.forecast.data import Windows

    idx = np.unique(np.linspace(0, len(w) - 1, min(m, len(w))).round().astype(int))
    return Windows(w.X[idx], w.Y[idx], w.H[idx], w.start[idx])


def _initial_network(forecaster):
    """The network ``forecaster`` started from: its first seed's initial weights. A network
    with a linear skip starts with a zero head, which passes no gradient at all: its encoder's
    initial weights are measured under the random head it would have had without the skip."""
    from dataclasses import replace

    import torch

    from lstmkit.forecast.networks import build_network

    torch.manual_seed(forecaster.seed_list[0])  # as NeuralForecaster._fit_prepared does
    return build_network(replace(forecaster.network_config_, linear_skip=False))


def _measure(forecaster, windows) -> dict:
    from lstmkit.core.training import torch_threads
    from lstmkit.introspect import gradient_flow

    with torch_threads(1):
        return {"init": gradient_flow(_initial_network(forecaster), windows),
                "trained": gradient_flow(forecaster, windows)}


def _measure_other(model, kind: str, args) -> dict:
    """Init and trained gradient flow of a language model or a sequence classifier."""
    import torch.nn.functional as F

    from lstmkit.core.training import torch_threads
    from lstmkit.introspect import gradient_flow
    from lstmkit.introspect import sources as src

    if kind == "language":
        x, y = src.lm_windows(model, args.data, args.lookback, args.windows)
        nets, loss, extra = (src.initial_network(model, kind), model.net_), src.lm_loss(y), ()
    else:
        x, lengths, y = src.classifier_windows(model, args.data, args.windows)
        nets = (src.initial_network(model, kind), model.networks_[0])
        loss, extra = (lambda out: F.cross_entropy(out, y)), (lengths,)
    with torch_threads(1):
        return {stage: gradient_flow(net, x, loss, args=extra)
                for stage, net in zip(("init", "trained"), nets, strict=True)}


def _csv_writer(rows: list[dict]):
    def write(path) -> None:
        buf = io.StringIO()
        out = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        out.writeheader()
        out.writerows(rows)
        path.write_text(buf.getvalue(), encoding="utf-8")

    return write


def run(args) -> int:
    import lstmkit
    from lstmkit.core.persistence import check_out_dir, write_run_dir
    from lstmkit.introspect import gradient_table
    from lstmkit.introspect.plots import gradient_flow_plot, save_figure
    from lstmkit.introspect.sources import model_kind

    check_out_dir(args.out, args.overwrite)  # fail before any work
    results, training = {}, []
    if args.model:
        f = lstmkit.load(args.model)
        kind = model_kind(f, "Gradients")
        if getattr(f, "cell", None) not in CELLS:
            raise expected("Gradients", "a recurrent (lstm, gru or rnn) model",
                           f"model class {type(f).__name__}")
        if kind == "forecaster":
            results[f.cell] = _measure(f, _subset(f.windows_for(args.data), args.windows))
        else:
            results[f.cell] = _measure_other(f, kind, args)
    else:
        for cell in CELLS:
            # clip_norm=inf never clips (scale factor exactly 1) but makes the trainer log
            # the gradient norm of every update; no linear skip: all the gradient goes
            # through the recurrent network, which is what is measured
            f = lstmkit.NeuralForecaster(
                args.lookback, 1, cell=cell, hidden_size=args.hidden_size, epochs=args.epochs,
                clip_norm=math.inf, seed=args.seed, linear_skip=False, progress=False)
            test = int(args.test) if args.test >= 1 else args.test
            f.fit(args.data, target=args.target, features=args.features, test=test)
            for row in f.histories_[0]:
                training.append({"cell": cell, "epoch": row["epoch"],
                                 "train_loss": row["train_loss"],
                                 "grad_norm": row.get("grad_norm", float("nan"))})
            results[cell] = _measure(f, _subset(f.windows_for(args.data), args.windows))
    T = len(next(iter(results.values()))["init"]["t"])
    title = f"Gradient flow through time, {args.data}, T = {T} (loss at the last step)"
    writers = {"gradients.png": lambda p: save_figure(gradient_flow_plot(results, title), p),
               "gradients.csv": _csv_writer(gradient_table(results))}
    if training:
        writers["training.csv"] = _csv_writer(training)
    out = write_run_dir(args.out, writers, overwrite=args.overwrite)
    print(f"{'cell':4}  {'stage':7}  {'|dL/dh_T|':>10}  {'|dL/dh_1|':>10}  {'ratio 1/T':>9}")
    for cell, stages in results.items():
        for stage, flow in stages.items():
            last, first = flow["dh"][-1], flow["dh"][0]
            ratio = first / last if last > 0 else float("nan")
            print(f"{cell.upper():4}  {stage:7}  {last:10.3e}  {first:10.3e}  {ratio:9.2e}")
    for name in writers:
        print(f"wrote {out / name}")
    return 0
