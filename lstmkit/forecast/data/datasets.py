"""Bundled datasets: the series used in the course, by name.

======================  =====================================================
name                    contents
======================  =====================================================
``gas-furnace``         Box-Jenkins series J: 296 rows, columns ``GR`` (input
                        gas rate) and ``CO2`` (outlet CO2 %), read from the
                        ``timeseries-toolbox`` package data.
``fibonacci``           ``n`` Fibonacci numbers (default 30) in column ``fib``
                        (float64), starting 1, 1, 2, 3, 5, ...
``sine``                ``sin(linspace(0, 100, 1000))`` in column ``sine``.
``m4-weekly``           M4 Weekly (359 series), long format ``unique_id, ds,
                        y`` with integer ``ds``; ``m4-weekly:part=test``: the
                        13 values after each series (gzipped copies of the
                        competition's files, inside the package).
======================  =====================================================

Parameters can be given in the name (``"fibonacci:n=40"``, ``"sine:n=500,stop=50"``)
or as keywords (``load_dataset("fibonacci", n=40)``).
"""

from __future__ import annotations

import importlib.metadata
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstmkit.core.errors import expected
from lstmkit.core.validate import positive_int

__all__ = [
    "DATASETS",
    "is_dataset_name",
    "list_datasets",
    "load_dataset",
    "parse_dataset_name",
]

_GAS_FURNACE_FILE = "TimeSeriesSRC/TestData/Series_J_Gas_Furnace.csv"
_FIB_MAX_N = 1476  # F(1477) overflows float64


def _positive_int(name: str, param: str, value: object, maximum: int | None = None) -> int:
    value = positive_int("Data", f"{param} of dataset '{name}'", value)
    if maximum is not None and value > maximum:
        raise expected("Data", f"{param} of dataset '{name}' to be at most {maximum}", value)
    return int(value)


def gas_furnace() -> pd.DataFrame:
    """Box-Jenkins gas furnace (series J): 296 rows x [``GR``, ``CO2``].

    The CSV ships with the ``timeseries-toolbox`` package; it is located through
    package metadata, without importing that package (its ``__init__`` is heavy).
    """
    try:
        dist = importlib.metadata.distribution("timeseries-toolbox")
    except importlib.metadata.PackageNotFoundError:
        raise expected(
            "Data",
            "the timeseries-toolbox package for dataset 'gas-furnace' "
            "(pip install timeseries-toolbox)",
            "it not installed",
        ) from None
    path = dist.locate_file(_GAS_FURNACE_FILE)
    try:
        frame = pd.read_csv(str(path))
    except OSError:
        raise expected(
            "Data",
            f"{_GAS_FURNACE_FILE} inside the timeseries-toolbox package",
            "no such file (reinstall timeseries-toolbox)",
        ) from None
    frame = frame.rename(columns={"InputGasRate": "GR"})
    if list(frame.columns) != ["GR", "CO2"]:
        raise expected(
            "Data", "columns InputGasRate, CO2 in the gas furnace file", list(frame.columns)
        )
    return frame.astype("float64")


def fibonacci(n: int = 30) -> pd.DataFrame:
    """The first ``n`` Fibonacci numbers 1, 1, 2, 3, 5, ... in column ``fib`` (float64).

    Exact up to ``n = 78``; ``n`` is capped at 1476, the last value float64 can hold.
    """
    n = _positive_int("fibonacci", "n", n, _FIB_MAX_N)
    values = [1, 1]
    while len(values) < n:
        values.append(values[-1] + values[-2])
    return pd.DataFrame({"fib": np.array(values[:n], dtype=np.float64)})


def sine(n: int = 1000, stop: float = 100.0) -> pd.DataFrame:
    """``sin(linspace(0, stop, n))`` in column ``sine`` (the course uses n=1000, stop=100)."""
    n = _positive_int("sine", "n", n)
    if isinstance(stop, bool) or not isinstance(stop, (int, float)) or not math.isfinite(stop):
        raise expected("Data", "stop of dataset 'sine' to be a finite number", repr(stop))
    return pd.DataFrame({"sine": np.sin(np.linspace(0.0, float(stop), n))})


def m4_weekly(part: str = "train") -> pd.DataFrame:
    """M4 Weekly in long format; ``ds`` counts 1, 2, ... (the competition gives no dates),
    and the test part continues each series' count."""
    from pathlib import Path

    if part not in ("train", "test"):
        raise expected("Data", "m4-weekly part train or test", repr(part))
    here = Path(__file__).parent
    wide = {p: pd.read_csv(here / f"m4_weekly_{p}.csv.gz", index_col=0) for p in ("train", "test")}
    train_len = wide["train"].notna().sum(axis=1)
    rows = []
    for key, row in wide[part].iterrows():
        y = row.dropna().to_numpy(float)
        start = 1 if part == "train" else int(train_len[key]) + 1
        rows.append(pd.DataFrame({"unique_id": key, "ds": np.arange(start, start + len(y)),
                                  "y": y}))
    return pd.concat(rows, ignore_index=True)


@dataclass(frozen=True)
class _Dataset:
    description: str
    loader: Callable[..., pd.DataFrame]
    params: tuple[str, ...]


DATASETS: dict[str, _Dataset] = {
    "gas-furnace": _Dataset(
        "Box-Jenkins gas furnace (series J): 296 rows, columns GR (gas rate) and CO2",
        gas_furnace,
        (),
    ),
    "fibonacci": _Dataset(
        "Fibonacci numbers 1, 1, 2, 3, ... in column fib; n rows (default 30), e.g. fibonacci:n=40",
        fibonacci,
        ("n",),
    ),
    "sine": _Dataset(
        "sin(linspace(0, 100, 1000)) in column sine; options n, stop, e.g. sine:n=500",
        sine,
        ("n", "stop"),
    ),
    "m4-weekly": _Dataset(
        "M4 Weekly: 359 series, long format unique_id, ds, y; m4-weekly:part=test for the "
        "13 test values of each", m4_weekly, ("part",)),
}


def list_datasets() -> list[tuple[str, str]]:
    """``[(name, one-line description), ...]`` for every bundled dataset."""
    return [(name, ds.description) for name, ds in DATASETS.items()]


def _parse_value(text: str) -> int | float | str:
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def parse_dataset_name(source: str) -> tuple[str, dict[str, object]]:
    """Split ``"fibonacci:n=40"`` into ``("fibonacci", {"n": 40})``.

    Only the syntax is checked here; the name may not be a bundled dataset.
    """
    name, _, rest = source.partition(":")
    params: dict[str, object] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise expected("Data", f"dataset options as key=value (e.g. {name}:n=40)", repr(item))
        params[key.strip()] = _parse_value(value.strip())
    return name.strip(), params


def is_dataset_name(source: object) -> bool:
    """True when ``source`` is a string naming a bundled dataset (options allowed)."""
    if not isinstance(source, str):
        return False
    return source.partition(":")[0].strip() in DATASETS


def load_dataset(source: str, **params: object) -> pd.DataFrame:
    """Load a bundled dataset by name (``"sine"``, ``"fibonacci:n=40"``) as a new DataFrame."""
    name, in_name = parse_dataset_name(source)
    if name not in DATASETS:
        raise expected("Data", f"a bundled dataset name ({', '.join(DATASETS)})", repr(source))
    ds = DATASETS[name]
    merged = {**in_name, **params}
    unknown = [k for k in merged if k not in ds.params]
    if unknown:
        allowed = ", ".join(ds.params) if ds.params else "none"
        raise expected("Data", f"options for dataset '{name}' among: {allowed}", ", ".join(unknown))
    return ds.loader(**merged)
