"""matplotlib on the Agg backend, imported on first use (a command that draws nothing never
pays the ~0.5 s import)."""

from __future__ import annotations


def pyplot():
    """``matplotlib.pyplot`` with the non-interactive Agg backend (PNG files, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
