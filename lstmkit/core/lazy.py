"""Package exports imported on first use (PEP 562), so that importing a package is cheap:
``lstmkit.ref`` stays NumPy-only and the CLI builds its parser without importing torch."""

from __future__ import annotations

import importlib


def lazy_exports(package: str, table: dict[str, str]):
    """``(__getattr__, __dir__)`` for a package whose names ``table`` maps to modules."""
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name):
        if name in table:
            return getattr(importlib.import_module(table[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(namespace) | set(table))

    return __getattr__, __dir__
