"""User-facing errors.

Every problem with user input is raised as :class:`LstmkitError` with a one-line
message of the form ``"Component: expected X, got Y"``. The CLI prints the
message and exits with code 2; it never shows a traceback for these.
"""

from __future__ import annotations


class LstmkitError(ValueError):
    """A one-line, user-facing error. ``str(err)`` is the whole message."""


def expected(component: str, what: str, got: object) -> LstmkitError:
    """Build ``LstmkitError("Component: expected WHAT, got GOT")``."""
    return LstmkitError(f"{component}: expected {what}, got {got}")


def shape_str(shape) -> str:
    """``(4, 3)`` for a tuple/torch.Size/ndarray shape (no trailing comma for 1-d)."""
    return "(" + ", ".join(str(int(s)) for s in shape) + ")"
