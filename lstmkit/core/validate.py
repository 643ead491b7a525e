"""The validation helpers every edge uses: one :class:`Check` per kind of value.

A check validates a Python value (``check(component, name, value)`` returns it, normalised,
or raises :class:`~lstmkit.core.errors.LstmkitError` with one line) and parses the same value
from the command line (``check.parse(text)``, an argparse ``type``). Hyperparameters carry
their check in their dataclass field (:mod:`lstmkit.core.config`), so the Python API and the
CLI refuse exactly the same values with the same words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lstmkit.core.errors import expected

MAX_SEED = 2**63 - 1  # torch.manual_seed takes up to 2**64 - 1; NumPy's SeedSequence any


class ParseError(ValueError):
    """A command-line value a check refuses (the CLI turns it into argparse's usage error)."""


@dataclass(frozen=True)
class Check:
    """What values a setting accepts.

    ``kind``: ``int`` | ``float`` | ``bool`` | ``choice`` | ``str`` | ``subset`` (a tuple of
    distinct ``choices``; comma-separated on the command line) | ``floats`` (a tuple of
    strictly increasing numbers within the bounds); ``low`` / ``high`` bound
    numbers (``low_open`` / ``high_open`` make a bound exclusive); ``choices`` for a choice;
    ``optional``: ``None`` is accepted too (a setting that can be off).
    """

    kind: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple = ()
    optional: bool = False
    finite: bool = True  # False: +inf is accepted too (clip_norm=inf: log norms, never clip)

    # ---------------------------------------------------------------- words
    def describe(self) -> str:
        if self.kind == "choice":
            words = [str(c) for c in self.choices]
            text = ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else words[0]
        elif self.kind == "bool":
            text = "True or False"
        elif self.kind == "str":
            text = "a text"
        elif self.kind == "subset":
            text = "distinct names among " + ", ".join(map(str, self.choices))
        elif self.kind == "floats":
            text = "increasing, distinct " + self._range("numbers").replace("a number",
                                                                             "numbers")
        else:
            noun = "an integer" if self.kind == "int" else "a number"
            text = self._range(noun)
        return text + (" (or None)" if self.optional else "")

    def _range(self, noun: str) -> str:
        lo, hi = self.low, self.high
        if lo == 0 and self.low_open and hi is None:
            return "a positive " + noun.split()[-1]
        if lo == 0 and not self.low_open and hi is None:
            return f"0 or a positive {noun.split()[-1]}" if self.kind == "int" else \
                "a number >= 0"
        if lo == 1 and hi is None and self.kind == "int":
            return "a positive integer"
        if lo is not None and hi is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"{noun} in {left}{_num(lo)}, {_num(hi)}{right}"
        if lo is not None:
            return f"{noun} {'>' if self.low_open else '>='} {_num(lo)}"
        return noun

    # ---------------------------------------------------------------- Python values
    def __call__(self, component: str, name: str, value):
        if value is None and self.optional:
            return None
        ok, v = self._coerce(value)
        if not ok:
            raise expected(component, f"{name} {self.phrase()}", repr(value))
        return v

    def phrase(self) -> str:
        """``describe()`` as it follows a name: ``lr to be a positive number``, ``dropout in
        [0, 1)``, ``loss mse, mae or huber``."""
        text = self.describe()
        if self.kind in ("choice",) or text.startswith(("an integer in", "a number in")):
            return text.replace("an integer in ", "in ").replace("a number in ", "in ")
        return "to be " + text

    def _coerce(self, value):
        if self.kind == "bool":
            return isinstance(value, bool), value
        if self.kind == "choice":
            return value in self.choices, value
        if self.kind == "str":
            return isinstance(value, str), value
        if self.kind == "subset":
            items = [v.strip() for v in value.split(",") if v.strip()] \
                if isinstance(value, str) else value
            if not isinstance(items, (list, tuple)):
                return False, value
            return (all(v in self.choices for v in items) and len(set(items)) == len(items),
                    tuple(items))
        if self.kind == "floats":
            try:
                items = tuple(float(v) for v in (value.split(",") if isinstance(value, str)
                                                 else value) if str(v).strip())
            except (TypeError, ValueError):
                return False, value
            ok = all(self._in_range(v) and math.isfinite(v) for v in items) and \
                all(a < b for a, b in zip(items, items[1:], strict=False))
            return ok, items
        if isinstance(value, bool) or not _is_number(value):
            return False, value
        if self.kind == "int":
            if isinstance(value, float) or int(value) != value:
                return False, value
            value = int(value)
        else:
            value = float(value)
            if math.isnan(value) or (math.isinf(value) and (self.finite or value < 0)):
                return False, value
        return self._in_range(value), value

    def _in_range(self, v) -> bool:
        if self.low is not None and (v < self.low or (self.low_open and v == self.low)):
            return False
        return not (self.high is not None and (v > self.high or (self.high_open and
                                                                  v == self.high)))

    # ---------------------------------------------------------------- command line
    def parse(self, text: str):
        """The command-line text as a value this check accepts (else :class:`ParseError`)."""
        t = text.strip()
        if self.optional and t.lower() in ("none", "off"):
            return None
        if self.kind == "choice":
            value = next((c for c in self.choices if str(c) == t), text)
        elif self.kind == "bool":
            words = {"true": True, "yes": True, "on": True, "1": True,
                     "false": False, "no": False, "0": False}
            value = words.get(t.lower(), text)
        elif self.kind in ("int", "float"):
            try:
                value = float(t) if self.kind == "float" else int(t)
            except ValueError:
                raise ParseError(f"expected {self.describe()}, got {text!r}") \
                    from None
        else:
            value = t
        ok, v = self._coerce(value)
        if not ok:
            raise ParseError(f"expected {self.describe()}, got {text!r}")
        return v


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating))


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


# ---------------------------------------------------------------------- the usual checks
positive_int = Check("int", low=1)
nonnegative_int = Check("int", low=0)
seed_int = Check("int", low=0, high=MAX_SEED)
positive_float = Check("float", low=0, low_open=True)
nonnegative_float = Check("float", low=0)
fraction = Check("float", low=0, high=1, high_open=True)  # dropout-like: [0, 1)
probability = Check("float", low=0, high=1)  # [0, 1]
flag = Check("bool")


def choice(*options) -> Check:
    return Check("choice", choices=tuple(options))


def optional(check: Check) -> Check:
    """The same check, with ``None`` (off) accepted too."""
    from dataclasses import replace

    return replace(check, optional=True)


def count_or_fraction(component: str, name: str, value, *, allow_zero: bool = True):
    """A row / sequence count (``100``) or a fraction of the whole in (0, 1) (``0.2``)."""
    ok = _is_number(value) and not isinstance(value, bool) and math.isfinite(float(value))
    if ok:
        v = float(value)
        ok = (0 < v < 1) or (v >= 1 and v == int(v)) or (v == 0 and allow_zero)
    if not ok:
        raise expected(component, f"{name} a count or a fraction in (0, 1)", repr(value))
    return value if 0 < float(value) < 1 else int(value)


def parse_count_or_fraction(text: str):
    """Command-line :func:`count_or_fraction` (``--test 100`` or ``--test 0.2``)."""
    try:
        v = float(text)
        return count_or_fraction("", "", v)
    except (ValueError, OverflowError):
        raise ParseError(
            f"expected a count or a fraction in (0, 1), got {text!r}") from None


def columns(text: str) -> list[str]:
    """Command-line column list: ``a,b,c`` -> ``["a", "b", "c"]``."""
    return [c.strip() for c in text.split(",") if c.strip()]
