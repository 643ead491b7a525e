"""The forecast of a few named series, with dates on the time axis."""

from __future__ import annotations

import numpy as np

from lstmkit.core.plotting import pyplot


def plot_panel_forecast(model, report: dict, n_series: int = 4, context: int = 3):
    """One panel per series (the first ``n_series`` of the report): the last
    ``context x horizon`` observed points, the actual test points, the model's forecast and
    the best baseline's. Returns the figure."""
    plt = pyplot()
    fc = report["forecast"]
    cols = model.columns_
    names = list(report["overall"])
    own = names[0]
    best = min((n for n in names[1:]), key=lambda n: report["overall"][n]["owa"])
    ids = list(dict.fromkeys(fc[cols.id_col]))[:n_series]
    history = model.panel_ if getattr(model, "panel_", None) is not None else None
    fig, axes = plt.subplots(len(ids), 1, figsize=(10, 2.6 * len(ids)), squeeze=False)
    for ax, key in zip(axes[:, 0], ids, strict=True):
        part = fc[fc[cols.id_col] == key]
        if history is not None and key in history.ids:
            i = history.ids.index(key)
            first = np.asarray(part[cols.time_col])[0]
            keep = np.asarray(history.ds[i]) < first
            n = context * model.horizon
            ax.plot(np.asarray(history.ds[i])[keep][-n:], history.y[i][keep][-n:],
                    color="0.4", lw=1.2, label="observed")
        levels = sorted((float(c[3:]) for c in part.columns if c.startswith("lo_")),
                        reverse=True)
        for j, lv in enumerate(levels):  # the fan: widest first, lighter
            ax.fill_between(part[cols.time_col], part[f"lo_{lv:g}"], part[f"hi_{lv:g}"],
                            color="C0", alpha=0.15 + 0.15 * j, lw=0,
                            label=f"{lv:g}% interval")
        ax.plot(part[cols.time_col], part["y"], color="black", lw=1.5, label="actual")
        ax.plot(part[cols.time_col], part[own], color="C0", lw=1.8, label=own)
        ax.plot(part[cols.time_col], part[best], color="C1", lw=1.2, ls="--", label=best)
        ax.set_title(f"{key}", fontsize=10, loc="left")
        ax.set_ylabel(cols.target)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel(cols.time_col + (" (date)" if model.freq_ is not None and
                                            not isinstance(model.freq_, int) else ""))
    handles, labels = axes[0, 0].get_legend_handles_labels()  # above the panels, off the data
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.965), ncols=6,
               fontsize=8, frameon=False)
    fig.autofmt_xdate() if not isinstance(model.freq_, int) else None
    fig.suptitle(f"{own} vs {best} (best baseline by OWA)", fontsize=11)
    fig.subplots_adjust(hspace=0.5)
    return fig


def plot_error_by_step(per_step):
    """sMAPE and MASE by horizon step, one line per method."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, metric in zip(axes, ("smape", "mase"), strict=True):
        for name, g in per_step.groupby("method", sort=False):
            ax.plot(g["step"], g[metric], marker="o", ms=3, label=name)
        ax.set_xlabel("horizon step")
        ax.set_ylabel(metric.replace("smape", "sMAPE").replace("mase", "MASE"))
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("error by horizon step (pooled over folds)", fontsize=11)
    fig.subplots_adjust(wspace=0.3, bottom=0.15)
    return fig
