"""Neural forecasters (LSTM, GRU, simple RNN, MLP) and baselines behind one API.

A neural forecaster trains ``seeds`` independent networks (seeds ``seed``,
``seed+1``, ...). ``evaluate`` reports each one and their spread; ``predict``
returns the mean of their forecasts.
"""

from __future__ import annotations

import numpy as np
import torch

from lstmkit.errors import expected
from lstmkit.models.baselines import make_baseline
from lstmkit.models.forecaster import Forecaster
from lstmkit.models.networks import NetworkConfig, build_network
from lstmkit.training import TrainConfig, train


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
        scaler: ``standard`` | ``minmax`` | ``log`` | ``none`` (fitted on train rows only).
        epochs, batch_size, lr, loss, clip_norm, patience: see :class:`TrainConfig`.
        seeds, seed: train ``seeds`` models with seeds ``seed, seed+1, ...``.
        progress: show a progress bar when stderr is a terminal.
    """


    def __init__(self, lookback: int = 10, horizon: int = 1, *, cell: str = "lstm",
                 hidden_size: int = 64, num_layers: int = 1, dropout: float = 0.0,
                 activation: str = "tanh", residual: bool = True, scaler: str = "standard",
                 stride: int = 1, epochs: int = 200, batch_size: int = 32, lr: float = 1e-3,
                 loss: str = "mse", clip_norm: float | None = None, patience: int | None = None,
                 seeds: int = 1, seed: int = 0, threads: int = 0, progress: bool = True):
        super().__init__(lookback, horizon, scaler=scaler, stride=stride)
        self.cell, self.hidden_size, self.num_layers = cell, hidden_size, num_layers
        self.dropout, self.activation, self.residual = dropout, activation, residual
        self.epochs, self.batch_size, self.lr, self.loss = epochs, batch_size, lr, loss
        self.clip_norm, self.patience, self.threads = clip_norm, patience, threads
        self.seeds, self.seed, self.progress = seeds, seed, progress
        self._validate()

    @property
    def label(self) -> str:  # type: ignore[override]
        return {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN", "mlp": "MLP"}.get(self.cell, self.cell)

    def _validate(self) -> None:
        name = type(self).__name__
        for key in ("lookback", "horizon", "hidden_size", "num_layers", "epochs", "batch_size",
                    "seeds"):
            _positive_int(name, key, getattr(self, key))
        if self.cell not in ("lstm", "gru", "rnn", "mlp"):
            raise expected(name, "cell lstm, gru, rnn or mlp", repr(self.cell))
        if self.activation not in ("tanh", "relu"):
            raise expected(name, "activation tanh or relu", repr(self.activation))
        if not 0.0 <= float(self.dropout) < 1.0:
            raise expected(name, "dropout in [0, 1)", self.dropout)
        self.train_config().validate()

    def network_config(self, n_features: int, n_targets: int) -> NetworkConfig:
        return NetworkConfig(
            kind="mlp" if self.cell == "mlp" else "recurrent",
            cell="lstm" if self.cell == "mlp" else self.cell,
            input_size=n_features, n_targets=n_targets, lookback=self.lookback,
            horizon=self.horizon, hidden_size=self.hidden_size, num_layers=self.num_layers,
            dropout=float(self.dropout), activation=self.activation, residual=self.residual,
        )

    def train_config(self) -> TrainConfig:
        return TrainConfig(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                           loss=self.loss, clip_norm=self.clip_norm, patience=self.patience,
                           threads=self.threads, progress=self.progress)

    @property
    def seed_list(self) -> list[int]:
        return [int(self.seed) + i for i in range(int(self.seeds))]

    @staticmethod
    def _tensors(w) -> tuple[torch.Tensor, ...]:
        """(X, last, Y) float32 tensors: inputs, last observed target value, targets."""
        return (torch.as_tensor(w.X, dtype=torch.float32),
                torch.as_tensor(w.H[:, -1, :], dtype=torch.float32),
                torch.as_tensor(w.Y, dtype=torch.float32))

    def _fit_prepared(self, p) -> None:
        self.network_config_ = self.network_config(len(p.features), len(p.targets))
        tr = self._tensors(p.train)
        va = self._tensors(p.val) if p.val is not None else None
        cfg = self.train_config()
        self.networks_, self.histories_, self.train_seconds_, self.best_epochs_ = [], [], [], []
        for s in self.seed_list:
            torch.manual_seed(s)
            net = build_network(self.network_config_)
            result = train(net, tr, va, cfg, seed=s, desc=f"{self.label} seed {s}")
            self.networks_.append(net)
            self.histories_.append(result.history)
            self.train_seconds_.append(result.seconds)
            self.best_epochs_.append(result.best_epoch)

    @torch.no_grad()
    def _predict_scaled(self, X, H) -> np.ndarray:
        x = torch.as_tensor(X, dtype=torch.float32)
        last = torch.as_tensor(H[:, -1, :], dtype=torch.float32)
        return np.stack([net.eval()(x, last).double().numpy() for net in self.networks_])

    # ------------------------------------------------------------------ persistence
    def _state_tensors(self) -> dict:
        return {f"seed{s}.{k}": v for s, net in zip(self.seed_list, self.networks_)
                for k, v in net.state_dict().items()}

    def _extra_config(self) -> dict:
        return {"network": self.network_config_.to_dict(), "train": self.train_config().to_dict(),
                "seeds": self.seed_list, "train_seconds": self.train_seconds_,
                "best_epochs": self.best_epochs_}

    def _load_state(self, config: dict, tensors: dict) -> None:
        self.network_config_ = NetworkConfig(**config["network"])
        self.networks_ = []
        for s in config["seeds"]:
            net = build_network(self.network_config_)
            prefix = f"seed{s}."
            state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
            try:
                net.load_state_dict(state)
            except RuntimeError as err:
                first = str(err).splitlines()[0]
                raise expected("Model", "weights matching config.json", first) from None
            self.networks_.append(net.eval())
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

    def _predict_scaled(self, X, H) -> np.ndarray:
        return self.estimator_.predict(H)[None]

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
