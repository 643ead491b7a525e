"""Plain-text reports: one row per model, always beside the naive baseline.

Every number in a row comes from :meth:`lstmkit.models.Forecaster.evaluate`
(aggregated over seeds): test MSE in normalized units as ``mean [min–max]``,
the per-target mean MSE, the skill ``1 − MSE/MSE_naive`` and training seconds.
"""

from __future__ import annotations

import csv
import io

from lstmkit.core.aggregate import format_mmm
from lstmkit.core.table import format_table


def model_row(name: str, report: dict, seconds: list[float] | None = None) -> dict:
    """Summarise one ``evaluate()`` report for :func:`report_table`."""
    agg = report["aggregate"]
    return {
        "name": name,
        "mse": agg["normalized"]["overall"]["mse"],
        "per_target": {t: m["mse"]["mean"] for t, m in agg["normalized"]["per_target"].items()},
        "skill": agg["skill"]["overall"],
        "mre": agg["original"]["overall"]["mre"],
        "seconds": sum(seconds) if seconds else None,
        "n_seeds": len(report["per_seed"]),
    }


def naive_row(report: dict) -> dict:
    """The naive baseline's row, from any report on the same windows."""
    naive = report["naive"]["normalized"]
    return {
        "name": "naive (last value)",
        "mse": naive["overall"]["mse"],
        "per_target": {t: m["mse"] for t, m in naive["per_target"].items()},
        "skill": 0.0,
        "mre": report["naive"]["original"]["overall"]["mre"],
        "seconds": None,
        "n_seeds": 1,
    }


def _num(v, fmt="{:.4f}") -> str:
    if isinstance(v, dict):
        if v["max"] >= 1e5 and fmt == "{:.4f}":
            fmt = "{:.4g}"
        return format_mmm(v, fmt) if v["max"] != v["min"] else fmt.format(v["mean"])
    if v is not None and abs(v) >= 1e5 and fmt == "{:.4f}":
        fmt = "{:.4g}"
    return "-" if v is None else fmt.format(v)


def _percent(v):
    """A fraction (or a mean/min/max dict of fractions) as percent."""
    if isinstance(v, dict):
        return {k: (x * 100 if isinstance(x, float) else x) for k, x in v.items()}
    return None if v is None else v * 100


def report_table(rows: list[dict], title: str = "", relative: bool = True) -> str:
    """Fixed-width table: model | test MSE (normalized) | per target | skill |
    mean relative error (original units, the course's metric; ``relative=False`` drops it,
    for series that cross zero, where it means nothing) | train s."""
    targets = list(rows[0]["per_target"]) if rows else []
    header = ["model", "test MSE (normalized) mean [min-max]", *targets, "skill vs naive",
              *(["rel. error"] if relative else []), "train s"]
    body = []
    for r in rows:
        body.append([
            r["name"] + (f" ×{r['n_seeds']}" if r["n_seeds"] > 1 else ""),
            _num(r["mse"]),
            *[_num(r["per_target"][t]) for t in targets],
            _num(r["skill"], "{:+.3f}"),
            *([_num(_percent(r["mre"]), "{:.2f}%")] if relative else []),
            _num(r["seconds"], "{:.1f}"),
        ])
    return format_table(header, body, title)


def history_csv(histories: list[list[dict]], seeds: list[int]) -> str:
    """All seeds' epoch histories as one CSV (column ``seed`` first)."""
    keys = ["seed"]
    for h in histories:
        for row in h:
            keys.extend(k for k in row if k not in keys)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    w.writeheader()
    for s, h in zip(seeds, histories, strict=False):
        for row in h:
            w.writerow({"seed": s, **row})
    return buf.getvalue()
