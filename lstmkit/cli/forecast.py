"""``lstmkit fit | predict | evaluate | datasets``: the forecasting job from the command line."""

from __future__ import annotations

import argparse
import json
import sys

from lstmkit.core.errors import expected

ORDER = 10


# ---------------------------------------------------------------- argument types
def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def nonnegative_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        v = -1
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or a positive integer, got {text!r}")
    return v


def positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return v


def count_or_fraction(text: str):
    """A row count (``100``) or a fraction of the series (``0.2``)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a row count or a fraction in (0, 1), got {text!r}") from None
    if v < 0 or (v >= 1 and v != int(v)):
        raise argparse.ArgumentTypeError(
            f"expected a row count or a fraction in (0, 1), got {text!r}")
    return int(v) if v >= 1 or v == 0 else v


def columns(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def add_data_args(p, fillna: bool = True) -> None:
    p.add_argument("--data", required=True, metavar="NAME|PATH",
                   help="bundled dataset (see `lstmkit datasets`) or a CSV/Parquet file")
    if fillna:
        p.add_argument("--fillna", choices=["ffill", "interpolate", "drop"],
                       help="repair NaN/inf in the used columns")


def register(sub) -> None:
    p = sub.add_parser("fit", help="train a forecaster and write a run directory")
    add_data_args(p)
    p.add_argument("--features", type=columns, help="input columns (default: all)")
    p.add_argument("--target", type=columns, help="target columns (default: all)")
    p.add_argument("--lookback", type=positive_int, default=10)
    p.add_argument("--horizon", type=positive_int, default=1)
    p.add_argument("--stride", type=positive_int, default=1)
    p.add_argument("--test", type=count_or_fraction, default=0.2,
                   help="rows (or fraction) held out at the end for testing (default 0.2)")
    p.add_argument("--val", type=count_or_fraction, default=0,
                   help="rows (or fraction) before the test rows for early stopping")
    p.add_argument("--cell", choices=["lstm", "gru", "rnn", "lnlstm", "mlp"], default="lstm")
    p.add_argument("--hidden-size", type=positive_int, default=64)
    p.add_argument("--layers", type=positive_int, default=1)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--activation", choices=["tanh", "relu"], default="tanh")
    p.add_argument("--bidirectional", action="store_true")
    p.add_argument("--input-dropout", type=float, default=0.0)
    p.add_argument("--recurrent-dropout", type=float, default=0.0,
                   help="variational dropout on the recurrent state (same mask every step)")
    p.add_argument("--strategy", choices=["direct", "recursive", "seq2seq"], default="direct")
    p.add_argument("--attention", choices=["dot", "additive"],
                   help="seq2seq: Luong dot or Bahdanau additive attention")
    p.add_argument("--teacher-forcing", type=float, default=0.5,
                   help="seq2seq: probability of feeding the true previous value in training")
    p.add_argument("--no-residual", action="store_true",
                   help="predict the value itself, not the change from the last value")
    p.add_argument("--epochs", type=positive_int, default=200)
    p.add_argument("--batch-size", type=positive_int, default=32)
    p.add_argument("--lr", type=positive_float, default=1e-3)
    p.add_argument("--loss", choices=["mse", "mae", "huber"], default="mse")
    p.add_argument("--clip-norm", type=positive_float, default=None)
    p.add_argument("--patience", type=positive_int, default=None,
                   help="early stopping patience in epochs (needs --val); default off")
    p.add_argument("--scaler", choices=["standard", "minmax", "log", "none"], default="standard")
    p.add_argument("--period", type=positive_int, help="add a seasonal-naive baseline")
    p.add_argument("--seeds", type=positive_int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=nonnegative_int, default=0,
                   help="processes training the seeds side by side (0 = one per core; "
                        "1 = one after another); the results do not depend on it")
    p.add_argument("--kernel", choices=["auto", "torch"], default="auto",
                   help="auto: the fused C++ training step for a plain LSTM when it builds; "
                        "torch: autograd + torch.optim.Adam")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=fit)

    p = sub.add_parser("predict", help="forecast the next horizon steps after the data")
    p.add_argument("--model", required=True, metavar="DIR")
    add_data_args(p)
    p.add_argument("--horizon", type=positive_int,
                   help="steps to forecast (default: the training horizon)")
    p.add_argument("--out", metavar="FILE.csv")
    p.set_defaults(func=predict)

    p = sub.add_parser("evaluate", help="score a saved model on every window of new data")
    p.add_argument("--model", required=True, metavar="DIR")
    add_data_args(p)
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.set_defaults(func=evaluate)

    p = sub.add_parser("datasets", help="list the bundled datasets")
    p.set_defaults(func=datasets)


def _load_data(args):
    from lstmkit.forecast.data import fill_missing, load_frame

    frame = load_frame(args.data)
    if getattr(args, "fillna", None):
        frame = fill_missing(frame, None, args.fillna)
    return frame


def fit(args) -> int:
    from lstmkit.core.persistence import check_out_dir
    from lstmkit.forecast import NeuralForecaster
    from lstmkit.forecast.compare import Comparison, default_baselines

    check_out_dir(args.out, args.overwrite)  # refuse before any work
    if args.patience and not args.val:
        raise expected("fit", "--val > 0 with --patience (early stopping needs a val split)",
                       f"--val {args.val}")
    frame = _load_data(args)
    model = NeuralForecaster(
        args.lookback, args.horizon, cell=args.cell, hidden_size=args.hidden_size,
        num_layers=args.layers, dropout=args.dropout, activation=args.activation,
        residual=not args.no_residual, bidirectional=args.bidirectional,
        input_dropout=args.input_dropout, recurrent_dropout=args.recurrent_dropout,
        strategy=args.strategy, attention=args.attention, teacher_forcing=args.teacher_forcing,
        scaler=args.scaler, stride=args.stride,
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, loss=args.loss,
        clip_norm=args.clip_norm, patience=args.patience, seeds=args.seeds, seed=args.seed,
        workers=args.workers, kernel=args.kernel, progress=not args.quiet)
    name = model.label
    models = {name: model, **default_baselines(args.lookback, args.horizon, args.scaler,
                                               args.stride, args.period)}
    comp = Comparison(models).fit(frame, args.target, args.features, test=args.test,
                                  val=args.val)
    extra = comp.writers(main=name)
    out = model.save(args.out, overwrite=args.overwrite, extra=extra)
    print(comp.table(f"{name} on {args.data}: {comp.reports[name]['n_windows']} test windows"))
    print(f"\nwrote {out}/ ({', '.join(['model.safetensors', 'config.json', *extra])})")
    return 0


def predict(args) -> int:
    from lstmkit.core.persistence import atomic_write_text
    from lstmkit.registry import load

    model = load(args.model)
    frame = _load_data(args)
    forecast = model.predict(frame, horizon=args.horizon)
    if args.out:
        atomic_write_text(args.out, forecast.to_csv())
        print(f"wrote {args.out}")
    else:
        forecast.to_csv(sys.stdout)
    return 0


def evaluate(args) -> int:
    from lstmkit.forecast.report import format_table, model_row, naive_row
    from lstmkit.registry import load

    model = load(args.model)
    report = model.evaluate(_load_data(args))
    if args.json:
        print(json.dumps(report, indent=2, allow_nan=True))
        return 0
    rows = [naive_row(report), model_row(model.label, report)]
    print(format_table(rows, f"{model.label} on {args.data}: {report['n_windows']} windows"))
    return 0


def datasets(args) -> int:
    from lstmkit.forecast.data import list_datasets

    for name, desc in list_datasets():
        print(f"{name:14s} {desc}")
    return 0
