"""Aggregate metric dicts over repeated runs (seeds).

:func:`aggregate` takes several results of the same shape (e.g. one
:func:`~lstmkit.forecast.metrics.compute_metrics` dict per seed) and returns the same
nesting in which every numeric leaf becomes a summary::

    {"mean": float, "median": float, "min": float, "max": float, "std": float,
     "values": [float, ...]}

``std`` is the population standard deviation (``ddof=0``) by default, so one run gives
``0.0``; pass ``ddof=1`` for the sample standard deviation (then ``None`` with fewer than two
runs). A leaf that is ``None`` in every run (e.g. ``mase`` without a scale) stays ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from lstmkit.core.errors import expected

__all__ = ["aggregate", "format_mmm"]

_COMPONENT = "Aggregate"


def _summary(values: list, path: str, ddof: int):
    if all(v is None for v in values):
        return None
    if any(v is None for v in values):
        raise expected(_COMPONENT, f"a value in every run at {path}", "None in some runs")
    try:
        vals = [float(v) for v in values]
    except (TypeError, ValueError):
        raise expected(
            _COMPONENT, f"numbers at {path}", [type(v).__name__ for v in values]
        ) from None
    a = np.asarray(vals, dtype=np.float64)
    std = float(a.std(ddof=ddof)) if a.size > ddof else None
    return {
        "mean": float(a.mean()),
        "median": float(np.median(a)),
        "min": float(a.min()),
        "max": float(a.max()),
        "std": std,
        "values": vals,
    }


def _walk(items: list, path: str, ddof: int):
    first = items[0]
    if isinstance(first, Mapping):
        keys = list(first.keys())
        for i, it in enumerate(items):
            if not isinstance(it, Mapping) or set(it.keys()) != set(keys):
                got = sorted(it.keys()) if isinstance(it, Mapping) else type(it).__name__
                raise expected(
                    _COMPONENT,
                    f"the keys {sorted(keys)} at {path} in every run",
                    f"{got} in run {i}",
                )
        return {k: _walk([it[k] for it in items], f"{path}/{k}", ddof) for k in keys}
    if any(isinstance(it, Mapping) for it in items):
        raise expected(_COMPONENT, f"the same nesting at {path} in every run", "a mix")
    return _summary(items, path, ddof)


def aggregate(results: Sequence[Mapping], *, ddof: int = 0) -> dict:
    """Summarise a list of same-shaped (nested) metric dicts, leaf by leaf.

    Every leaf number becomes ``{"mean", "median", "min", "max", "std", "values"}`` (plain floats,
    JSON-serialisable); the nesting and key order of the first dict are kept. The dicts
    must have the same keys at every level.
    """
    if isinstance(results, Mapping) or not isinstance(results, Sequence):
        raise expected(_COMPONENT, "a list of metric dicts", type(results).__name__)
    items = list(results)
    if not items:
        raise expected(_COMPONENT, "at least one metric dict", "an empty list")
    if not all(isinstance(it, Mapping) for it in items):
        raise expected(_COMPONENT, "a list of metric dicts", [type(it).__name__ for it in items])
    if ddof < 0:
        raise expected(_COMPONENT, "ddof >= 0", ddof)
    return _walk(items, "", ddof)


def format_mmm(d, fmt: str = "{:.4f}") -> str:
    """``"mean [min–max]"`` for one aggregated leaf, e.g. ``"0.0412 [0.0398–0.0431]"``.

    ``d`` is a summary dict from :func:`aggregate` (a plain number is formatted alone);
    ``None`` or a non-finite mean gives ``"n/a"``.
    """
    if d is None:
        return "n/a"
    if isinstance(d, (int, float)) and not isinstance(d, bool):
        return fmt.format(d) if math.isfinite(d) else "n/a"
    if not isinstance(d, Mapping) or not {"mean", "min", "max"} <= set(d):
        raise expected("format_mmm", "an aggregated leaf with mean/min/max", repr(d))
    if d["mean"] is None or not math.isfinite(d["mean"]):
        return "n/a"
    return f"{fmt.format(d['mean'])} [{fmt.format(d['min'])}\u2013{fmt.format(d['max'])}]"
