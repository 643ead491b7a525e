"""Classification plots: the confusion matrix and the training loss per seed (PNG files)."""

from __future__ import annotations

import numpy as np

from lstmkit.core.plotting import pyplot


def confusion_plot(cm, classes: list[str], path, title: str = "Confusion matrix") -> None:
    """Row-normalised confusion matrix as a PNG, counts written in the cells."""
    plt = pyplot()

    cm = np.asarray(cm, dtype=float)
    rates = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    K = len(classes)
    size = min(4 + 0.45 * K, 14)
    fig, ax = plt.subplots(figsize=(size, size * 0.85))
    im = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    if K <= 20:
        for i in range(K):
            for j in range(K):
                ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if rates[i, j] > 0.5 else "black")
        ax.set_xticks(range(K), classes, rotation=45 if K > 6 else 0, fontsize=8)
        ax.set_yticks(range(K), classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.046, label="fraction of the true class")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)


def accuracy_plot(histories: list[list[dict]], seeds: list[int], path) -> None:
    """Train (solid) / val (dashed) cross-entropy per epoch, one line per seed."""
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for k, (s, hist) in enumerate(zip(seeds, histories, strict=True)):
        ep = [r["epoch"] for r in hist]
        ax.plot(ep, [r["train_loss"] for r in hist], color=f"C{k}", lw=1, label=f"seed {s} train")
        if hist and "val_loss" in hist[0]:
            ax.plot(ep, [r["val_loss"] for r in hist], color=f"C{k}", ls="--", lw=1,
                    label=f"seed {s} val")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax.set_title("Training loss")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)
