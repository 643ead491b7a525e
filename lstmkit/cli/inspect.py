"""``lstmkit inspect``: gate traces of a saved model on one window, as heatmaps.

Writes into ``--out`` (created atomically; it must not exist or be empty, unless
``--overwrite``), for each layer ``k``:

* ``layer{k}_gates.png``: heatmaps (time × unit) of every gate, the candidate, C and h;
* ``layer{k}_top_units.png``: the units of C and h with the largest variance, as lines;

and ``trace.npz`` with the arrays (``x`` (T, F), ``layer{k}_{name}`` (T, H)).

Forecasters: ``--data`` is windowed, ``--index`` picks a window. Sequence classifiers:
``--data`` as the classifier's loaders accept, ``--index`` picks a sequence. Language models:
``--data`` is a corpus name or text file (``--index`` = the line to start at) or ``--text``
a prompt; the first ``--length`` tokens are traced, the time axis labelled with them
(``trace.npz`` then holds ``ids`` instead of ``x``).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from lstmkit.core.errors import expected

ORDER = 50


def register(sub) -> None:
    from lstmkit.cli.options import option_type
    from lstmkit.core.validate import Check, positive_int

    count = option_type(positive_int.parse, "positive_int")
    p = sub.add_parser("inspect", help="gate traces of a saved model on one window (heatmaps)")
    p.add_argument("--model", required=True, metavar="DIR", help="run directory of a model")
    p.add_argument("--data", default=None, metavar="NAME|PATH",
                   help="bundled dataset name or CSV/Parquet file to window; a classifier's "
                        "data; a corpus name or text file for a language model")
    p.add_argument("--text", default=None, metavar="PROMPT",
                   help="language models: trace this text instead of --data")
    p.add_argument("--index", type=option_type(Check("int").parse, "index"), default=0, metavar="K",
                   help="window / sequence index, or for text the line to start at "
                        "(negative counts from the end; default 0)")
    p.add_argument("--length", type=count, default=40, metavar="N",
                   help="language models: tokens to trace (default 40)")
    p.add_argument("--top", type=count, default=5, metavar="N",
                   help="units with the largest variance to draw as lines (default 5)")
    p.add_argument("--out", default="inspect", metavar="DIR", help="output directory")
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
    p.set_defaults(func=run)


def _npz_writer(arrays: dict):
    def write(path: Path) -> None:
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        path.write_bytes(buf.getvalue())

    return write


def _figure_writer(fig):
    from lstmkit.introspect.plots import save_figure

    return lambda path: save_figure(fig, path)


def run(args) -> int:
    import lstmkit
    from lstmkit.core.persistence import check_out_dir
    from lstmkit.introspect import trace
    from lstmkit.introspect.sources import classifier_sequence, lm_sequence, model_kind

    check_out_dir(args.out, args.overwrite)  # fail before any work
    model = lstmkit.load(args.model)
    kind = model_kind(model, "Inspect")
    if kind != "language" and args.text is not None:
        raise expected("Inspect", "--text only for a language model",
                       f"model class {type(model).__name__}")
    if kind != "language" and args.data is None:
        raise expected("Inspect", f"--data for a {kind}", "none")
    if kind == "language":
        src = lm_sequence(model, args.data, args.text, args.index, args.length)
    elif kind == "classifier":
        src = classifier_sequence(model, args.data, args.index)
    else:
        return _forecaster(args, model)
    tr = trace(src.module, src.x, labels=src.labels)
    return _write(args, tr, src.labels, src.description, dict(src.arrays))


def _forecaster(args, model) -> int:
    from lstmkit.introspect import trace

    w = model.windows_for(args.data)
    M = len(w)
    if not -M <= args.index < M:
        raise expected("Inspect", f"--index in [{-M}, {M}) ({M} windows)", args.index)
    k = args.index % M
    x = w.X[k]  # (L, F) scaled inputs of window k
    L = x.shape[0]
    rows = [str(int(r)) for r in range(int(w.start[k]) - L, int(w.start[k]))]  # input rows
    tr = trace(model, x[None], labels=rows)
    desc = f"window {k} of {M} ({L} steps)"
    return _write(args, tr, rows, desc, {"x": x}, f"window {k} (rows {rows[0]}–{rows[-1]})")


def _write(args, tr, rows, desc: str, arrays: dict, what: str | None = None) -> int:
    """Figures and arrays of sequence 0 of ``tr`` into ``--out``; a short report."""
    from lstmkit.core.persistence import write_run_dir
    from lstmkit.introspect.plots import gate_heatmaps, top_units_plot

    name = Path(args.model).name
    what = what or desc
    writers = {}
    for layer in range(tr.num_layers):
        seq = tr.sequence(0, layer)  # name -> (T, H)
        title = f"{name}: {tr.cell.upper()} layer {layer}, {what}"
        writers[f"layer{layer}_gates.png"] = _figure_writer(
            gate_heatmaps(seq, labels=rows, title=title))
        writers[f"layer{layer}_top_units.png"] = _figure_writer(
            top_units_plot(seq, k=args.top, labels=rows, title=title))
        arrays.update({f"layer{layer}_{n}": v for n, v in seq.items()})
    writers["trace.npz"] = _npz_writer(arrays)
    out = write_run_dir(args.out, writers, overwrite=args.overwrite)
    print(f"{tr.cell.upper()} trace of {desc}, model {args.model}")
    for layer in range(tr.num_layers):
        seq = tr.sequence(0, layer)
        stats = "  ".join(f"{n} {np.mean(v):+.3f}" for n, v in seq.items())
        print(f"  layer {layer} means: {stats}")
    for f in writers:
        print(f"  wrote {out / f}")
    return 0
