"""Figures for gate traces and gradient flow (matplotlib, Agg canvas, no pyplot state).

Figures are built as :class:`matplotlib.figure.Figure` with an explicit Agg canvas, so
nothing depends on the user's backend or opens a window; :func:`save_figure` writes a PNG
atomically (temporary file, then rename).

* :func:`gate_heatmaps`: one heatmap (time × unit) per traced quantity of one sequence.
* :func:`top_units_plot`: the units with the largest variance over time, as lines.
* :func:`gradient_flow_plot`: ‖∂L/∂h_t‖ and ‖∂L/∂x_t‖ against steps before the end, log scale.

Every time axis accepts ``labels`` (one per step; e.g. the characters or words of a text);
long label lists are thinned to about 40 ticks.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from lstmkit.core.errors import expected

# colour scale per quantity: gates in [0, 1], tanh outputs in [-1, 1], the cell state free
_GATE_TITLES = {
    "i": "input gate i", "f": "forget gate f", "g": "candidate C̃ (g)", "o": "output gate o",
    "c": "cell state C", "h": "hidden state h", "r": "reset gate r", "z": "update gate z",
    "n": "candidate n",
}
_UNIT_RANGE = ("i", "f", "o", "r", "z")
_SIGNED_RANGE = ("g", "h", "n")
_CELL_COLOURS = {"lstm": "tab:blue", "gru": "tab:green", "rnn": "tab:red"}


def new_figure(width: float, height: float) -> Figure:
    """A figure on an Agg canvas (independent of pyplot and of the active backend)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path, dpi: int = 110) -> Path:
    """Write ``fig`` as PNG to ``path`` atomically (temporary file in the same folder)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as fh:  # plain open: the file gets the user's umask
            fig.savefig(fh, format="png", dpi=dpi)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _time_axis(ax, T: int, labels) -> None:
    """Label the time axis with ``labels`` (thinned) or step numbers."""
    if labels is None:
        ax.set_xlabel("time step")
        return
    if len(labels) != T:
        raise expected("Plot", f"{T} time labels (one per step)", len(labels))
    every = max(1, int(np.ceil(T / 40)))
    ticks = np.arange(0, T, every)
    ax.set_xticks(ticks, [repr(labels[t])[1:-1] or " " for t in ticks], fontsize=7,
                  rotation=90 if max(map(len, labels), default=1) > 2 else 0)


def _colour_range(name: str, v: np.ndarray) -> dict:
    if name in _UNIT_RANGE:
        return {"cmap": "viridis", "vmin": 0.0, "vmax": 1.0}
    if name in _SIGNED_RANGE:
        return {"cmap": "RdBu_r", "vmin": -1.0, "vmax": 1.0}
    m = float(np.abs(v).max()) or 1.0
    return {"cmap": "RdBu_r", "vmin": -m, "vmax": m}


def _check_sequence(seq: dict) -> tuple[int, int]:
    if not seq:
        raise expected("Plot", "at least one traced quantity", "none")
    shapes = {np.shape(v) for v in seq.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise expected("Plot", "(T, H) arrays of one shape", sorted(shapes))
    return next(iter(shapes))


def gate_heatmaps(seq: dict[str, np.ndarray], labels=None, title: str = "") -> Figure:
    """Heatmaps of one sequence: ``seq`` maps a name (``i f g o c h`` ...) to (T, H).

    Rows are units, columns time steps; gates share a [0, 1] colour scale, candidates and
    h [-1, 1], the cell state a symmetric scale of its own.
    """
    T, H = _check_sequence(seq)
    fig = new_figure(max(6.0, min(16.0, 4 + T / 12)), 1.0 + len(seq) * max(1.2, min(3, H / 12)))
    axes = fig.subplots(len(seq), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (name, v) in zip(axes, seq.items(), strict=True):
        im = ax.imshow(np.asarray(v).T, aspect="auto", interpolation="nearest",
                       origin="lower", **_colour_range(name, v))  # (H, T)
        ax.set_ylabel("unit")
        ax.set_title(_GATE_TITLES.get(name, name), fontsize=9, loc="left")
        fig.colorbar(im, ax=ax, pad=0.01, fraction=0.03)
    _time_axis(axes[-1], T, labels)
    if title:
        fig.suptitle(title)
    return fig


def top_units(v: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` units of ``v`` (T, H) with the largest variance over time."""
    return np.argsort(-np.var(np.asarray(v), axis=0), kind="stable")[:k]


def top_units_plot(seq: dict[str, np.ndarray], k: int = 5, names=("c", "h"), labels=None,
                   title: str = "") -> Figure:
    """Line plots of the ``k`` highest-variance units of each quantity in ``names`` that
    ``seq`` has (the LSTM: cell state and hidden state; GRU/RNN: hidden state)."""
    T, _ = _check_sequence(seq)
    present = [n for n in names if n in seq] or [next(iter(seq))]
    fig = new_figure(max(6.0, min(16.0, 4 + T / 12)), 1.2 + 2.4 * len(present))
    axes = fig.subplots(len(present), 1, sharex=True, squeeze=False)[:, 0]
    for ax, name in zip(axes, present, strict=True):
        v = np.asarray(seq[name])
        for u in top_units(v, k):
            ax.plot(np.arange(T), v[:, u], lw=1.2, label=f"unit {u}")
        ax.set_title(f"{_GATE_TITLES.get(name, name)}: {min(k, v.shape[1])} units with the "
                     "largest variance", fontsize=9, loc="left")
        ax.legend(fontsize=7, ncols=min(k, 5), loc="upper left")
        ax.grid(alpha=0.3)
    _time_axis(axes[-1], T, labels)
    if title:
        fig.suptitle(title)
    return fig


def gradient_flow_plot(results: dict[str, dict[str, dict]], title: str = "") -> Figure:
    """‖∂L/∂h_t‖ (left) and ‖∂L/∂x_t‖ (right) against T − t on a log scale.

    ``results`` = ``{cell: {stage: gradient_flow(...) dict}}``; stages ``init`` (dashed) and
    ``trained`` (solid), other stage names dotted.
    """
    fig = new_figure(12.0, 4.5)
    axes = fig.subplots(1, 2, sharex=True)
    styles = {"init": "--", "trained": "-"}
    for cell, stages in results.items():
        for stage, flow in stages.items():
            T = len(flow["t"])
            lag = T - np.asarray(flow["t"])  # steps before the end: 0 = last step
            for ax, key in zip(axes, ("dh", "dx"), strict=True):
                y = np.asarray(flow[key], dtype=float)
                y = np.where(y > 0, y, np.nan)  # log scale: exact zeros are not drawn
                ax.plot(lag, y, styles.get(stage, ":"), color=_CELL_COLOURS.get(cell),
                        label=f"{cell.upper()} ({stage})")
    for ax, what in zip(axes, ("‖∂L/∂h_t‖", "‖∂L/∂x_t‖"), strict=True):
        ax.set_yscale("log")
        ax.set_xlabel("steps before the end (T − t)")
        ax.set_title(what, fontsize=10)
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=8)
    fig.suptitle(title or "Gradient flow through time (loss at the last step)")
    return fig
