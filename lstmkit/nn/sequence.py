"""The torch network behind the sequence and text classifiers.

``SequenceNet``: optional token embedding -> :class:`lstmkit.nn.Recurrent` encoder (any cell,
stacked, optionally bidirectional) -> pooling over the valid steps -> dropout -> ``Linear``
to class logits::

    x (B, T, C) float  or  (B, T) token ids,  lengths (B,)  ->  logits (B, K)

Padding never changes the result. On the fast path (``torch.nn.LSTM/GRU/RNN``) a batch whose
sequences are not all of length T is run as a ``PackedSequence``, so the recurrence stops at
each sequence's end and the backward direction starts there. When only the transcribed cells
can run (e.g. ``activation="relu"``), a unidirectional encoder runs on the padded batch (steps
after the end cannot reach earlier outputs) and a bidirectional one runs once per distinct
length on the trimmed sequences. Pooling then reads only the valid steps:

* ``last``: :math:`h_{len-1}` of the forward direction (and :math:`h_0` of the backward one),
* ``mean`` / ``max``: over steps ``0..len-1``; ``mean+max``: both, concatenated.

Input standardisation (per channel, fitted on the training steps) lives in the buffers
``x_mean`` / ``x_std``, so a saved network takes raw inputs.

Two options for numeric sequences (the sequence classifier's defaults):

* ``recurrent_steps``: the recurrent encoder reads each sequence averaged down to at most
  this many steps (:func:`segment_means`: equal segments of its own valid length), so a
  1,460-step series costs 64 recurrent steps;
* ``conv_channels``: an LSTM-FCN-style branch (Karim et al. 2017; the FCN of Wang et al.
  2017) beside the encoder: three ``Conv1d`` (kernels 8, 5, 3; C, 2C, C channels, "same"
  padding) with batch norm and ReLU over the full-resolution sequence, averaged over the
  valid steps and concatenated with the pooled recurrent outputs. The steps after a
  sequence's end are zeroed before every convolution and batch norm's statistics are taken
  over the valid steps only (:class:`MaskedBatchNorm1d`), so padding changes nothing, in
  training or in eval mode.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstmkit.nn.config import SequenceNetConfig
from lstmkit.nn.layer import Recurrent


class SequenceNet(nn.Module):
    """Recurrent encoder + masked pooling + linear head; see the module docstring."""

    def __init__(self, cfg: SequenceNetConfig):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        D = 2 if cfg.bidirectional else 1
        if cfg.vocab_size:
            self.embed = nn.Embedding(cfg.vocab_size, cfg.embed_size, padding_idx=0)
            in_size = cfg.embed_size
        else:
            self.embed = None
            in_size = cfg.input_size
        kw = {"bidirectional": True} if cfg.bidirectional else {}
        self.encoder = Recurrent(cfg.cell, in_size, cfg.hidden_size, num_layers=cfg.num_layers,
                                 dropout=cfg.dropout, activation=cfg.activation, **kw)
        self.drop = nn.Dropout(cfg.dropout)
        width = D * cfg.hidden_size * (2 if cfg.pooling == "mean+max" else 1)
        self.conv = ConvBranch(in_size, cfg.conv_channels, cfg.conv_pooling == "mean+max") \
            if cfg.conv_channels else None
        width += cfg.conv_channels * (2 if cfg.conv_pooling == "mean+max" else 1)
        self.head = nn.Linear(width, cfg.n_classes)
        self.register_buffer("x_mean", torch.zeros(in_size))
        self.register_buffer("x_std", torch.ones(in_size))
        self.num_directions = D

    def set_standardization(self, mean: Tensor, std: Tensor) -> None:
        """Per-channel input statistics (numeric inputs only)."""
        self.x_mean.copy_(torch.as_tensor(mean, dtype=self.x_mean.dtype))
        self.x_std.copy_(torch.as_tensor(std, dtype=self.x_std.dtype).clamp_min(1e-8))

    def encoder_input(self, x) -> Tensor:
        """What the recurrent encoder reads for whole sequences ``x`` (B, T, C) (or (T, C);
        token ids: the embedding): standardised and, with ``recurrent_steps``, averaged into
        segments. :mod:`lstmkit.introspect` traces the encoder on it."""
        if self.embed is not None:
            x = torch.as_tensor(x)
            return self.embed(x if x.dim() == 2 else x.reshape(1, -1))  # (B, T, E)
        x = torch.as_tensor(x, dtype=self.x_mean.dtype)
        x = x if x.dim() == 3 else x.unsqueeze(0)  # (B, T, C)
        steps = self.cfg.recurrent_steps
        if steps and x.shape[1] > steps:
            full = torch.full((x.shape[0],), x.shape[1], dtype=torch.int64)
            x, _ = segment_means(x, full, steps)  # (B, S, C)
        return (x - self.x_mean) / self.x_std

    # ------------------------------------------------------------------ encoder
    def encode(self, x: Tensor, lengths: Tensor) -> Tensor:
        """Outputs of the last layer (B, T, D*H), zero after each sequence's end."""
        if self.embed is not None:
            x = self.drop(self.embed(x))  # (B, T, E)
        else:
            x = (x - self.x_mean) / self.x_std  # (B, T, C)
        B, T = x.shape[0], x.shape[1]
        full = bool((lengths == T).all())
        enc = self.encoder
        if not enc.uses_cells():
            if full:
                out, _ = enc(x)  # (B, T, D*H)
                return out
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True,
                                          enforce_sorted=False)
            out, _ = enc.rnn(packed)  # the torch.nn module of Recurrent: fast path
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
            return out  # (B, T, D*H), zeros after the end
        if self.num_directions == 1 or full:
            out, _ = enc(x)  # causal: padding cannot reach the valid steps
        else:
            out = x.new_zeros(B, T, self.num_directions * self.cfg.hidden_size)
            for n in torch.unique(lengths).tolist():
                idx = (lengths == n).nonzero().squeeze(1)
                o, _ = enc(x[idx, :n])  # (b, n, D*H), the exact sequences
                out[idx, :n] = o
        return out * _mask(lengths, T).unsqueeze(2).to(out.dtype)

    def pool(self, out: Tensor, lengths: Tensor) -> Tensor:
        """(B, T, D*H) -> (B, P) over the valid steps (P = D*H, or 2*D*H for mean+max)."""
        B, T, DH = out.shape
        H = self.cfg.hidden_size
        mask = _mask(lengths, T).unsqueeze(2)  # (B, T, 1)
        parts = []
        if self.cfg.pooling == "last":
            idx = (lengths - 1).view(B, 1, 1).expand(B, 1, DH)
            last = out.gather(1, idx).squeeze(1)  # (B, D*H): h at step len-1
            if self.num_directions == 2:  # backward direction: its final h is at step 0
                last = torch.cat([last[:, :H], out[:, 0, H:]], dim=1)
            return last
        if self.cfg.pooling in ("mean", "mean+max"):
            parts.append((out * mask).sum(1) / lengths.view(B, 1).to(out.dtype))  # (B, D*H)
        if self.cfg.pooling in ("max", "mean+max"):
            parts.append(out.masked_fill(~mask, float("-inf")).amax(1))  # (B, D*H)
        return torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        xr, lr = x, lengths
        if self.cfg.recurrent_steps and x.shape[1] > self.cfg.recurrent_steps:
            xr, lr = segment_means(x, lengths, self.cfg.recurrent_steps)  # (B, S, C)
        feats = self.pool(self.encode(xr, lr), lr)  # (B, P)
        if self.conv is not None:
            z = (x - self.x_mean) / self.x_std  # (B, T, C)
            feats = torch.cat([feats, self.conv(z, lengths)], dim=1)  # (B, P + C')
        return self.head(self.drop(feats))  # (B, K)


class ConvBranch(nn.Module):
    """Conv1d C, 2C, C (kernels 8, 5, 3) + batch norm + ReLU, then the mean over the valid
    steps (and, with ``with_max``, the max beside it): (B, T, C_in), lengths -> (B, C) or
    (B, 2C)."""

    def __init__(self, in_size: int, width: int, with_max: bool = False):
        super().__init__()
        self.with_max = with_max
        sizes = [(in_size, width, 8), (width, 2 * width, 5), (2 * width, width, 3)]
        self.convs = nn.ModuleList(nn.Conv1d(i, o, k) for i, o, k in sizes)
        self.norms = nn.ModuleList(MaskedBatchNorm1d(o) for _, o, _ in sizes)
        self.pads = [((k - 1) // 2, k // 2) for _, _, k in sizes]  # "same" output length

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        B, T, _ = x.shape
        mask = _mask(lengths, T).unsqueeze(1).to(x.dtype)  # (B, 1, T)
        h = x.transpose(1, 2)  # (B, C_in, T)
        for conv, norm, pad in zip(self.convs, self.norms, self.pads, strict=True):
            h = torch.relu(norm(conv(nn.functional.pad(h * mask, pad)), mask))  # (B, C_k, T)
        mean = (h * mask).sum(2) / lengths.view(B, 1).to(x.dtype)  # (B, C)
        if not self.with_max:
            return mean
        peak = h.masked_fill(mask == 0, float("-inf")).amax(2)  # (B, C): valid steps only
        return torch.cat([mean, peak], dim=1)  # (B, 2C)


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """Batch norm over (B, C, T) whose training statistics are taken over the valid steps
    only (``mask`` (B, 1, T), 1 at valid steps): ``nn.BatchNorm1d`` itself, run on the valid
    steps laid end to end, so padded steps never move the mean, the variance or the running
    statistics (their outputs are 0). Eval mode, or no padding: ``nn.BatchNorm1d``."""

    def forward(self, h: Tensor, mask: Tensor) -> Tensor:  # type: ignore[override]
        if not self.training or bool(mask.all()):
            return super().forward(h)
        valid = mask[:, 0].bool()  # (B, T)
        steps = h.transpose(1, 2)  # (B, T, C)
        out = steps.new_zeros(steps.shape)  # (B, T, C)
        out[valid] = super().forward(steps[valid])  # (N_valid, C): torch's batch norm
        return out.transpose(1, 2)  # (B, C, T)


def segment_means(x: Tensor, lengths: Tensor, steps: int) -> tuple[Tensor, Tensor]:
    """Each sequence's valid steps averaged in ``min(length, steps)`` near-equal segments:
    (B, T, C), (B,) -> (B, S, C), new lengths (B,), with S = min(T, steps). Exact: the padding
    is never read (cumulative sums over the valid steps)."""
    B, T, C = x.shape
    S = min(T, steps)
    n = lengths.to(torch.int64).clamp(max=T)  # (B,)
    new = n.clamp(max=S)  # (B,) segments per sequence
    cs = torch.cat([x.new_zeros(B, 1, C), x.cumsum(1)], dim=1)  # (B, T+1, C)
    k = torch.arange(S + 1, device=x.device).unsqueeze(0)  # (1, S+1)
    edges = (k.clamp(max=new.unsqueeze(1)) * n.unsqueeze(1)) // new.unsqueeze(1)  # (B, S+1)
    ends = cs.gather(1, edges.unsqueeze(2).expand(B, S + 1, C))  # (B, S+1, C)
    width = (edges[:, 1:] - edges[:, :-1]).clamp(min=1).unsqueeze(2).to(x.dtype)  # (B, S, 1)
    out = (ends[:, 1:] - ends[:, :-1]) / width  # (B, S, C)
    return out * _mask(new, S).unsqueeze(2).to(x.dtype), new


def _mask(lengths: Tensor, T: int) -> Tensor:
    """(B, T) boolean: True at valid steps."""
    return torch.arange(T, device=lengths.device).unsqueeze(0) < lengths.unsqueeze(1)



