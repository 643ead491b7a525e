"""Reproductions of the course's experiments: ``lstmkit reproduce NAME``.

Each module in this package that defines ``EXPERIMENTS`` (a dict name ->
:class:`Experiment`) contributes targets; :func:`all_experiments` collects them.
An experiment's ``run(quick: bool) -> str`` returns the report it prints: the
setting, the course's printed figure, lstmkit's figure (mean, min and max over
seeds), the naive baseline and a one-line verdict.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Experiment:
    name: str
    summary: str  # one line for `lstmkit reproduce --list`
    run: Callable[..., str]  # run(quick=False) -> printed report


def all_experiments() -> dict[str, Experiment]:
    out: dict[str, Experiment] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        out.update(getattr(mod, "EXPERIMENTS", {}))
    return dict(sorted(out.items()))


def experiment_names() -> list[str]:
    """The targets of ``lstmkit reproduce``, without importing the experiments' modules."""
    import ast
    from pathlib import Path

    names = []
    for path in sorted(Path(__file__).parent.glob("[!_]*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Experiment" \
                    and node.args and isinstance(node.args[0], ast.Constant):
                names.append(node.args[0].value)
    return sorted(names)
