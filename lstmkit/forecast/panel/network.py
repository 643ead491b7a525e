"""The global forecaster's network: one recurrent encoder shared by every series.

Per step ``t`` of a window the encoder reads ``[z_t, hist_t, futr_t, static, e_s]`` (the
normalised target, the past-only and future-known covariates, the series' static features and
its learned embedding); the head reads the last hidden state with the future-known covariates
of the ``K`` horizon steps and returns ``K`` normalised values. A linear skip from the
normalised input window to the outputs (as LSTNet's autoregressive part) is added, so a
linear forecaster is the network's starting point and what the encoder must improve on.

    z (B, L), hist (B, L, Fh), futr (B, L+K, Ff), static (B, Fs), series (B,) -> (B, K)
"""

from __future__ import annotations

import torch
from torch import nn

from lstmkit.forecast.panel.config import GlobalNetworkConfig
from lstmkit.nn import Recurrent


class GlobalNetwork(nn.Module):
    def __init__(self, cfg: GlobalNetworkConfig):
        super().__init__()
        self.cfg = cfg
        L, K = cfg.lookback, cfg.horizon
        step_in = 1 + cfg.n_hist + cfg.n_futr + cfg.n_static + cfg.embedding
        self.encoder = Recurrent(cfg.cell, step_in, cfg.hidden_size, num_layers=cfg.num_layers,
                                 dropout=cfg.dropout, activation=cfg.activation,
                                 bidirectional=cfg.bidirectional)
        width = cfg.hidden_size * (2 if cfg.bidirectional else 1)
        self.head = nn.Linear(width + K * cfg.n_futr, K * cfg.n_quantiles)
        self.skip = nn.Linear(L, K)
        nn.init.zeros_(self.skip.weight)  # starts as the last value (z = 0), learns the rest
        nn.init.zeros_(self.skip.bias)
        self.embed = nn.Embedding(max(cfg.n_series, 1), cfg.embedding) if cfg.embedding \
            else None

    def forward(self, z, hist, futr, static, series) -> torch.Tensor:
        B, L = z.shape
        K, H = self.cfg.horizon, self.cfg.hidden_size
        per_series = [static]
        if self.embed is not None:
            per_series.append(self.embed(series))  # (B, E)
        const = torch.cat(per_series, dim=1)  # (B, Fs+E)
        steps = torch.cat([z.unsqueeze(-1), hist, futr[:, :L],
                           const.unsqueeze(1).expand(B, L, const.shape[1])], dim=2)  # (B, L, in)
        out, _ = self.encoder(steps)  # (B, L, D·H)
        final = torch.cat([out[:, -1, :H], out[:, 0, H:]], 1) if self.cfg.bidirectional \
            else out[:, -1]  # (B, D·H)
        ahead = futr[:, L:].reshape(B, K * self.cfg.n_futr)  # (B, K·Ff)
        out = self.head(torch.cat([final, ahead], dim=1))  # (B, K·Q)
        Q = self.cfg.n_quantiles
        if Q == 1:
            return out + self.skip(z)  # (B, K)
        out = out.view(B, K, Q) + self.skip(z).unsqueeze(-1)  # (B, K, Q)
        return out.sort(dim=-1).values  # quantiles never cross (monotone rearrangement)
