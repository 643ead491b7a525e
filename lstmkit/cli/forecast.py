"""``lstmkit fit | predict | evaluate | datasets``: the forecasting job from the command line."""

from __future__ import annotations

import json
import sys

from lstmkit.core.errors import expected

ORDER = 10


def register(sub) -> None:
    from lstmkit.cli.options import (
        add_column_args,
        add_data_args,
        add_device_arg,
        add_estimator_groups,
        add_out_args,
        add_resume_arg,
        option_type,
    )
    from lstmkit.cli.panel import add_panel_args, levels_arg
    from lstmkit.core.validate import parse_count_or_fraction, positive_int
    from lstmkit.forecast.config import NEURAL_FORECASTER as spec

    split = option_type(parse_count_or_fraction, "count_or_fraction")
    p = sub.add_parser("fit", help="train a forecaster and write a run directory",
                       description="Train a forecaster (recurrent or MLP) on one multivariate "
                       "series, or one global model on many series in long format "
                       "(unique_id, ds, y), and report it beside the baselines on the held-out "
                       "test points.")
    add_data_args(p)
    add_column_args(p)
    p.add_argument("--test", type=split, default=0.2, metavar="N|FRAC",
                   help="rows (or a fraction) held out at the end for testing")
    p.add_argument("--val", type=split, default=0, metavar="N|FRAC",
                   help="rows (or a fraction) before the test rows, for early stopping")
    add_estimator_groups(p, spec, ("window", "network"), "window and network")
    p.add_argument("--period", type=option_type(positive_int.parse, "period"), metavar="N",
                   help="also report a seasonal-naive baseline of this period (panels: the "
                        "period of MASE's scale and Naive2; default --season)")
    add_out_args(p)
    add_resume_arg(p)
    add_panel_args(p)
    p.set_defaults(func=fit, parser=p)

    p = sub.add_parser("predict", help="forecast the next horizon steps after the data")
    p.add_argument("--model", required=True, metavar="DIR", help="run directory of a forecaster")
    add_data_args(p)
    p.add_argument("--horizon", type=option_type(positive_int.parse, "horizon"), metavar="N",
                   help="steps to forecast (default: the training horizon)")
    p.add_argument("--out", metavar="FILE.csv", help="write the forecast here (default: stdout)")
    p.add_argument("--futr", metavar="FILE",
                   help="panels: the future-known covariates of the forecast horizon "
                        "(unique_id, ds and the --futr-exog columns)")
    p.add_argument("--level", type=levels_arg, default=[], metavar="L,L",
                   help="panels: prediction intervals at these levels in percent (lo_L, hi_L "
                        "columns; the model needs --conformal-windows)")
    add_device_arg(p)
    p.set_defaults(func=predict)

    p = sub.add_parser("evaluate", help="score a saved model on every window of new data")
    p.add_argument("--model", required=True, metavar="DIR", help="run directory of a forecaster")
    add_data_args(p)
    p.add_argument("--test-data", metavar="FILE|NAME",
                   help="panels: the points after --data to score the forecast on")
    p.add_argument("--period", type=option_type(positive_int.parse, "period"), metavar="N",
                   help="panels: the period of MASE's scale and Naive2 (default: the model's "
                        "season)")
    p.add_argument("--level", type=levels_arg, default=[], metavar="L,L",
                   help="panels: also score prediction intervals at these levels in percent")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    add_device_arg(p)
    p.set_defaults(func=evaluate)

    p = sub.add_parser("datasets", help="list the bundled datasets")
    p.set_defaults(func=datasets)


def _load_data(args, fill: bool = True):
    from lstmkit.forecast.data import fill_missing, load_frame

    frame = load_frame(args.data, sep=args.sep, decimal=args.decimal)
    if fill and getattr(args, "fillna", None):
        frame = fill_missing(frame, None, args.fillna)
    return frame


def fit(args) -> int:
    from lstmkit.cli import panel
    from lstmkit.cli.options import estimator_kwargs
    from lstmkit.core.persistence import check_out_dir
    from lstmkit.forecast.compare import Comparison, default_baselines
    from lstmkit.forecast.neural import NeuralForecaster

    check_out_dir(args.out, args.overwrite)  # refuse before any work
    frame = _load_data(args, fill=False)
    if panel.is_panel_run(args, frame):
        return panel.fit(args, frame)
    panel.refuse_panel_options(args)
    from lstmkit.core.distributed import refuse

    refuse("fit", "a single-series forecaster (its small networks train on one process)")
    if args.fillna:
        from lstmkit.forecast.data import fill_missing

        frame = fill_missing(frame, None, args.fillna)
    if args.patience and not args.val:
        raise expected("fit", "--val > 0 with --patience (early stopping needs a val split)",
                       f"--val {args.val}")
    model = NeuralForecaster(**estimator_kwargs(args, NeuralForecaster))
    name = model.label
    models = {name: model, **default_baselines(args.lookback, args.horizon, args.scaler,
                                               args.stride, args.period)}
    from lstmkit.cli.options import checkpointed

    comp = Comparison(models)
    if not checkpointed(args.out, lambda folder: comp.fit(
            frame, args.target, args.features, test=args.test, val=args.val,
            checkpoint={name: folder}, resume=args.resume)):
        return 130
    from lstmkit.core.report_page import page_writers

    if comp.reports:
        summary = (comp.table(f"{name} on {args.data}: {comp.reports[name]['n_windows']} test "
                              "windows") + "\n" + comp.verdict(name))
    else:
        summary = (f"{name} trained on every row of {args.data} (--test 0): nothing held out "
                   "to score; `lstmkit predict` forecasts after the last row")
    extra = comp.writers(main=name) | page_writers(summary, args.out)
    out = model.save(args.out, overwrite=args.overwrite, extra=extra)
    print(summary)
    print(f"\nwrote {out}/ ({', '.join(['model.safetensors', 'config.json', *extra])})")
    return 0


def _load_model(args, command: str, panel_only: tuple[str, ...]):
    """The forecaster of ``--model`` (single-series or panel); the panel-only options are
    refused for a single-series one."""
    from lstmkit.cli.options import apply_device
    from lstmkit.forecast.forecaster import Forecaster
    from lstmkit.forecast.panel.model import GlobalForecaster
    from lstmkit.registry import load

    model = apply_device(load(args.model, (Forecaster, GlobalForecaster)), args)
    given = [o for o in panel_only if getattr(args, o)]
    if isinstance(model, Forecaster) and given:
        flags = " and ".join("--" + o.replace("_", "-") for o in given)
        raise expected(command, f"{flags} only with a panel model", "a single-series model")
    return model


def predict(args) -> int:
    from lstmkit.cli import panel
    from lstmkit.core.persistence import atomic_write_text, check_out_file
    from lstmkit.forecast.forecaster import Forecaster

    if args.out:
        check_out_file(args.out)  # refuse before any work
    model = _load_model(args, "predict", ("futr", "level"))
    if not isinstance(model, Forecaster):
        return panel.predict(args, model)
    frame = _load_data(args)
    forecast = model.predict(frame, horizon=args.horizon)
    if args.out:
        atomic_write_text(args.out, forecast.to_csv())
        print(f"wrote {args.out}")
    else:
        forecast.to_csv(sys.stdout)
    return 0


def evaluate(args) -> int:
    from lstmkit.cli import panel
    from lstmkit.forecast.forecaster import Forecaster
    from lstmkit.forecast.report import model_row, naive_row, report_table

    model = _load_model(args, "evaluate", ("test_data", "level"))
    if not isinstance(model, Forecaster):
        return panel.evaluate(args, model)
    report = model.evaluate(_load_data(args))
    if args.json:
        print(json.dumps(report, indent=2, allow_nan=True))
        return 0
    rows = [naive_row(report), model_row(model.label, report)]
    n, inside = report["n_windows"], report["n_in_sample"]
    what = ("(whether any forecasts training rows is unknown: a model saved before lstmkit "
            "recorded them)" if inside is None else
            "(none forecasts a training row: out of sample)" if inside == 0 else
            f"({inside} of them forecast training rows: in-sample, not a test)")
    print(report_table(rows, f"{model.label} on {args.data}: {n} windows {what}"))
    return 0


def datasets(args) -> int:
    from lstmkit.forecast.data import list_datasets

    for name, desc in list_datasets():
        print(f"{name:14s} {desc}")
    return 0
