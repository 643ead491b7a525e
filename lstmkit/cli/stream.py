"""``lstmkit stream``: warm a saved forecaster up on a history, then forecast after every new
row read on stdin (one JSON line per row on stdout).

Each stdin line is a row of the history's columns, in its order, or by name after a header
line (the first line, when its fields are not all numbers). Fields are separated by ``--sep``
(default: ``;``, tab or ``,``, whichever the first line holds); with ``;`` a decimal comma is
recognised (``--decimal`` forces the mark). Columns other than the model's are ignored.
"""

from __future__ import annotations

import json
import re
import sys

from lstmkit.core.errors import expected

ORDER = 16
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*$")


def register(sub) -> None:
    p = sub.add_parser("stream", help="forecast after each new row read on stdin (a saved "
                                      "model's state carried from row to row)")
    p.add_argument("--model", required=True, metavar="DIR", help="run directory of a forecaster")
    p.add_argument("--history", required=True, metavar="NAME|PATH",
                   help="the rows before the stream (bundled dataset or CSV/Parquet file)")
    p.add_argument("--sep", metavar="CHAR", help="field separator of the history file and of "
                   "the stdin rows (default: sniffed)")
    p.add_argument("--decimal", choices=[".", ","], help="decimal mark (default: '.', or ',' "
                   "for the ';' + decimal-comma convention)")
    p.set_defaults(func=run)


def _split(line: str, sep: str | None) -> list[str]:
    return line.split() if sep == r"\s+" else [f.strip() for f in line.split(sep)]


def _sniff(line: str) -> str:
    return next((s for s in (";", "\t", ",") if s in line), r"\s+")


class RowReader:
    """stdin lines -> ``(y, exog)`` for a stream: by position (the history's columns) or, after
    a header line, by name."""

    def __init__(self, columns: list[str], targets: list[str], exog: list[str], sep, decimal):
        self.columns, self.targets, self.exog = columns, targets, exog
        self.sep, self.decimal = sep, decimal
        self.index: dict[str, int] | None = None

    def _number(self, field: str, column: str, line_no: int) -> float:
        text = field.replace(",", ".") if self.decimal == "," else field
        try:
            return float(text)
        except ValueError:
            hint = "; decimal commas? use --decimal ," if "," in field else ""
            raise expected("Stream", f"a number in column '{column}' on stdin line {line_no}",
                           f"{field!r}{hint}") from None

    def read(self, line: str, line_no: int):
        """``(y, exog)`` of one line, or None for the header line."""
        if self.sep is None:
            self.sep = _sniff(line)
        fields = _split(line, self.sep)
        if self.index is None:
            if line_no == 1 and not all(re.match(r"^[-+.,\d eE]+$", f) for f in fields if f):
                self.index = {name: i for i, name in enumerate(fields)}
                missing = [c for c in self.targets + self.exog if c not in self.index]
                if missing:
                    raise expected("Stream", f"column '{missing[0]}' in the stdin header",
                                   "columns " + ", ".join(fields[:8]))
                return None
            self.index = {name: i for i, name in enumerate(self.columns)}
        if self.decimal is None:
            self.decimal = "," if self.sep == ";" and any(
                _DECIMAL_COMMA.match(f) for f in fields) else "."
        width = max(self.index[c] for c in self.targets + self.exog) + 1
        if len(fields) < width:
            raise expected("Stream", f"at least {width} fields on stdin line {line_no}",
                           len(fields))
        value = lambda c: self._number(fields[self.index[c]], c, line_no)
        return [value(c) for c in self.targets], [value(c) for c in self.exog]


def run(args) -> int:
    from lstmkit.forecast.data import load_frame
    from lstmkit.forecast.forecaster import Forecaster
    from lstmkit.registry import load

    model = load(args.model)
    if not isinstance(model, Forecaster):
        raise expected("stream", "a single-series forecaster (a panel model streams from "
                       "Python: GlobalForecaster.stream)", type(model).__name__)
    model.check_streamable("Stream")
    history = load_frame(args.history, sep=args.sep, decimal=args.decimal)
    s = model.stream(history)
    reader = RowReader([str(c) for c in history.columns], s.targets, s.exog, args.sep,
                       args.decimal)
    for line_no, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        row = reader.read(line, line_no)
        if row is None:
            continue
        s.update(*row)
        y = s.forecast_array()[0]  # (K, D)
        out = {"row": int(s.rows_seen[0]),
               **{t: [float(v) for v in y[:, j]] for j, t in enumerate(s.targets)}}
        print(json.dumps(out), flush=True)
    return 0
