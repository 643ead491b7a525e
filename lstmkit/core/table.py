"""The one text-table formatter: every report lstmkit prints (forecasts, classifiers, checks,
experiments) is a title, a header, a rule and aligned rows."""

from __future__ import annotations


def format_table(header, rows, title: str = "", align: str | None = None) -> str:
    """Columns padded to their widest cell, two spaces apart, a dashed rule under the header.

    ``align``: one character per column, ``<`` (left, the default) or ``>`` (right).
    """
    header = [str(h) for h in header]
    rows = [[str(c) for c in r] for r in rows]
    align = align or "<" * len(header)
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def line(cells) -> str:
        return "  ".join(c.rjust(w) if a == ">" else c.ljust(w)
                         for c, w, a in zip(cells, widths, align, strict=True)).rstrip()

    out = [title] if title else []
    out += [line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]
    return "\n".join(out)
