"""Hyperparameter search for the single-series forecaster with Optuna.

Each trial fits a :class:`~lstmkit.forecast.neural.NeuralForecaster` with the sampled
hyperparameters on the training rows and scores it by its best validation loss on the rows
before the test rows (a backtest fold); the test rows are never read during the search.
Trials report their validation loss every epoch, and Optuna's median pruner stops the
unpromising ones (a trial whose settings the data cannot hold, e.g. a lookback longer than
the validation rows, is pruned too). With ``storage`` (``sqlite:///study.db``, a PostgreSQL
URL) many processes, on many machines, share one study: Optuna's own distributed mode. The best
configuration is then refitted (with the requested seeds) and returned.

The search space (:data:`SPACE`) can be replaced, whole or in part, by a JSON file:
``{"hidden_size": {"type": "int", "low": 8, "high": 64, "log": true}, "cell":
{"type": "categorical", "choices": ["lstm", "gru"]}}``.
"""

from __future__ import annotations

import json
from pathlib import Path

from lstmkit.core.errors import LstmkitError, expected

SPACE = {
    "hidden_size": {"type": "int", "low": 16, "high": 128, "log": True},
    "num_layers": {"type": "int", "low": 1, "high": 2},
    "lookback": {"type": "int", "low": 4, "high": 48},
    "lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
    "input_dropout": {"type": "float", "low": 0.0, "high": 0.3},
    "batch_size": {"type": "categorical", "choices": [16, 32, 64]},
    "cell": {"type": "categorical", "choices": ["lstm", "gru"]},
}
KINDS = ("int", "float", "categorical")


def load_space(path=None) -> dict:
    """:data:`SPACE`, with the entries of the JSON file ``path`` replacing its own."""
    space = dict(SPACE)
    if path is None:
        return space
    try:
        extra = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise expected("Tune", "a readable JSON search space", f"{path}: {err}") from None
    if not isinstance(extra, dict):
        raise expected("Tune", "a JSON object of parameters", type(extra).__name__)
    from lstmkit.forecast.neural import NeuralForecaster

    known = set(NeuralForecaster().get_params())
    for name, spec in extra.items():
        if name not in known:
            raise expected("Tune", "parameters of the forecaster in the search space",
                           repr(name))
        if not isinstance(spec, dict) or spec.get("type") not in KINDS:
            raise expected("Tune", f"{name}: a type of {', '.join(KINDS)}", repr(spec))
        space[name] = spec
    return space


def _suggest(trial, space: dict) -> dict:
    out = {}
    for name, spec in space.items():
        if spec["type"] == "categorical":
            out[name] = trial.suggest_categorical(name, spec["choices"])
        elif spec["type"] == "int":
            out[name] = trial.suggest_int(name, int(spec["low"]), int(spec["high"]),
                                          log=bool(spec.get("log", False)))
        else:
            out[name] = trial.suggest_float(name, float(spec["low"]), float(spec["high"]),
                                            log=bool(spec.get("log", False)))
    return out


def _optuna():
    try:
        import optuna
    except ImportError:
        raise LstmkitError("Tune: expected the tune extra (pip install -c constraints.txt "
                           "'lstmkit[tune]'), got optuna missing") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def tune(frame, target, features, *, trials: int, timeout: float | None = None,
         storage: str | None = None, study_name: str | None = None, space: dict | None = None,
         test=0.2, val=0.1, fixed: dict | None = None, seed: int = 0):
    """Run the search; returns the Optuna study. ``fixed``: forecaster parameters every trial
    shares (horizon, epochs, patience, ...)."""
    from lstmkit.forecast.neural import NeuralForecaster

    optuna = _optuna()
    if not val:
        raise expected("Tune", "a validation split (val > 0): trials are scored on it, never "
                       "on the test rows", f"val {val}")
    space = SPACE if space is None else space
    fixed = {"patience": 10, **(fixed or {}), "seeds": 1, "workers": 1, "progress": False}

    def objective(trial) -> float:
        model = NeuralForecaster(**fixed, **_suggest(trial, space), seed=seed)

        def report(seed: int, row: dict) -> None:  # fit's on_epoch hook: Optuna's pruning
            trial.report(row["val_loss"], row["epoch"])
            if trial.should_prune():
                raise optuna.TrialPruned()

        try:
            model.fit(frame, target=target, features=features, test=test, val=val,
                      on_epoch=report)
        except LstmkitError as err:  # e.g. a lookback the splits are too short for
            raise optuna.TrialPruned(str(err)) from None
        return min(r["val_loss"] for r in model.histories_[0])

    study = _create_study(optuna, study_name, storage, seed)
    study.optimize(objective, n_trials=trials, timeout=timeout)
    if not any(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials):
        raise expected("Tune", "at least one completed trial", "none (all pruned or failed)")
    return study


def _create_study(optuna, name, storage, seed: int, tries: int = 10):
    """The study, created or joined. Workers starting together race to create a new SQL
    storage's tables; the loser retries once the winner is done."""
    import time

    create = lambda: optuna.create_study(
        study_name=name, storage=storage, direction="minimize", load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_warmup_steps=5))
    for attempt in range(tries - 1 if storage is not None else 0):
        try:
            return create()
        except Exception:  # sqlalchemy's OperationalError / IntegrityError of the race
            time.sleep(0.2 * (attempt + 1))
    return create()  # the last try (the only one in memory) raises what it meets


def importance_plot(study, path) -> bool:
    """Optuna's parameter-importance plot into ``path``; False where it cannot be computed
    (fewer than two completed trials, or no parameter varied)."""
    import warnings

    optuna = _optuna()
    try:
        from optuna.visualization.matplotlib import plot_param_importances

        from lstmkit.core.plotting import pyplot

        plt = pyplot()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            ax = plot_param_importances(study)
        ax.figure.tight_layout()
        ax.figure.savefig(path, format="png", dpi=110)
        plt.close(ax.figure)
        return True
    except (RuntimeError, ValueError, ZeroDivisionError, optuna.exceptions.OptunaError):
        return False
