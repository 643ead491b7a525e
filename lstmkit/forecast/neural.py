"""Neural forecasters (LSTM, GRU, simple RNN, MLP) and baselines behind one API.

A neural forecaster trains ``seeds`` independent networks (seeds ``seed``,
``seed+1``, ...). ``evaluate`` reports each one and their spread; ``predict``
returns the mean of their forecasts.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from lstmkit.core.checkpoint import seed_checkpoints
from lstmkit.core.device import on_device, resolve_device
from lstmkit.core.errors import expected
from lstmkit.core.parallel import fit_seeds
from lstmkit.core.training import auto_threads
from lstmkit.core.validate import positive_int
from lstmkit.forecast import fused_step
from lstmkit.forecast.baselines import make_baseline
from lstmkit.forecast.config import (
    BASELINE_FORECASTER,
    NEURAL_FORECASTER,
    NetworkConfig,
    TrainConfig,
)
from lstmkit.forecast.forecaster import Forecaster
from lstmkit.forecast.networks import build_network, fit_linear_skip
from lstmkit.forecast.training import train


class NeuralForecaster(Forecaster):
    """Recurrent encoder (or MLP) + linear head, direct multi-step, trained with Adam.

    Its parameters are the fields of :class:`~lstmkit.forecast.config.WindowConfig`
    (lookback, horizon, stride, scaler), :class:`~lstmkit.forecast.config.NetworkConfig`
    (cell, hidden_size, num_layers, ...), :class:`~lstmkit.forecast.config.TrainConfig`
    (epochs, batch_size, lr, loss, clip_norm, patience),
    :class:`~lstmkit.core.config.EnsembleConfig` (seeds, seed) and the execution settings of
    :class:`~lstmkit.forecast.config.ForecastExecution` (threads, workers, kernel, progress;
    never saved): ``help(NeuralForecaster)`` lists them with their defaults, and each
    field's comment says what it does. It trains ``seeds`` networks (seeds ``seed, seed+1,
    ...``); ``predict`` returns the mean of their forecasts. ``kernel="auto"`` trains a
    plain LSTM (one layer, tanh, no dropout) with the fused C++ step of
    :mod:`lstmkit.forecast.fused_step` where it builds; ``torch`` always uses autograd and
    ``torch.optim.Adam``; both compute the same updates (to float rounding).
    """

    spec = NEURAL_FORECASTER
    fitted_attr = "networks_"  # set only when every seed trained

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

    def network_config(self, n_features: int, n_targets: int) -> NetworkConfig:
        """The network's config for ``n_features`` inputs and ``n_targets`` targets."""
        net = self.config("network")
        mlp = net.cell == "mlp"
        return replace(net, kind="mlp" if mlp else "recurrent", cell="lstm" if mlp else net.cell,
                       linear_skip=net.linear_skip and net.strategy != "seq2seq",
                       input_size=n_features, n_targets=n_targets, lookback=self.lookback,
                       horizon=1 if net.strategy == "recursive" else self.horizon)

    def train_config(self) -> TrainConfig:
        return self.config("train")

    def _check_memory(self, c: NetworkConfig) -> int:
        """Refuse, before building it, a network too large to train here; returns its
        (estimated) number of weights, per seed."""
        from lstmkit.core.resources import check_memory, recurrent_params

        if c.kind == "mlp":
            n = c.lookback * c.input_size * c.hidden_size + c.hidden_size * c.horizon * \
                c.n_targets
        else:
            n = recurrent_params(c.cell, c.input_size, c.hidden_size, c.num_layers,
                                 c.bidirectional)
            n += (2 if c.bidirectional else 1) * c.hidden_size * c.horizon * c.n_targets
            if c.strategy == "seq2seq":  # the decoder, about as large again
                n *= 2
        check_memory(type(self).__name__, n * len(self.seed_list),
                     f"hidden_size {c.hidden_size}, num_layers {c.num_layers}, "
                     f"{len(self.seed_list)} seed(s)")
        return n

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
        n_params = self._check_memory(self.network_config_)
        tr = self._tensors(p.train)
        va = self._tensors(p.val) if p.val is not None else None
        cfg, run = self.train_config(), self.config("execution")
        skip = (fit_linear_skip(*tr[:3], self.network_config_.residual)
                if self.network_config_.linear_skip else None)
        build = lambda: with_skip(build_network(self.network_config_), skip)
        if run.kernel == "auto" and fused_step.supports_config(self.network_config_, cfg.loss):
            fused_step.load()  # build / load the C++ step here, once, before any fork
        ckpt = seed_checkpoints(getattr(self, "_checkpoint", None), self, *tr)
        done = fit_seeds(self.seed_list, build, lambda net, s, r, on_epoch: train(
            net, tr, va, cfg, seed=s, desc=f"{self.label} seed {s}", on_epoch=on_epoch,
            run=r, checkpoint=ckpt(s)), run, cfg.epochs,
            auto_threads(n_params, run.threads, cfg.batch_size), self.label,
            on_epoch=getattr(self, "_on_epoch", None))  # fit's hook
        self._store_seeds(done)

    @torch.no_grad()
    def _predict_scaled(self, X, H, horizon: int | None = None) -> np.ndarray:
        K = self.horizon if horizon is None else positive_int("Predict", "horizon", horizon)
        if K != self.horizon and self.strategy == "direct":
            raise expected("Predict", f"horizon {self.horizon} for strategy direct (it predicts "
                           "exactly the training horizon; use recursive or seq2seq)", K)
        device = resolve_device(self.device)
        x = torch.as_tensor(X, dtype=torch.float32, device=device)
        last = torch.as_tensor(H[:, -1, :], dtype=torch.float32, device=device)
        out = []
        for net in self.networks_:
            with on_device(net.eval(), device):
                if self.strategy == "recursive":
                    out.append(self._recursive(net, x, last, K))
                else:
                    out.append(net(x, last, horizon=K).double().cpu().numpy())
        return np.stack(out)  # (S, M, K, D)

    def check_streamable(self, component: str = "Stream") -> None:
        c = self.network_config_
        why = ("the MLP reads a fixed window (it has no state)" if c.kind == "mlp" else
               "a bidirectional encoder reads the window backwards too" if c.bidirectional else
               f"strategy {c.strategy} feeds back or decodes over the horizon"
               if c.strategy != "direct" else None)
        if why:
            raise expected(component, "a unidirectional recurrent forecaster with strategy "
                           f"direct ({why})", self.label)

    @torch.no_grad()
    def _predict_history(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """(S, 1, K, D) scaled forecasts after a state warmed up over every row ``xs``
        (N, F); the skip reads the last ``lookback`` rows, the residual the last ``ys``."""
        x = torch.as_tensor(xs[None], dtype=torch.float32)  # (1, N, F)
        last = torch.as_tensor(ys[None, -1], dtype=torch.float32)  # (1, D)
        out = []
        for net in self.networks_:
            h, _ = net.eval().encoder(x)  # (1, N, H)
            out.append(net.readout(h[:, -1], x[:, -self.lookback:], last).double().numpy())
        return np.stack(out)  # (S, 1, K, D)

    def _recursive(self, net, x, last, K: int) -> np.ndarray:
        """Feed the one-step model its own predictions K times (scaled units)."""
        feat_of = [self.targets_.index(f) for f in self.features_]  # feature j <- target
        steps = []
        for _ in range(K):
            y = net(x, last)[:, 0]  # (M, D) scaled targets
            steps.append(y)
            raw = self.y_scaler_.inverse_transform(y.double().cpu().numpy())  # (M, D)
            new = self.x_scaler_.transform(raw[:, feat_of])  # (M, F) scaled features
            new = torch.as_tensor(new, dtype=x.dtype, device=x.device)  # (M, F)
            x = torch.cat([x[:, 1:], new[:, None]], dim=1)  # (M, L, F)
            last = y
        return torch.stack(steps, 1).double().cpu().numpy()  # (M, K, D)

    # ------------------------------------------------------------------ persistence
    def _model_tensors(self) -> dict:
        from lstmkit.core.persistence import seed_tensors

        return seed_tensors(self.seed_list, self.networks_)

    def _extra_config(self) -> dict:
        return {"network": self.network_config_.to_dict(), "train": self.train_config().to_dict(),
                "seeds": self.seed_list, "train_seconds": self.train_seconds_,
                "fit_seconds": getattr(self, "fit_seconds_", None),
                "best_epochs": self.best_epochs_}

    def _load_state(self, config: dict, tensors: dict) -> None:
        from lstmkit.core.config import from_dict
        from lstmkit.core.persistence import load_seed_networks

        # models saved before the linear skip existed have none
        network = config["network"]
        if isinstance(network, dict):
            network = {"linear_skip": False, **network}
        self.network_config_ = from_dict(NetworkConfig, network)
        self.networks_ = load_seed_networks(lambda: build_network(self.network_config_),
                                            config["seeds"], tensors)
        self.train_seconds_ = config.get("train_seconds", [])
        self.best_epochs_ = config.get("best_epochs", [])
        self.histories_ = []


def with_skip(net, skip):
    """``net`` with its linear skip set to ``skip = (weight, bias)`` (None: left as it is)."""
    if skip is not None:
        net.skip.weight.copy_(skip[0])
        net.skip.bias.copy_(skip[1])
    return net


class LSTMForecaster(NeuralForecaster):
    """:class:`NeuralForecaster` with ``cell="lstm"`` (the default)."""


class GRUForecaster(NeuralForecaster):
    """:class:`NeuralForecaster` with ``cell="gru"``."""

    spec = NEURAL_FORECASTER.with_defaults(cell="gru")


class RNNForecaster(NeuralForecaster):
    """:class:`NeuralForecaster` with ``cell="rnn"`` (Elman)."""

    spec = NEURAL_FORECASTER.with_defaults(cell="rnn")


class MLPForecaster(NeuralForecaster):
    """The course's MLP baseline: flattened window -> hidden (ReLU) -> outputs."""

    spec = NEURAL_FORECASTER.with_defaults(cell="mlp")


class BaselineForecaster(Forecaster):
    """A baseline (``naive``, ``seasonal``, ``mean``, ``linear``) with the forecaster API."""

    spec = BASELINE_FORECASTER
    fitted_attr = "estimator_"

    def _check(self) -> None:
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

    def _model_tensors(self) -> dict:
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
