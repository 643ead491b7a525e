r"""Layer-normalised LSTM (Ba, Kiros & Hinton 2016) in torch: the engine of
``Recurrent(cell="lnlstm")``.

.. math::
    \begin{array}{ll}
        z_t = \mathrm{LN}_{ih}(W_{ih} x_t) + \mathrm{LN}_{hh}(W_{hh} h_{t-1}) + b
              & \text{(4H, blocks } i|f|g|o) \\
        i_t = \sigma(z_i), \; f_t = \sigma(z_f), \; g_t = \tanh(z_g), \; o_t = \sigma(z_o) \\
        c_t = f_t \odot c_{t-1} + i_t \odot g_t \\
        h_t = o_t \odot \tanh(\mathrm{LN}_c(c_t)) \\
    \end{array}

with :math:`\mathrm{LN}(a) = \gamma \odot (a - \mu(a)) / \sqrt{\mathrm{var}(a) + \epsilon}
+ \beta` over the features of ``a`` (4H for the two gate LayerNorms, H for the cell), eps =
1e-5. The same equations as the NumPy reference :mod:`lstmkit.ref.lnlstm` (which documents
why there is a single gate bias ``b``); autograd differentiates them here.

Parameters of layer k (``_reverse`` appended for the backward direction of a bidirectional
stack), as attributes of :class:`LNLSTMStack` (``Recurrent.rnn``)::

    weight_ih_l{k}     (4H, F) for k = 0, (4H, D·H) above     W_ih (rows i|f|g|o)
    weight_hh_l{k}     (4H, H)                                W_hh
    bias_l{k}          (4H,)                                  b
    ln_ih_weight_l{k}, ln_ih_bias_l{k}   (4H,)                γ_ih (init 1), β_ih (init 0)
    ln_hh_weight_l{k}, ln_hh_bias_l{k}   (4H,)                γ_hh, β_hh
    ln_c_weight_l{k},  ln_c_bias_l{k}    (H,)                 γ_c, β_c

Speed. The input side LN_ih(W_ih x_t) + b of all steps is one matmul and one LayerNorm before
the time loop; the loop (:func:`lnlstm_loop`) does the rest, about 15 small ops per step, whose
dispatch and autograd overhead dominates at these sizes (``unbind``/``chunk`` rather than
indexing keep the backward O(T)). Training step (forward + backward + Adam, one layer,
float32) from ``benchmarks/lnlstm_speed.py`` on the project's 2-core CPU box (torch 2.13,
shared with other jobs: best of 20 interleaved steps; "warm-up" = the first 3 steps, scripting
or compiling included, with an empty compile cache)::

    threads  (B, T, F, H)        torch.nn.LSTM   LN eager        LN script       LN compile
    1        (32, 10, 2, 64)     1.72 ms         3.13 ms (1.82)  3.19 ms (1.86)  4.56 ms (2.66)
    1        (64, 100, 1, 128)   56.7 ms         77.8 ms (1.37)  74.9 ms (1.32)  83.4 ms (1.47)
    2        (32, 10, 2, 64)     1.83 ms         7.95 ms (4.35)  7.63 ms (4.18)  9.41 ms (5.15)
    2        (64, 100, 1, 128)   68.4 ms         205 ms  (3.00)  258 ms  (3.77)  262 ms  (3.83)
    warm-up, 1 thread, T = 10 / 100:   47 / 228 ms   11 / 326 ms     124 / 283 ms    16.4 / 6.0 s

(ratio to torch.nn.LSTM in brackets; with 2 threads on 2 busy cores the medians were 2-3x the
best and the ratios are not reliable.) Eager is kept: TorchScript ties with it (±5 %, either
way from run to run) and is deprecated in this torch; ``torch.compile`` of the step is slower
per step (one compiled graph per step still pays the autograd and guard overhead) and costs
6-16 s of compiling per new shape, which a small training run never earns back; compiling the
whole loop (T unrolled) took 43 s at T = 10 and 570 s at T = 100 for the first step (then
87 ms per step at T = 100: not worth ten minutes). A hand-written backward (a
``torch.autograd.Function`` porting :mod:`lstmkit.ref.lnlstm`'s) was also tried: no faster
than autograd, the per-op dispatch being the cost. :func:`set_impl` switches the
implementation (the benchmark uses it).
"""

from __future__ import annotations

import math
import warnings
from typing import List, Optional, Tuple  # noqa: UP035 - TorchScript needs typing's names

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.core.errors import expected

EPS = 1e-5
PARAM_NAMES = ("weight_ih", "weight_hh", "bias", "ln_ih_weight", "ln_ih_bias",
               "ln_hh_weight", "ln_hh_bias", "ln_c_weight", "ln_c_bias")
GATE_NAMES = ("i", "f", "g", "o", "c", "h")
IMPLS = ("eager", "script", "compile")


def input_side(x: Tensor, weight_ih: Tensor, bias: Tensor, ln_ih_weight: Tensor,
               ln_ih_bias: Tensor, eps: float = EPS) -> Tensor:
    """LN_ih(W_ih x_t) + b for all steps at once: (T, B, F) -> (T, B, 4H)."""
    pre = F.linear(x, weight_ih)  # (T, B, 4H)  W_ih x_t, no bias (LN would remove it)
    return F.layer_norm(pre, [pre.shape[-1]], ln_ih_weight, ln_ih_bias, eps) + bias


def lnlstm_step(gi_t: Tensor, h: Tensor, c: Tensor, w_hhT: Tensor, ln_hh_weight: Tensor,
                ln_hh_bias: Tensor, ln_c_weight: Tensor, ln_c_bias: Tensor,
                mask: Optional[Tensor], eps: float  # noqa: UP045
                ) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:  # noqa: UP006
    """One step from ``gi_t`` = LN_ih(W_ih x_t) + b (B, 4H), ``h``, ``c`` (B, H), ``w_hhT``
    = W_hh^T (H, 4H). Returns ``(h_t, c_t, i_t, f_t, g_t, o_t)``, each (B, H)."""
    H = h.shape[1]
    hm = h if mask is None else h * mask  # variational dropout: on W_hh's input only
    ph = torch.mm(hm, w_hhT)  # (B, 4H)  W_hh h_{t-1}
    z = gi_t + F.layer_norm(ph, [4 * H], ln_hh_weight, ln_hh_bias, eps)
    i, f, g, o = z.chunk(4, 1)  # each (B, H); chunk, not slices: one backward node
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c = f * c + i * g
    h = o * torch.tanh(F.layer_norm(c, [H], ln_c_weight, ln_c_bias, eps))
    return h, c, i, f, g, o


def lnlstm_loop(gi: Tensor, h: Tensor, c: Tensor, weight_hh: Tensor, ln_hh_weight: Tensor,
                ln_hh_bias: Tensor, ln_c_weight: Tensor, ln_c_bias: Tensor,
                mask: Optional[Tensor], reverse: bool, keep_gates: bool, eps: float  # noqa: UP045
                ) -> Tuple[Tensor, Tensor, Tensor, List[Tensor]]:  # noqa: UP006
    """The time loop: ``gi`` (T, B, 4H) from :func:`input_side`, ``h``, ``c`` (B, H).

    ``mask`` (B, H) or None: variational recurrent dropout, the same mask on h_{t-1} (the
    input of W_hh only) at every step. ``reverse`` runs t = T..1 (outputs still in time
    order). Returns ``(outputs (T, B, H), h_T, c_T, gates)``, ``gates`` (when ``keep_gates``)
    a list of T tensors (B, 5H) holding i|f|g|o|c, in time order.
    """
    T = gi.shape[0]
    # unbind, not gi[t]: its backward is one stack, where T selects would each fill a
    # zero (T, B, 4H) gradient (O(T^2) time).
    gis = gi.unbind(0)  # T x (B, 4H)
    w_hhT = weight_hh.t()  # (H, 4H)
    outs: List[Tensor] = []  # noqa: UP006
    gates: List[Tensor] = []  # noqa: UP006
    for s in range(T):
        t = T - 1 - s if reverse else s
        h, c, i, f, g, o = lnlstm_step(gis[t], h, c, w_hhT, ln_hh_weight, ln_hh_bias,
                                       ln_c_weight, ln_c_bias, mask, eps)
        outs.append(h)
        if keep_gates:
            gates.append(torch.cat([i, f, g, o, c], 1))  # (B, 5H)
    if reverse:
        outs.reverse()
        gates.reverse()
    return torch.stack(outs, 0), h, c, gates


# --- implementation switch ------------------------------------------------------------------
# torch.compile of lnlstm_loop itself unrolls the T steps into one graph (570 s to compile at
# T = 100, see the module docstring). So "compile" compiles the step and keeps the Python loop
# (_compiled_loop, which mirrors lnlstm_loop); "script" scripts the whole loop.
_COMPILED: dict = {}


def _compiled_loop(gi, h, c, weight_hh, ln_hh_weight, ln_hh_bias, ln_c_weight, ln_c_bias, mask,
                   reverse, keep_gates, eps):
    """:func:`lnlstm_loop` with ``torch.compile(lnlstm_step)`` as the step."""
    step, T, w_hhT = _COMPILED["step"], gi.shape[0], weight_hh.t()
    gis, outs, gates = gi.unbind(0), [], []  # T x (B, 4H)
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        h, c, i, f, g, o = step(gis[t], h, c, w_hhT, ln_hh_weight, ln_hh_bias, ln_c_weight,
                                ln_c_bias, mask, eps)
        outs.append(h)
        if keep_gates:
            gates.append(torch.cat([i, f, g, o, c], 1))  # (B, 5H)
    if reverse:
        outs.reverse()
        gates.reverse()
    return torch.stack(outs, 0), h, c, gates


_IMPL = {"name": "eager", "fn": lnlstm_loop}
_BUILT = {"eager": lnlstm_loop}  # script / compile are built on first use, then kept


def set_impl(name: str) -> None:
    """Run the loop as ``"eager"`` Python (the default), ``"script"`` (``torch.jit.script`` of
    :func:`lnlstm_loop`) or ``"compile"`` (``torch.compile(dynamic=False)`` of
    :func:`lnlstm_step`, compiled on first use and for every new B, H or dtype)."""
    if name not in IMPLS:
        raise expected("LNLSTM", 'impl "eager", "script" or "compile"', repr(name))
    if name not in _BUILT:
        if name == "script":
            with warnings.catch_warnings():  # torch.jit is deprecated in 2.13; it still works
                warnings.simplefilter("ignore")
                _BUILT[name] = torch.jit.script(lnlstm_loop)
        else:
            _COMPILED["step"] = torch.compile(lnlstm_step, dynamic=False)
            _BUILT[name] = _compiled_loop
    _IMPL.update(name=name, fn=_BUILT[name])


def get_impl() -> str:
    """The name of the loop implementation in use (see :func:`set_impl`)."""
    return _IMPL["name"]


# --- parameters -----------------------------------------------------------------------------


class LNLSTMStack(nn.Module):
    """The parameters of an L-layer (optionally bidirectional) LayerNorm LSTM, with torch-style
    names ``{name}_l{k}[_reverse]`` (see the module docstring), and :meth:`run` for one
    direction of one layer. Lives in ``Recurrent.rnn``; call the layer, not this."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bidirectional = bool(bidirectional)
        D, H, kw = 2 if bidirectional else 1, hidden_size, {"device": device, "dtype": dtype}
        for k in range(num_layers):
            F_k = input_size if k == 0 else D * H
            shapes = {"weight_ih": (4 * H, F_k), "weight_hh": (4 * H, H), "bias": (4 * H,),
                      "ln_ih_weight": (4 * H,), "ln_ih_bias": (4 * H,),
                      "ln_hh_weight": (4 * H,), "ln_hh_bias": (4 * H,),
                      "ln_c_weight": (H,), "ln_c_bias": (H,)}
            for sfx in ("", "_reverse")[:D]:
                for name in PARAM_NAMES:
                    p = nn.Parameter(torch.empty(shapes[name], **kw))
                    self.register_parameter(f"{name}_l{k}{sfx}", p)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """W_ih, W_hh, b ~ U(-1/sqrt(H), 1/sqrt(H)) (torch's LSTM init); LN gains 1, biases 0."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.startswith(("weight_", "bias_")):
                    p.uniform_(-bound, bound)
                elif "_weight_" in name:
                    p.fill_(1.0)
                else:
                    p.zero_()

    def params(self, k: int, reverse: bool = False) -> dict[str, Tensor]:
        """Live parameters of layer ``k`` (one direction), keyed as ``lstmkit.ref.lnlstm``."""
        sfx = "_reverse" if reverse else ""
        return {name: getattr(self, f"{name}_l{k}{sfx}") for name in PARAM_NAMES}

    def run(self, k: int, reverse: bool, x: Tensor, h: Tensor, c: Tensor,
            mask: Optional[Tensor] = None, keep_gates: bool = False):  # noqa: UP045
        """One direction of layer ``k`` over ``x`` (B, T, F_k) from ``(h, c)`` (B, H).

        Returns ``(outputs (T, B, H) time-major, h_T, c_T, gates)``, ``gates`` a dict of
        (B, T, H) tensors ``i f g o c h`` when ``keep_gates``, else None.
        """
        p = self.params(k, reverse)
        gi = input_side(x.transpose(0, 1), p["weight_ih"], p["bias"], p["ln_ih_weight"],
                        p["ln_ih_bias"])  # (T, B, 4H)
        out, h, c, g = _IMPL["fn"](gi, h, c, p["weight_hh"], p["ln_hh_weight"],
                                   p["ln_hh_bias"], p["ln_c_weight"], p["ln_c_bias"], mask,
                                   reverse, keep_gates, EPS)
        if not keep_gates:
            return out, h, c, None
        traces = torch.stack(g, dim=1).chunk(5, dim=-1)  # 5 x (B, T, H)
        gates = dict(zip(GATE_NAMES, (*traces, out.transpose(0, 1)), strict=True))
        return out, h, c, gates
