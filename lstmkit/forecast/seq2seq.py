"""Sequence-to-sequence forecaster network: encoder RNN, decoder RNN fed its own output.

::

    encoder:  (h_enc, state) = RNN_enc(x_1 … x_L)                  # (B, L, He)
    decoder:  s_0 = state,  y_0 = last observed targets
              s_k = RNN_dec(y_{k-1}, s_{k-1})                      # one step, (B, He)
              attention (optional) over h_enc with query s_k:
                 dot (Luong):        e_j = h_enc_j · s_k
                 additive (Bahdanau): e_j = vᵀ tanh(W_e h_enc_j + W_s s_k)
                 α = softmax(e),  ctx_k = Σ_j α_j h_enc_j
              ŷ_k = Linear([s_k ; ctx_k])  (+ y_{k-1} with residual=True)

During training, with probability ``teacher_forcing`` per step (and per batch),
the decoder is fed the true y_{k-1} instead of its own prediction. A
bidirectional encoder hands the decoder the concatenation of both directions'
final states, so the decoder's hidden size is 2H. Because the decoder runs step
by step, any horizon can be asked for at predict time.
"""

from __future__ import annotations

import torch
from torch import nn

from lstmkit.nn import Recurrent


class Attention(nn.Module):
    """Luong dot or Bahdanau additive attention of a query over encoder outputs."""

    def __init__(self, kind: str, size: int):
        super().__init__()
        self.kind = kind
        if kind == "additive":
            self.w_enc = nn.Linear(size, size, bias=False)
            self.w_query = nn.Linear(size, size)
            self.v = nn.Linear(size, 1, bias=False)

    def forward(self, enc: torch.Tensor, query: torch.Tensor, enc_proj=None) -> torch.Tensor:
        if self.kind == "dot":
            scores = torch.bmm(enc, query.unsqueeze(2)).squeeze(2)  # (B, L)
        else:
            proj = enc_proj if enc_proj is not None else self.w_enc(enc)  # (B, L, S)
            scores = self.v(torch.tanh(proj + self.w_query(query).unsqueeze(1))).squeeze(2)
        alpha = torch.softmax(scores, dim=1)  # (B, L)
        return torch.bmm(alpha.unsqueeze(1), enc).squeeze(1)  # (B, S)


def merge_directions(state, num_layers: int, bidirectional: bool):
    """(L·D, B, H) final states -> (L, B, D·H), directions side by side."""
    def merge(s):
        if not bidirectional:
            return s
        L2, B, H = s.shape
        return s.view(num_layers, 2, B, H).permute(0, 2, 1, 3).reshape(num_layers, B, 2 * H)
    return tuple(merge(s) for s in state) if isinstance(state, tuple) else merge(state)


class Seq2SeqRegressor(nn.Module):
    """Encoder-decoder over a window; ``forward(x, last, y=None, horizon=None)`` -> (B, K, D)."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        dirs = 2 if cfg.bidirectional else 1
        common = dict(num_layers=cfg.num_layers, dropout=cfg.dropout, activation=cfg.activation)
        self.encoder = Recurrent(cfg.cell, cfg.input_size, cfg.hidden_size,
                                 bidirectional=cfg.bidirectional,
                                 input_dropout=cfg.input_dropout,
                                 recurrent_dropout=cfg.recurrent_dropout, **common)
        size = dirs * cfg.hidden_size
        self.decoder = Recurrent(cfg.cell, cfg.n_targets, size, **common)
        self.attention = Attention(cfg.attention, size) if cfg.attention else None
        self.head = nn.Linear(size * (2 if cfg.attention else 1), cfg.n_targets)

    def forward(self, x, last, y=None, horizon: int | None = None):
        cfg = self.cfg
        K = horizon or cfg.horizon
        enc, state = self.encoder(x)  # (B, L, D·H)
        state = merge_directions(state, cfg.num_layers, cfg.bidirectional)
        enc_proj = (self.attention.w_enc(enc)
                    if self.attention is not None and self.attention.kind == "additive" else None)
        prev, outs = last, []  # y_0 = last observed targets (B, D)
        force = self.training and y is not None and cfg.teacher_forcing > 0
        for k in range(K):
            out, state = self.decoder(prev.unsqueeze(1), state)  # (B, 1, D·H)
            s = out[:, 0]  # (B, D·H)
            if self.attention is not None:
                s = torch.cat([s, self.attention(enc, s, enc_proj)], dim=1)  # (B, 2·D·H)
            step = self.head(s)  # (B, D)
            if cfg.residual:
                step = step + prev
            outs.append(step)
            use_truth = force and float(torch.rand(())) < cfg.teacher_forcing
            prev = y[:, k] if use_truth else step
        return torch.stack(outs, dim=1)  # (B, K, D)
