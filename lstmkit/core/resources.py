"""Refuse, before allocating, a model too large for this machine's memory."""

from __future__ import annotations

from lstmkit.core.errors import expected

GATES = {"lstm": 4, "lnlstm": 4, "gru": 3, "rnn": 1}
TRAINING_COPIES = 4  # weights, gradients and Adam's two moments, float32 each


def recurrent_params(cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
                     bidirectional: bool = False) -> int:
    """Weights of a stack of recurrent layers: G·H·(inputs + H + 2 biases) per layer and
    direction (G = 4 for LSTM, 3 for GRU, 1 for RNN)."""
    g, d = GATES.get(cell, 4), 2 if bidirectional else 1
    total, n_in = 0, input_size
    for _ in range(num_layers):
        total += d * g * hidden_size * (n_in + hidden_size + 2)
        n_in = d * hidden_size
    return total


def available_bytes() -> int | None:
    """Memory available to new allocations (MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB", "EB"):
        if n < 1024 or unit == "EB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} EB"  # pragma: no cover


def check_memory(component: str, n_params: int, what: str, copies: int = TRAINING_COPIES,
                 available: int | None = None) -> None:
    """Refuse a model of ``n_params`` float32 weights whose training (``copies`` of them)
    needs more memory than is available, before anything is allocated."""
    need = 4 * copies * n_params
    free = available_bytes() if available is None else available
    if free is not None and need > free:
        raise expected(component, f"a model that fits in memory ({_size(free)} available)",
                       f"{what}: {n_params:,} weights, about {_size(need)} to train")
