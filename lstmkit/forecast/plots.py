"""Loss curves and forecast-vs-actual plots (matplotlib, Agg backend, PNG files)."""

from __future__ import annotations

import numpy as np

from lstmkit.core.plotting import pyplot


def loss_plot(histories: dict[str, list[list[dict]]], path) -> None:
    """Train (solid) and validation (dashed) loss per epoch, one colour per model,
    one line per seed, log scale — like the course's loss plots."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for k, (name, runs) in enumerate(histories.items()):
        color = f"C{k}"
        for j, hist in enumerate(runs):
            ep = [r["epoch"] for r in hist]
            ax.plot(ep, [r["train_loss"] for r in hist], color=color, alpha=0.7, lw=1,
                    label=f"{name} train" if j == 0 else None)
            if hist and "val_loss" in hist[0]:
                ax.plot(ep, [r["val_loss"] for r in hist], color=color, ls="--", alpha=0.7,
                        lw=1, label=f"{name} val" if j == 0 else None)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (normalized units)")
    ax.set_title("Training loss")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    # fixed margins: tight_layout measured 0.37 s a figure here, a tenth of a one-epoch fit
    fig.subplots_adjust(left=0.11, right=0.8, bottom=0.11, top=0.93)
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)


def forecast_plot(start: np.ndarray, y_true: np.ndarray, preds: dict[str, np.ndarray],
                  targets: list[str], path, step: int = 0) -> None:
    """Predicted vs actual on the test windows, one panel per target (original units).

    ``y_true`` and each ``preds[name]`` are (M, K, D); ``step`` picks the horizon step
    plotted (0 = one step ahead), placed at row ``start + step``.
    """
    plt = pyplot()
    D = len(targets)
    fig, axes = plt.subplots(D, 1, figsize=(9, 2.8 * D), sharex=True, squeeze=False)
    rows = start + step
    for d, ax in enumerate(axes[:, 0]):
        ax.plot(rows, y_true[:, step, d], color="black", lw=1.6, label="actual")
        for k, (name, p) in enumerate(preds.items()):
            ax.plot(rows, p[:, step, d], color=f"C{k}", lw=1.1, label=name)
        ax.set_ylabel(targets[d])
    # outside the axes, on the right: the legend never covers the data
    axes[0, 0].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    axes[-1, 0].set_xlabel("row")
    axes[0, 0].set_title(f"Test forecasts, {step + 1} step(s) ahead")
    height = 2.8 * D  # inches: fixed margins of 0.5 in below, 0.35 in above
    fig.subplots_adjust(left=0.09, right=0.84, bottom=0.5 / height, top=1 - 0.35 / height,
                        hspace=0.12)
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)
