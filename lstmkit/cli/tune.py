"""``lstmkit tune``: hyperparameter search for the single-series forecaster (Optuna)."""

from __future__ import annotations

ORDER = 12


def register(sub) -> None:
    from lstmkit.cli.options import add_column_args, add_data_args, add_out_args, option_type
    from lstmkit.core.validate import Check, parse_count_or_fraction, positive_int, seed_int

    count = option_type(positive_int.parse, "positive_int")
    split = option_type(parse_count_or_fraction, "count_or_fraction")
    p = sub.add_parser("tune", help="search a forecaster's hyperparameters with Optuna",
                       description="Search hidden size, layers, lookback, learning rate, "
                       "dropout, batch size and cell (lstmkit.forecast.tune.SPACE, or --space) "
                       "by the validation loss on the rows before the test rows, pruning with "
                       "the median rule; then refit the best and write a run directory.")
    add_data_args(p)
    add_column_args(p)
    p.add_argument("--horizon", type=count, default=1, metavar="K", help="steps to forecast")
    p.add_argument("--epochs", type=count, default=100, metavar="N",
                   help="most epochs per trial (early stopping, patience 10)")
    p.add_argument("--test", type=split, default=0.2, metavar="N|FRAC",
                   help="rows held out at the end for testing (never read by the search)")
    p.add_argument("--val", type=split, default=0.1, metavar="N|FRAC",
                   help="rows before the test rows that score the trials")
    p.add_argument("--trials", type=count, required=True, metavar="N", help="trials to run")
    p.add_argument("--timeout", type=option_type(Check("float", low=0, low_open=True).parse,
                                                 "seconds"), metavar="S",
                   help="stop starting trials after this many seconds")
    p.add_argument("--storage", metavar="URL",
                   help="Optuna storage shared by several workers (sqlite:///study.db, "
                        "postgresql://...); default: in memory")
    p.add_argument("--study", metavar="NAME", help="study name in the storage")
    p.add_argument("--space", metavar="FILE.json",
                   help="search-space entries replacing the defaults (see `lstmkit.forecast."
                        "tune`)")
    p.add_argument("--seeds", type=count, default=1, metavar="N",
                   help="networks in the refitted best model")
    p.add_argument("--seed", type=option_type(seed_int.parse, "seed"), default=0, metavar="N",
                   help="seed of the sampler and the trials")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_out_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from lstmkit.core.distributed import refuse

    refuse("tune", "a search (share a study between workers with --storage instead)")
    from lstmkit.cli.forecast import _load_data
    from lstmkit.core.persistence import check_out_dir, json_writer
    from lstmkit.forecast.neural import NeuralForecaster
    from lstmkit.forecast.tune import importance_plot, load_space, tune

    check_out_dir(args.out, args.overwrite)  # refuse before any work
    space = load_space(args.space)
    frame = _load_data(args)
    fixed = {"horizon": args.horizon, "epochs": args.epochs}
    study = tune(frame, args.target, args.features, trials=args.trials, timeout=args.timeout,
                 storage=args.storage, study_name=args.study, space=space, test=args.test,
                 val=args.val, fixed=fixed, seed=args.seed)
    best = study.best_trial
    model = NeuralForecaster(**fixed, patience=10, **best.params, seeds=args.seeds,
                             seed=args.seed, progress=not args.quiet)
    model.fit(frame, target=args.target, features=args.features, test=args.test, val=args.val)
    trials = study.trials_dataframe()
    extra = {"trials.csv": lambda p: p.write_text(trials.to_csv(index=False)),
             "tune.json": json_writer({"best_params": best.params, "best_val_loss": best.value,
                                       "best_trial": best.number, "space": space})}
    report = model.evaluate() if model.test_windows_ is not None else None
    if report is not None:
        extra["metrics.json"] = json_writer(report)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "importance.png"
        if importance_plot(study, png):
            data = png.read_bytes()
            extra["importance.png"] = lambda p: p.write_bytes(data)
        out = model.save(args.out, overwrite=args.overwrite, extra=extra)
    states = trials["state"].value_counts().to_dict()
    print(f"{len(trials)} trials ({', '.join(f'{n} {s.lower()}' for s, n in states.items())}); "
          f"best: trial {best.number}, validation loss {best.value:.5g}")
    print("best parameters: " + ", ".join(f"{k}={v}" for k, v in best.params.items()))
    if report is not None:
        mse = report["aggregate"]["normalized"]["overall"]["mse"]
        mse = mse["mean"] if isinstance(mse, dict) else mse
        naive = report["naive"]["normalized"]["overall"]["mse"]
        print(f"refitted: test MSE (normalized) {mse:.4f}, naive {naive:.4f}")
    print(f"\nwrote {out}/ ({', '.join(['model.safetensors', 'config.json', *extra])})")
    return 0
