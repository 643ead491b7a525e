r"""The long-time-lag tasks of Hochreiter & Schmidhuber (1997): LSTM vs GRU vs simple RNN.

Targets of ``lstmkit reproduce``:

* ``adding``: the adding problem (paper, Experiment 4) at T = 100 for LSTM, GRU and RNN.
* ``temporal-order``: the temporal order task (Experiment 6a) at T = 100, same three cells.
* ``adding-sweep`` / ``temporal-order-sweep``: T in {100, 500, 1000} x {LSTM, GRU, RNN}, each
  run under a fixed time budget so that a sweep ends in under 20 minutes on 2 cores.

How a run works (:func:`train_task`). The paper trains online, one sequence at a time, which
is far too slow in Python; here every update uses a mini-batch of fresh sequences and the
run counts the *sequences seen*. Sequences have different lengths: a batch is padded at
the end and the network's output is read at each sequence's last real step
(:class:`SequenceModel`), which a causal network computes before it sees any padding. The
stopping criterion is the paper's: the average training error over the last 2000 training
sequences is below 0.01 and all of those 2000 were processed correctly (each sequence is
scored on the forward pass of its batch, before the update, as in online training). A run
that reaches its time budget first is reported as *not solved*, with its error where it
stopped. The solved (or stopped) network is then tested on 2560 fresh sequences.

Errors per sequence: adding, the squared error (correct if |error| < 0.04); temporal order,
the mean squared error of the 4 softmax outputs against the one-hot class (the paper's
squared error on locally coded outputs; correct if the arg-max is the class). Training
minimises MSE (adding) or cross-entropy (temporal order) with Adam and gradient clipping.

Initialisation (:func:`init_memory_biases`): the LSTM forget-gate bias starts at ln T, so
that a cell forgets over about T steps, and the input-gate bias at -3, so that the cells
are not flooded by distractors before they learn what to store (the paper also started its
input gates with negative biases, and its LSTM had no forget gate at all). The GRU gets the
same treatment on its update gate z (bias ln T: keep the state). The simple RNN has no gate
to bias, which is the point of the comparison.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lstmkit.core.errors import expected
from lstmkit.core.training import torch_threads
from lstmkit.experiments import Experiment
from lstmkit.experiments._longlag_tasks import ADDING_TOLERANCE, adding_problem, temporal_order
from lstmkit.nn import Recurrent

CELLS = ("lstm", "gru", "rnn")
LABELS = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}
WINDOW = 2000  # stopping criterion: the last 2000 training sequences ...
STOP_ERROR = 0.01  # ... have an average error below this and are all correct
N_TEST = 2560


@dataclass(frozen=True)
class Task:
    """A long-time-lag task: its generator, output size and scoring."""

    name: str
    generate: object  # generate(n, T, seed) -> LongLagBatch
    n_inputs: int
    n_outputs: int

    @property
    def classification(self) -> bool:
        return self.n_outputs > 1

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Training loss of a batch: MSE (adding) or cross-entropy (temporal order)."""
        if self.classification:
            return F.cross_entropy(out, y)
        return F.mse_loss(out.squeeze(-1), y)

    @torch.no_grad()
    def score(self, out: torch.Tensor, y: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Per-sequence ``(error (B,), correct (B,) bool)``."""
        if self.classification:
            p = out.softmax(-1)  # (B, 4)
            err = ((p - F.one_hot(y, self.n_outputs)) ** 2).mean(-1)
            return err.numpy(), (out.argmax(-1) == y).numpy()
        e = out.squeeze(-1) - y  # (B,)
        return (e**2).numpy(), (e.abs() < ADDING_TOLERANCE).numpy()


TASKS = {
    "adding": Task("adding", adding_problem, 2, 1),
    "temporal-order": Task("temporal-order", temporal_order, 8, 4),
}


class SequenceModel(nn.Module):
    """``Recurrent`` encoder whose output at each sequence's last real step feeds a linear head.

    ``forward(x (B, T, F), lengths (B,)) -> (B, n_outputs)``. ``encoder`` is a
    :class:`lstmkit.nn.Recurrent`, so :func:`lstmkit.introspect.trace` and
    :func:`~lstmkit.introspect.gradient_flow` work on it (``args=(lengths,)``).
    """

    def __init__(self, cell: str, n_inputs: int, hidden_size: int, n_outputs: int):
        super().__init__()
        self.encoder = Recurrent(cell, n_inputs, hidden_size)
        self.head = nn.Linear(hidden_size, n_outputs)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        out, _ = self.encoder(x)  # (B, T, H)
        last = out[torch.arange(x.shape[0]), lengths - 1]  # (B, H): last real step
        return self.head(last)  # (B, n_outputs)


@torch.no_grad()
def init_memory_biases(encoder: Recurrent, T: int, input_bias: float = -3.0) -> None:
    """LSTM: forget bias ln T, input bias ``input_bias``; GRU: update-gate bias ln T; RNN: none.

    The bias is put on ``bias_ih`` and the matching block of ``bias_hh`` is zeroed, so the
    gate's total bias is exactly the value given.
    """
    H, keep = encoder.hidden_size, math.log(T)
    for k in range(encoder.num_layers):
        _, _, b_ih, b_hh = encoder.weights(k)
        if encoder.cell in ("lstm", "gru"):  # blocks i|f|g|o and r|z|n: block 1 is f / z
            b_ih[H : 2 * H], b_hh[H : 2 * H] = keep, 0.0
        if encoder.cell == "lstm":
            b_ih[:H], b_hh[:H] = input_bias, 0.0


@dataclass
class Settings:
    """Hyper-parameters of one run (the same for every cell and T)."""

    hidden_size: int = 16
    lr: float = 3e-3
    batch_size: int = 32
    clip_norm: float = 1.0
    seed: int = 0


@dataclass
class RunResult:
    task: str
    cell: str
    T: int
    solved: bool  # stopping criterion met within the budget
    seen: int  # training sequences seen
    train_error: float  # average error over the last 2000 training sequences
    train_correct: float  # fraction correct among them
    test_wrong: int  # wrong predictions among n_test fresh sequences
    n_test: int
    seconds: float  # training wall time
    budget: float


def _tensors(batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return (torch.from_numpy(batch.x), torch.from_numpy(batch.lengths),
            torch.from_numpy(batch.y))


def train_task(task: str, cell: str, T: int, budget_s: float, settings: Settings | None = None,
               n_test: int = N_TEST) -> tuple[RunResult, SequenceModel]:
    """Train one ``cell`` on ``task`` with minimal length ``T`` until the stopping criterion
    or ``budget_s`` seconds of training, then test on ``n_test`` fresh sequences."""
    if task not in TASKS:
        raise expected("Long-lag task", "adding or temporal-order", repr(task))
    if cell not in CELLS:
        raise expected("Long-lag task", "cell lstm, gru or rnn", repr(cell))
    spec, s = TASKS[task], settings or Settings()
    torch.manual_seed(s.seed)
    model = SequenceModel(cell, spec.n_inputs, s.hidden_size, spec.n_outputs)
    init_memory_biases(model.encoder, T)
    opt = torch.optim.Adam(model.parameters(), lr=s.lr)
    rng = np.random.default_rng([s.seed, T, 1])  # training stream
    errors, correct = np.zeros(0), np.zeros(0, dtype=bool)  # the last WINDOW sequences
    seen, solved = 0, False
    with torch_threads(1):  # small models: one thread is fastest and leaves a core free
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < budget_s:
            x, lengths, y = _tensors(spec.generate(s.batch_size, T, rng))
            out = model(x, lengths)  # (B, n_outputs)
            loss = spec.loss(out, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), s.clip_norm)
            opt.step()
            err, ok = spec.score(out.detach(), y)
            errors, correct = np.r_[errors, err][-WINDOW:], np.r_[correct, ok][-WINDOW:]
            seen += len(y)
            if seen >= WINDOW and correct.all() and errors.mean() < STOP_ERROR:
                solved = True
                break
        seconds = time.perf_counter() - t0
        wrong = count_wrong(model, task, T, n_test, seed=s.seed)
    result = RunResult(task, cell, T, solved, seen, float(errors.mean()) if seen else math.nan,
                       float(correct.mean()) if seen else math.nan, wrong, n_test, seconds,
                       budget_s)
    return result, model.eval()


@torch.no_grad()
def count_wrong(model: SequenceModel, task: str, T: int, n: int = N_TEST, seed: int = 0,
                chunk: int = 256) -> int:
    """Wrong predictions of ``model`` on ``n`` fresh test sequences (a stream apart from
    training's), generated and scored ``chunk`` at a time to bound memory."""
    spec, rng = TASKS[task], np.random.default_rng([seed, T, 2])
    model.eval()
    wrong = 0
    for start in range(0, n, chunk):
        x, lengths, y = _tensors(spec.generate(min(chunk, n - start), T, rng))
        wrong += int((~spec.score(model(x, lengths), y)[1]).sum())
    model.train()
    return wrong


# --- reports ------------------------------------------------------------------------------

def format_row(r: RunResult) -> list[str]:
    return [str(r.T), LABELS[r.cell], "yes" if r.solved else "NO", f"{r.seen:,}",
            f"{r.train_error:.4f}", f"{r.test_wrong}/{r.n_test}", f"{r.seconds:.1f}"]


def format_table(results: list[RunResult]) -> str:
    from lstmkit.core.table import format_table as table

    header = ("T", "cell", "solved", "seq. seen", "train err", "wrong/test", "seconds")
    return table(header, [format_row(r) for r in results], align="><<>>>>")


def _describe(task: str, s: Settings, budget: float) -> str:
    what = {"adding": "adding problem (Experiment 4): output 0.5 + (X1 + X2)/4 at the end, "
                      "correct if |error| < 0.04",
            "temporal-order": "temporal order (Experiment 6a): classify XX/XY/YX/YY hidden "
                              "among distractors, correct if the arg-max is right"}[task]
    return (f"Hochreiter & Schmidhuber (1997), {what}.\n"
            f"Hidden {s.hidden_size}, Adam lr {s.lr}, batches of {s.batch_size} fresh "
            f"sequences, clip {s.clip_norm}, seed {s.seed}; budget {budget:g} s of training per "
            f"run.\nStop: average error of the last {WINDOW} training sequences < {STOP_ERROR} "
            f"and all {WINDOW} correct. NO = budget reached first (error where it stopped).")


def _verdict(results: list[RunResult]) -> str:
    lines = []
    for cell in CELLS:
        rs = [r for r in results if r.cell == cell]
        if rs:
            ok = [str(r.T) for r in rs if r.solved]
            lines.append(f"{LABELS[cell]}: solved T = {', '.join(ok)}" if ok
                         else f"{LABELS[cell]}: not solved within the budget")
    return "; ".join(lines) + "."


def run_task(task: str, Ts, budget: float, n_test: int, quick: bool) -> str:
    """Train every cell for every T in ``Ts``; return the report (table + verdict)."""
    s = Settings()
    results = []
    t0 = time.perf_counter()
    for T in Ts:
        for cell in CELLS:
            results.append(train_task(task, cell, T, budget, s, n_test)[0])
    total = time.perf_counter() - t0
    head = _describe(task, s, budget)
    if quick:
        head += "\n(quick: tiny budgets and test sets, a smoke test only)"
    return (f"{head}\n\n{format_table(results)}\n\n{_verdict(results)}\n"
            f"Total wall time {total:.0f} s.")


def _adding(quick: bool = False) -> str:
    return run_task("adding", [100], 3.0 if quick else 120.0, 256 if quick else N_TEST, quick)


def _order(quick: bool = False) -> str:
    return run_task("temporal-order", [100], 3.0 if quick else 120.0, 256 if quick else N_TEST,
                    quick)


def _adding_sweep(quick: bool = False) -> str:
    return run_task("adding", [100, 500, 1000], 1.0 if quick else 110.0,
                    128 if quick else N_TEST, quick)


def _order_sweep(quick: bool = False) -> str:
    return run_task("temporal-order", [100, 500, 1000], 1.0 if quick else 110.0,
                    128 if quick else N_TEST, quick)


EXPERIMENTS = {
    "adding": Experiment("adding", "LSTM/GRU/RNN on the adding problem, T=100 (H&S 1997, "
                         "Exp. 4)", _adding),
    "temporal-order": Experiment("temporal-order", "LSTM/GRU/RNN on the temporal order task, "
                                 "T=100 (H&S 1997, Exp. 6a)", _order),
    "adding-sweep": Experiment("adding-sweep", "adding problem, T in {100, 500, 1000} x "
                               "LSTM/GRU/RNN, time-capped (< 20 min)", _adding_sweep),
    "temporal-order-sweep": Experiment("temporal-order-sweep", "temporal order, T in {100, "
                                       "500, 1000} x LSTM/GRU/RNN, time-capped (< 20 min)",
                                       _order_sweep),
}
