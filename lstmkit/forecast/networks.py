"""The torch networks behind the forecasters: a recurrent encoder + linear head, and an MLP.

Both map a window to a direct multi-step forecast::

    x (B, L, F), last (B, D)  ->  y_hat (B, K, D)

``last`` is the last observed value of each target (in scaled units). With
``residual=True`` (lstmkit's default) the network predicts the *change* from it:
``y_hat = last + head(...)``. The network then starts out as the naive forecast
and learns what the naive forecast misses; on the gas furnace this halves the
test MSE of the same LSTM(64) (see ``benchmarks/gas_furnace_speed.py``).
With ``residual=False`` the network is exactly the course's ``LSTM -> Linear``.
"""

from __future__ import annotations

import torch
from torch import nn

from lstmkit.core.errors import expected
from lstmkit.forecast.config import NetworkConfig
from lstmkit.nn import Recurrent

__all__ = ["MLPRegressor", "NetworkConfig", "RecurrentRegressor", "build_network"]


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

    def forward(self, x: torch.Tensor, last: torch.Tensor, y=None, horizon=None) -> torch.Tensor:
        out, _ = self.encoder(x)  # (B, L, D·H)
        H = self.cfg.hidden_size
        if self.cfg.bidirectional:  # forward direction ends at L, backward at 1
            final = torch.cat([out[:, -1, :H], out[:, 0, H:]], dim=1)  # (B, 2H)
        else:
            final = out[:, -1]  # (B, H)
        y = self.head(final)  # (B, K·D)
        y = y.view(x.shape[0], self.cfg.horizon, self.cfg.n_targets)  # (B, K, D)
        return y + last.unsqueeze(1) if self.cfg.residual else y


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

    def forward(self, x: torch.Tensor, last: torch.Tensor, y=None, horizon=None) -> torch.Tensor:
        y = self.net(x).view(x.shape[0], self.cfg.horizon, self.cfg.n_targets)  # (B, K, D)
        return y + last.unsqueeze(1) if self.cfg.residual else y


def build_network(cfg: NetworkConfig) -> nn.Module:
    if cfg.kind == "mlp":
        return MLPRegressor(cfg)
    if cfg.kind == "recurrent" and cfg.strategy == "seq2seq":
        from lstmkit.forecast.seq2seq import Seq2SeqRegressor

        return Seq2SeqRegressor(cfg)
    if cfg.kind == "recurrent":
        return RecurrentRegressor(cfg)
    raise expected("Model", "kind recurrent or mlp", repr(cfg.kind))
