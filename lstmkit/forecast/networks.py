"""The torch networks behind the forecasters: a recurrent encoder + linear head, and an MLP.

Both map a window to a direct multi-step forecast::

    x (B, L, F), last (B, D)  ->  y_hat (B, K, D)

``last`` is the last observed value of each target (in scaled units). With
``residual=True`` (lstmkit's default) the network predicts the *change* from it:
``y_hat = last + head(...)``. The network then starts out as the naive forecast
and learns what the naive forecast misses; on the gas furnace this halves the
test MSE of the same LSTM(64) (see ``benchmarks/gas_furnace_speed.py``).

With ``linear_skip=True`` (the default for the direct and recursive strategies) a fixed
linear autoregression of the window is added too, ``y_hat = last + skip(x) + head(...)``:
:func:`fit_linear_skip` fits it by ridge least squares on the training windows, and the head
starts at zero, so the network starts as linear AR and learns only what AR misses (LSTNet's
linear part; on the gas furnace, where the dynamics are close to linear, this is what lets
the LSTM beat AR instead of losing to it). With ``residual=False, linear_skip=False`` the network is
exactly the course's ``LSTM -> Linear``.
"""

from __future__ import annotations

import torch
from torch import nn

from lstmkit.core.errors import expected
from lstmkit.forecast.config import NetworkConfig
from lstmkit.nn import Recurrent

__all__ = ["LinearSkip", "MLPRegressor", "NetworkConfig", "RecurrentRegressor", "build_network",
           "fit_linear_skip"]


class LinearSkip(nn.Module):
    """A fixed linear map of the flattened window: ``x (B, L, F) -> (B, K, D)``.

    Its weights are buffers (saved with the model, never trained); zero until
    :func:`fit_linear_skip` sets them.
    """

    def __init__(self, cfg: NetworkConfig):
        super().__init__()
        self.shape = (cfg.horizon, cfg.n_targets)
        n_out, n_in = cfg.horizon * cfg.n_targets, cfg.lookback * cfg.input_size
        self.register_buffer("weight", torch.zeros(n_out, n_in))
        self.register_buffer("bias", torch.zeros(n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(x.shape[0], -1)  # (B, L·F)
        y = nn.functional.linear(flat, self.weight, self.bias)  # (B, K·D)
        return y.view(x.shape[0], *self.shape)  # (B, K, D)


# The skip's candidate ridge penalties, relative to the mean variance of its inputs: the one
# with the least leave-one-out error on the training windows is used (RidgeCV's choice:
# loo_ridge).
# Measured (benchmarks/gas_furnace_skip.py and the CLI's CO2-only default): the demo's
# protocol picks 1e-3, five steps ahead 1e-2, CO2 alone 1e-4; 1e-5 would have cost the demo
# 6% and 1e-3 cost CO2 alone 13% (README, "Why the skip is the default").
RIDGE_GRID = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
SKIP_INPUTS = 2048  # the skip reads at most this many window values (the latest steps)


def fit_linear_skip(x: torch.Tensor, last: torch.Tensor, y: torch.Tensor,
                    residual: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Ridge least squares ``(weight (K·D, L·F), bias (K·D,))`` of ``y - last`` (``y`` without
    ``residual``) on the flattened windows ``x`` (B, L, F), in float64.

    The penalty (one of :data:`RIDGE_GRID` times the inputs' mean variance, the one with the
    least leave-one-out error; the bias is not penalised) keeps the weights small where the
    windows are collinear, as smooth series make them: plain least squares then gives
    weights of 10⁶ that cancel, and float32 rounding of the inputs moves the forecast by
    percents. Long, wide windows: only the latest steps that fit in :data:`SKIP_INPUTS`
    values are used (the older steps' weights are zero), so the solve stays small."""
    import numpy as np

    B, L, F = x.shape
    steps = max(1, min(L, SKIP_INPUTS // F))  # the latest steps the skip reads
    flat = x[:, L - steps:].reshape(B, -1).double().numpy()  # (B, steps·F)
    target = y.double() - (last.double().unsqueeze(1) if residual else 0.0)  # (B, K, D)
    target = target.reshape(len(flat), -1).numpy()  # (B, K·D)
    mx, mt = flat.mean(0), target.mean(0)
    xc, tc = flat - mx, target - mt
    weight = loo_ridge(xc, tc)  # (steps·F, K·D)
    bias = mt - mx @ weight
    full = np.zeros((L * F, weight.shape[1]))
    full[(L - steps) * F:] = weight  # the flattened window is step-major: latest steps last
    return torch.as_tensor(full.T.copy()), torch.as_tensor(bias.copy())


def loo_ridge(xc, tc):
    """Ridge weights (p, T) of centred targets ``tc`` (B, T) on centred inputs ``xc`` (B, p)
    with the penalty of :data:`RIDGE_GRID` (times trace(XᵀX) / p) whose leave-one-out
    squared error is least: scikit-learn's ``RidgeCV(fit_intercept=False)`` choice (tested
    equal), from one eigendecomposition of XᵀX. Measured on 2 cores: 5.4 s for 20,000
    windows of 2,048 values (RidgeCV 16.7 s, one fixed penalty 1.1 s), 0.7 s for 50,000 of
    168 (RidgeCV 2.9 s, fixed 0.06 s): once per fit, before training.

    With XᵀX = V diag(e) Vᵀ and Z = X V, the fit of penalty λ is Z diag(1/(e+λ)) Zᵀ t, the
    leverage of window i is Σⱼ Z_ij² / (e_j+λ), and its leave-one-out residual is its residual
    divided by (1 - leverage)."""
    import numpy as np

    e, V = np.linalg.eigh(xc.T @ xc)  # (p,), (p, p)
    e = np.clip(e, 0.0, None)
    scale = max(float(e.sum()) / xc.shape[1], 1e-12)  # trace(XᵀX) / p
    Z = xc @ V  # (B, p)
    Zt = Z.T @ tc  # (p, T)
    Z2 = Z * Z  # (B, p)
    best = None
    for lam in scale * np.asarray(RIDGE_GRID):
        inv = 1.0 / (e + lam)  # (p,)
        resid = tc - Z @ (Zt * inv[:, None])  # (B, T)
        lev = Z2 @ inv  # (B,)
        loo = float(np.mean((resid / (1.0 - lev)[:, None]) ** 2))
        if best is None or loo < best[0]:
            best = (loo, inv)
    return V @ (Zt * best[1][:, None])  # (p, T)


def _add_skip(module: nn.Module, cfg: NetworkConfig) -> None:
    """Give ``module`` its fixed linear skip and start its head at zero (``linear_skip``)."""
    module.skip = LinearSkip(cfg) if cfg.linear_skip else None
    if cfg.linear_skip:
        head = module.head if hasattr(module, "head") else module.net[-1]
        nn.init.zeros_(head.weight)
        nn.init.zeros_(head.bias)


def _output(module: nn.Module, y: torch.Tensor, x: torch.Tensor, last: torch.Tensor):
    """``y`` (B, K, D) plus the last value (residual) and the linear skip, where configured."""
    if module.skip is not None:
        y = y + module.skip(x)  # (B, K, D)
    return y + last.unsqueeze(1) if module.cfg.residual else y


class RecurrentRegressor(nn.Module):
    """``lstmkit.nn.Recurrent`` encoder, last hidden state -> ``Linear(H, K·D)``.

    Bidirectional: the head reads both directions' final states, [h_fw(L) ; h_bw(1)].
    """

    def __init__(self, cfg: NetworkConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = Recurrent(
            cfg.cell,
            cfg.input_size,
            cfg.hidden_size,
            num_layers=cfg.num_layers,
            dropout=cfg.dropout,
            activation=cfg.activation,
            bidirectional=cfg.bidirectional,
            input_dropout=cfg.input_dropout,
            recurrent_dropout=cfg.recurrent_dropout,
        )
        size = cfg.hidden_size * (2 if cfg.bidirectional else 1)
        self.head = nn.Linear(size, cfg.horizon * cfg.n_targets)
        _add_skip(self, cfg)

    def forward(self, x: torch.Tensor, last: torch.Tensor, y=None, horizon=None) -> torch.Tensor:
        out, _ = self.encoder(x)  # (B, L, D·H)
        H = self.cfg.hidden_size
        if self.cfg.bidirectional:  # forward direction ends at L, backward at 1
            final = torch.cat([out[:, -1, :H], out[:, 0, H:]], dim=1)  # (B, 2H)
        else:
            final = out[:, -1]  # (B, H)
        return self.readout(final, x, last)

    def readout(self, final: torch.Tensor, x: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        """The forecast (B, K, D) from the encoder's final output ``final`` (B, D·H), the
        window ``x`` (B, L, F) the linear skip reads, and the last targets ``last`` (B, D).
        Streaming (:mod:`lstmkit.forecast.stream`) calls it with a carried state's ``h``."""
        y = self.head(final)  # (B, K·D)
        y = y.view(x.shape[0], self.cfg.horizon, self.cfg.n_targets)  # (B, K, D)
        return _output(self, y, x, last)


class MLPRegressor(nn.Module):
    """The course's MLP baseline: flattened window -> hidden (ReLU) -> ``K·D`` outputs."""

    def __init__(self, cfg: NetworkConfig):
        super().__init__()
        self.cfg = cfg
        self.net = nn.Sequential(
            nn.Flatten(),  # (B, L·F)
            nn.Linear(cfg.lookback * cfg.input_size, cfg.hidden_size),
            nn.ReLU(),
            nn.Linear(cfg.hidden_size, cfg.horizon * cfg.n_targets),
        )
        _add_skip(self, cfg)

    def forward(self, x: torch.Tensor, last: torch.Tensor, y=None, horizon=None) -> torch.Tensor:
        y = self.net(x).view(x.shape[0], self.cfg.horizon, self.cfg.n_targets)  # (B, K, D)
        return _output(self, y, x, last)


def build_network(cfg: NetworkConfig) -> nn.Module:
    if cfg.kind == "mlp":
        return MLPRegressor(cfg)
    if cfg.kind == "recurrent" and cfg.strategy == "seq2seq":
        from lstmkit.forecast.seq2seq import Seq2SeqRegressor

        return Seq2SeqRegressor(cfg)
    if cfg.kind == "recurrent":
        return RecurrentRegressor(cfg)
    raise expected("Model", "kind recurrent or mlp", repr(cfg.kind))
