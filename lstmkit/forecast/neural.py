"""Neural forecasters (LSTM, GRU, simple RNN, MLP) and baselines behind one API.

A neural forecaster trains ``seeds`` independent networks (seeds ``seed``,
``seed+1``, ...). ``evaluate`` reports each one and their spread; ``predict``
returns the mean of their forecasts.
"""

from __future__ import annotations

import numpy as np
import torch

from lstmkit.core.errors import expected
from lstmkit.core.parallel import fit_seeds
from lstmkit.core.training import auto_threads
from lstmkit.forecast import fused_step
from lstmkit.forecast.baselines import make_baseline
from lstmkit.forecast.forecaster import Forecaster
from lstmkit.forecast.networks import NetworkConfig, build_network
from lstmkit.forecast.training import TrainConfig, train


def _positive_int(component: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise expected(component, f"{name} to be a positive integer", repr(value))
    return int(value)


class NeuralForecaster(Forecaster):
    """Recurrent encoder (or MLP) + linear head, direct multi-step, trained with Adam.

    Args:
        lookback, horizon: window length L and steps predicted at once K.
        cell: ``lstm`` | ``gru`` | ``rnn`` | ``mlp``.
        hidden_size, num_layers, dropout: network size (dropout between recurrent layers).
        activation: ``tanh`` | ``relu`` (Keras' ``LSTM(4, activation='relu')``).
        residual: predict the change from the last observed value (default True).
        bidirectional, input_dropout, recurrent_dropout: see :class:`lstmkit.nn.Recurrent`.
        strategy: ``direct`` (K outputs at once), ``recursive`` (a one-step model fed its
            own predictions K times) or ``seq2seq`` (encoder + decoder fed its previous
            prediction); the last two can forecast past the training horizon.
        attention: seq2seq only: ``None``, ``dot`` (Luong) or ``additive`` (Bahdanau).
        teacher_forcing: seq2seq only: probability of feeding the true previous value.
        scaler: ``standard`` | ``minmax`` | ``log`` | ``none`` (fitted on train rows only).
        epochs, batch_size, lr, loss, clip_norm, patience: see :class:`TrainConfig`.
        seeds, seed: train ``seeds`` models with seeds ``seed, seed+1, ...``.
        threads: torch threads per model (0 = auto: 1 for small models).
        workers: processes that train the seeds side by side (0 = one per core, 1 = one
            after another); the results are the same either way (:mod:`lstmkit.core.parallel`).
        kernel: ``auto`` trains a plain LSTM (one layer, tanh, no dropout) with the fused C++
            step of :mod:`lstmkit.forecast.fused_step` when it builds; ``torch`` always uses
            autograd and ``torch.optim.Adam``. Both compute the same updates (to float rounding).
        progress: show a progress bar when stderr is a terminal.
    """


    def __init__(self, lookback: int = 10, horizon: int = 1, *, cell: str = "lstm",
                 hidden_size: int = 64, num_layers: int = 1, dropout: float = 0.0,
                 activation: str = "tanh", residual: bool = True, bidirectional: bool = False,
                 input_dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 strategy: str = "direct", attention: str | None = None,
                 teacher_forcing: float = 0.5, scaler: str = "standard",
                 stride: int = 1, epochs: int = 200, batch_size: int = 32, lr: float = 1e-3,
                 loss: str = "mse", clip_norm: float | None = None, patience: int | None = None,
                 seeds: int = 1, seed: int = 0, threads: int = 0, workers: int = 0,
                 kernel: str = "auto", progress: bool = True):
        super().__init__(lookback, horizon, scaler=scaler, stride=stride)
        self.cell, self.hidden_size, self.num_layers = cell, hidden_size, num_layers
        self.dropout, self.activation, self.residual = dropout, activation, residual
        self.bidirectional, self.input_dropout = bidirectional, input_dropout
        self.recurrent_dropout, self.strategy = recurrent_dropout, strategy
        self.attention, self.teacher_forcing = attention, teacher_forcing
        self.epochs, self.batch_size, self.lr, self.loss = epochs, batch_size, lr, loss
        self.clip_norm, self.patience, self.threads = clip_norm, patience, threads
        self.workers, self.kernel = workers, kernel
        self.seeds, self.seed, self.progress = seeds, seed, progress
        self._validate()

    @property
    def label(self) -> str:  # type: ignore[override]
        name = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN", "mlp": "MLP",
                "lnlstm": "LN-LSTM"}.get(self.cell, self.cell)
        if self.bidirectional:
            name = "Bi" + name
        if self.num_layers > 1:
            name = f"{self.num_layers}-layer {name}"
        if self.strategy != "direct":
            name += f" {self.strategy}" + (f"+{self.attention}" if self.attention else "")
        return name

    def _validate(self) -> None:
        name = type(self).__name__
        for key in ("lookback", "horizon", "hidden_size", "num_layers", "epochs", "batch_size",
                    "seeds"):
            _positive_int(name, key, getattr(self, key))
        if self.cell not in ("lstm", "gru", "rnn", "lnlstm", "mlp"):
            raise expected(name, "cell lstm, gru, rnn, lnlstm or mlp", repr(self.cell))
        if self.activation not in ("tanh", "relu"):
            raise expected(name, "activation tanh or relu", repr(self.activation))
        for key in ("dropout", "input_dropout", "recurrent_dropout", "teacher_forcing"):
            v = getattr(self, key)
            if not (isinstance(v, (int, float)) and 0.0 <= float(v) <= (1.0 if key ==
                    "teacher_forcing" else 0.999)):
                raise expected(name, f"{key} in [0, 1)", repr(v))
        if self.strategy not in ("direct", "recursive", "seq2seq"):
            raise expected(name, "strategy direct, recursive or seq2seq", repr(self.strategy))
        if self.attention not in (None, "dot", "additive"):
            raise expected(name, "attention dot or additive", repr(self.attention))
        if self.attention and self.strategy != "seq2seq":
            raise expected(name, "strategy seq2seq with attention (attention reads the "
                           "encoder outputs from a decoder)", f"strategy {self.strategy}")
        if self.cell == "lnlstm" and self.activation != "tanh":
            raise expected(name, "activation tanh for lnlstm", repr(self.activation))
        if self.cell == "mlp" and (self.bidirectional or self.strategy == "seq2seq"
                                   or self.recurrent_dropout or self.num_layers > 1):
            raise expected(name, "a recurrent cell for bidirectional, seq2seq, recurrent "
                           "dropout or layers > 1 (the MLP has no time axis)", "cell mlp")
        self.train_config().validate()

    def network_config(self, n_features: int, n_targets: int) -> NetworkConfig:
        return NetworkConfig(
            kind="mlp" if self.cell == "mlp" else "recurrent",
            cell="lstm" if self.cell == "mlp" else self.cell,
            input_size=n_features, n_targets=n_targets, lookback=self.lookback,
            horizon=1 if self.strategy == "recursive" else self.horizon,
            hidden_size=self.hidden_size, num_layers=self.num_layers,
            dropout=float(self.dropout), activation=self.activation, residual=self.residual,
            bidirectional=self.bidirectional, input_dropout=float(self.input_dropout),
            recurrent_dropout=float(self.recurrent_dropout), strategy=self.strategy,
            attention=self.attention, teacher_forcing=float(self.teacher_forcing),
        )

    def train_config(self) -> TrainConfig:
        return TrainConfig(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                           loss=self.loss, clip_norm=self.clip_norm, patience=self.patience,
                           threads=self.threads, workers=self.workers, kernel=self.kernel,
                           progress=self.progress)

    @property
    def seed_list(self) -> list[int]:
        return [int(self.seed) + i for i in range(int(self.seeds))]

    def _tensors(self, w) -> tuple[torch.Tensor, ...]:
        """Training tuple: inputs (X, last observed targets[, Y for teacher forcing]) and
        the target Y (only its first step for the recursive strategy)."""
        f32 = lambda a: torch.as_tensor(a, dtype=torch.float32)
        x, last, y = f32(w.X), f32(w.H[:, -1, :]), f32(w.Y)
        if self.strategy == "recursive":
            return x, last, y[:, :1]
        if self.strategy == "seq2seq":
            return x, last, y, y
        return x, last, y

    def _check_strategy(self, features: list[str], targets: list[str]) -> None:
        if self.strategy == "recursive" and not set(features) <= set(targets):
            unknown = ", ".join(f for f in features if f not in targets)
            raise expected(type(self).__name__, "every feature among the targets for strategy "
                           f"recursive (its predictions are fed back; future {unknown} unknown)",
                           f"features {', '.join(features)}, targets {', '.join(targets)}")

    def _fit_prepared(self, p) -> None:
        self._check_strategy(p.features, p.targets)
        self.network_config_ = self.network_config(len(p.features), len(p.targets))
        tr = self._tensors(p.train)
        va = self._tensors(p.val) if p.val is not None else None
        cfg = self.train_config()
        build = lambda: build_network(self.network_config_)
        if cfg.kernel == "auto" and fused_step.supports_config(self.network_config_, cfg.loss):
            fused_step.load()  # build / load the C++ step here, once, before any fork
        fit_seeds(self, build, lambda net, s, c, on_epoch: train(
            net, tr, va, c, seed=s, desc=f"{self.label} seed {s}", on_epoch=on_epoch),
            cfg, auto_threads)

    @torch.no_grad()
    def _predict_scaled(self, X, H, horizon: int | None = None) -> np.ndarray:
        K = self.horizon if horizon is None else _positive_int("Predict", "horizon", horizon)
        if K != self.horizon and self.strategy == "direct":
            raise expected("Predict", f"horizon {self.horizon} for strategy direct (it predicts "
                           "exactly the training horizon; use recursive or seq2seq)", K)
        x = torch.as_tensor(X, dtype=torch.float32)
        last = torch.as_tensor(H[:, -1, :], dtype=torch.float32)
        out = []
        for net in self.networks_:
            net.eval()
            if self.strategy == "recursive":
                out.append(self._recursive(net, x, last, K))
            else:
                out.append(net(x, last, horizon=K).double().numpy())
        return np.stack(out)  # (S, M, K, D)

    def _recursive(self, net, x, last, K: int) -> np.ndarray:
        """Feed the one-step model its own predictions K times (scaled units)."""
        feat_of = [self.targets_.index(f) for f in self.features_]  # feature j <- target
        steps = []
        for _ in range(K):
            y = net(x, last)[:, 0]  # (M, D) scaled targets
            steps.append(y)
            raw = self.y_scaler_.inverse_transform(y.double().numpy())  # (M, D)
            new = self.x_scaler_.transform(raw[:, feat_of])  # (M, F) scaled features
            x = torch.cat([x[:, 1:], torch.as_tensor(new, dtype=x.dtype)[:, None]], dim=1)
            last = y
        return torch.stack(steps, 1).double().numpy()  # (M, K, D)

    # ------------------------------------------------------------------ persistence
    def _state_tensors(self) -> dict:
        from lstmkit.core.persistence import seed_tensors

        return seed_tensors(self.seed_list, self.networks_)

    def _extra_config(self) -> dict:
        return {"network": self.network_config_.to_dict(), "train": self.train_config().to_dict(),
                "seeds": self.seed_list, "train_seconds": self.train_seconds_,
                "fit_seconds": getattr(self, "fit_seconds_", None),
                "workers": getattr(self, "workers_", 1),
                "best_epochs": self.best_epochs_}

    def _load_state(self, config: dict, tensors: dict) -> None:
        from lstmkit.core.persistence import load_seed_networks

        self.network_config_ = NetworkConfig(**config["network"])
        self.networks_ = load_seed_networks(lambda: build_network(self.network_config_),
                                            config["seeds"], tensors)
        self.train_seconds_ = config.get("train_seconds", [])
        self.best_epochs_ = config.get("best_epochs", [])
        self.histories_ = []


class LSTMForecaster(NeuralForecaster):
    """:class:`NeuralForecaster` with ``cell="lstm"`` (the default)."""


class GRUForecaster(NeuralForecaster):
    def __init__(self, lookback: int = 10, horizon: int = 1, **kw):
        kw.setdefault("cell", "gru")
        super().__init__(lookback, horizon, **kw)


class RNNForecaster(NeuralForecaster):
    def __init__(self, lookback: int = 10, horizon: int = 1, **kw):
        kw.setdefault("cell", "rnn")
        super().__init__(lookback, horizon, **kw)


class MLPForecaster(NeuralForecaster):
    """The course's MLP baseline: flattened window -> hidden (ReLU) -> outputs."""

    def __init__(self, lookback: int = 10, horizon: int = 1, **kw):
        kw.setdefault("cell", "mlp")
        super().__init__(lookback, horizon, **kw)


class BaselineForecaster(Forecaster):
    """A baseline (``naive``, ``seasonal``, ``mean``, ``linear``) with the forecaster API."""

    def __init__(self, lookback: int = 10, horizon: int = 1, *, kind: str = "naive",
                 period: int | None = None, scaler: str = "standard", stride: int = 1):
        super().__init__(lookback, horizon, scaler=scaler, stride=stride)
        self.kind, self.period = kind, period
        self._estimator()  # validates kind / period

    @property
    def label(self) -> str:  # type: ignore[override]
        return {"naive": "naive", "seasonal": f"seasonal({self.period})", "mean": "mean",
                "linear": "linear AR"}.get(self.kind, self.kind)

    def _estimator(self):
        kw = {"period": self.period} if self.kind == "seasonal" else {}
        return make_baseline(self.kind, **kw)

    def _fit_prepared(self, p) -> None:
        self.estimator_ = self._estimator().fit(p.train.H, p.train.Y)

    def _predict_scaled(self, X, H, horizon: int | None = None) -> np.ndarray:
        if horizon is not None and horizon != self.horizon and self.kind == "linear":
            raise expected("Predict", f"horizon {self.horizon} for the linear AR baseline "
                           "(fitted per horizon step)", horizon)
        return self.estimator_.predict(H, horizon=horizon)[None]

    def _state_tensors(self) -> dict:
        est = self.estimator_
        if self.kind != "linear":
            return {}
        return {"coef": torch.as_tensor(est.coef_), "intercept": torch.as_tensor(est.intercept_)}

    def _load_state(self, config: dict, tensors: dict) -> None:
        est = self._estimator()
        n_targets = len(self.targets_)
        est.horizon, est.n_targets, est.lookback = self.horizon, n_targets, self.lookback
        if self.kind == "linear":
            est.coef_ = tensors["coef"].numpy()
            est.intercept_ = tensors["intercept"].numpy()
        self.estimator_ = est
