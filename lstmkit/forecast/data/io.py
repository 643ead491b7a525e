"""Loading tables and validating the columns a model uses.

* :func:`load_frame` turns a bundled dataset name, a CSV/Parquet path, a DataFrame or a
  NumPy array into a fresh :class:`pandas.DataFrame` with string column names.
* :func:`select_columns` pulls the feature or target columns out as a float64 array
  ``(N, C)``, refusing missing, non-numeric and non-finite values with a one-line message.
* :func:`fill_missing` repairs NaN/inf values (``ffill``, ``interpolate`` or ``drop``).

Row numbers in messages are 0-based positions of data rows (the header is not counted).
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lstmkit.core.errors import LstmkitError, expected, shape_str
from lstmkit.forecast.data.datasets import DATASETS, is_dataset_name, load_dataset

__all__ = ["FILLNA_CHOICES", "fill_missing", "load_frame", "read_table", "select_columns"]

FILLNA_CHOICES = ("ffill", "interpolate", "drop")
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")
_FILLNA_HINT = "fix with --fillna ffill|interpolate|drop"
_SHOW_ROWS = 5


# --------------------------------------------------------------------------- loading


def load_frame(source, fillna: str | None = None, *, sep: str | None = None,
               decimal: str | None = None, **params) -> pd.DataFrame:
    """Load ``source`` as a new DataFrame.

    Parameters
    ----------
    source
        A bundled dataset name (``"gas-furnace"``, ``"fibonacci:n=40"``, ``"sine"``; see
        :func:`lstmkit.forecast.data.list_datasets`), a path (str or Path) to a ``.csv/.txt/.tsv``
        or ``.parquet/.pq`` file, a DataFrame or Series (copied), or a NumPy array
        (1-d -> one column ``y``; 2-d ``(N, C)`` -> columns ``x0, x1, ...``).
    fillna
        ``None`` (default: leave NaN/inf for :func:`select_columns` to report), or
        ``"ffill"``, ``"interpolate"``, ``"drop"`` applied to every numeric column (see
        :func:`fill_missing`; to repair only the columns you use, call it yourself).
    sep, decimal
        A text file's field separator and decimal mark (default: sniffed; the Brazilian
        spreadsheet convention, ``;`` between fields and decimal commas, is recognised).
    **params
        Options of a bundled dataset, e.g. ``load_frame("fibonacci", n=40)``.
    """
    if params and not is_dataset_name(source):
        raise expected("Data", "dataset options only with a bundled dataset name", repr(source))
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
    elif isinstance(source, pd.Series):
        frame = source.to_frame(name=source.name if source.name is not None else "y")
    elif isinstance(source, np.ndarray):
        frame = _frame_from_array(source)
    elif is_dataset_name(source):
        frame = load_dataset(source, **params)
    elif isinstance(source, str) and not _looks_like_path(source):
        raise expected(
            "Data",
            f"a bundled dataset name ({', '.join(DATASETS)}) or an existing file",
            repr(source),
        )
    elif isinstance(source, (str, os.PathLike)):
        frame = read_table(source, sep=sep, decimal=decimal)
    else:
        raise expected(
            "Data",
            "a dataset name, a file path, a DataFrame or a NumPy array",
            type(source).__name__,
        )
    frame.columns = [str(c) for c in frame.columns]
    _check_frame(frame, _describe(source))
    if fillna is not None:
        frame = fill_missing(frame, None, fillna)
    return frame


def _looks_like_path(source: str) -> bool:
    """An existing path, or a name with a directory part or a file suffix."""
    p = Path(source)
    return p.exists() or p.suffix != "" or os.sep in source or "/" in source


def _describe(source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return f"'{os.fspath(source)}'"
    return f"the {type(source).__name__}"


def _frame_from_array(a: np.ndarray) -> pd.DataFrame:
    if a.ndim == 1:
        return pd.DataFrame({"y": a})
    if a.ndim == 2:
        return pd.DataFrame(a, columns=[f"x{i}" for i in range(a.shape[1])])
    raise expected("Data", "a 1-d (N,) or 2-d (N, C) array", f"shape {shape_str(a.shape)}")


def _check_frame(frame: pd.DataFrame, where: str) -> None:
    if frame.shape[1] == 0:
        raise expected("Data", f"at least one column in {where}", "none")
    if frame.shape[0] == 0:
        raise expected("Data", f"at least one data row in {where}", "0 rows")
    seen: set[str] = set()
    for c in frame.columns:
        if c in seen:
            raise expected("Data", f"unique column names in {where}", f"'{c}' twice")
        seen.add(c)


def read_table(path, sep: str | None = None, decimal: str | None = None) -> pd.DataFrame:
    """Read a CSV-like (``.csv/.txt/.tsv``) or Parquet (``.parquet/.pq``) file.

    The delimiter of text files is sniffed among ``, ; tab |`` (``.tsv``: tab), falling
    back to runs of whitespace, unless ``sep`` is given. The decimal mark is ``.``, or ``,``
    when ``decimal=","`` or when the file follows the ``;`` + decimal-comma convention of
    Brazilian (and most European) spreadsheets; a file that only reads with decimal commas is
    never read silently another way: it is refused with the hint. Duplicate column names are
    refused. A header row whose every name is a number is taken to be data: the columns are
    then named ``y`` (one column) or ``x0, x1, ...``.
    """
    if sep is not None and (not isinstance(sep, str) or sep == "" or "\n" in sep):
        raise expected("Data", "a field separator such as ';' or ','", repr(sep))
    if decimal not in (None, ".", ","):
        raise expected("Data", "decimal '.' or ','", repr(decimal))
    p = Path(path)
    if not p.exists():
        raise expected("Data", "an existing file", f"'{p}' (no such file)")
    if not p.is_file():
        raise expected("Data", "a file", f"'{p}' (a directory)" if p.is_dir() else f"'{p}'")
    suffix = p.suffix.lower()
    if suffix not in TEXT_SUFFIXES + PARQUET_SUFFIXES:
        kinds = ", ".join(TEXT_SUFFIXES + PARQUET_SUFFIXES)
        raise expected("Data", f"a table file ({kinds})", f"'{p}'")
    if p.stat().st_size == 0:
        raise expected("Data", f"a table in '{p}'", "an empty file")
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(p)
    return _read_text(p, sep, decimal)


def _unreadable(p: Path, err: Exception) -> LstmkitError:
    text = " ".join(str(err).split()) or type(err).__name__
    if len(text) > 120:
        text = text[:117] + "..."
    return expected("Data", f"a readable table in '{p}'", f"a parse error ({text})")


def _read_parquet(p: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(p)
    except ImportError:
        raise expected(
            "Data", "pyarrow or fastparquet to read Parquet (pip install pyarrow)", "neither"
        ) from None
    except Exception as err:  # pyarrow raises many types for a corrupt file
        raise _unreadable(p, err) from None


_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*$")  # 1,5  -0,25


def _read_text(p: Path, sep: str | None = None, decimal: str | None = None) -> pd.DataFrame:
    with open(p, "rb") as fh:
        head = fh.read(65536)
    if b"\x00" in head:
        raise expected("Data", f"a text table in '{p}'", "a binary file")
    try:
        sample = head.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        if err.start < len(head) - 4:  # not just a character cut at the sample's end
            raise expected("Data", f"a UTF-8 text table in '{p}'", "undecodable bytes") from None
        sample = head[: err.start].decode("utf-8-sig")
    lines = [ln for ln in sample.splitlines() if ln.strip()][:50]
    if not lines:
        raise expected("Data", f"a table in '{p}'", "only blank lines")
    sep = sep or _sniff_sep(lines, p.suffix.lower())
    if decimal is None:  # the `;` + decimal-comma convention, recognised
        cells = [c for ln in lines[1:] for c in ln.split(sep)] if sep == ";" else []
        decimal = "," if cells and any(_DECIMAL_COMMA.match(c) for c in cells) else "."
    kwargs = {"sep": sep, "encoding": "utf-8-sig", "skipinitialspace": sep != r"\s+",
              "decimal": decimal}
    _check_header(p, lines, sep, decimal)
    try:
        frame = pd.read_csv(p, **kwargs)
        if frame.shape[1] and all(_is_number(c) for c in frame.columns):
            frame = pd.read_csv(p, header=None, **kwargs)
            n = frame.shape[1]
            frame.columns = ["y"] if n == 1 else [f"x{i}" for i in range(n)]
    except pd.errors.EmptyDataError:
        raise expected("Data", f"a table in '{p}'", "no columns") from None
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, csv.Error) as err:
        raise _unreadable(p, err) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _check_header(p: Path, lines: list[str], sep: str, decimal: str) -> None:
    """Refuse duplicate column names (pandas would rename them ``a.1``) and rows with more
    fields than names (pandas would silently make the extra leading fields an index: what a
    column of decimal commas in a comma-separated file turns into)."""
    if len(sep) != 1:
        return  # the whitespace rule: pandas counts the fields itself
    rows = list(csv.reader(lines, delimiter=sep, skipinitialspace=True))
    names = [c.strip() for c in rows[0]]
    dup = next((c for i, c in enumerate(names) if c in names[:i]), None)
    if dup is not None:
        raise expected("Data", f"unique column names in '{p}'", f"'{dup}' twice")
    wider = next((k for k, r in enumerate(rows[1:], 1) if len(r) > len(names)), None)
    if wider is not None:
        hint = ("decimal commas? use --decimal , (and --sep ;)" if sep == "," and
                decimal == "." else "check the separator (--sep)")
        raise expected("Data", f"at most {len(names)} fields per row (the column names) in "
                       f"'{p}'", f"{len(rows[wider])} in data row {wider}; {hint}")


def _sniff_sep(lines: list[str], suffix: str) -> str:
    if suffix == ".tsv":
        return "\t"
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        pass
    if len(lines[0].split()) > 1:
        return r"\s+"
    return ","


def _is_number(name: object) -> bool:
    try:
        float(str(name))
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- validation


def _name_list(columns, role: str) -> list[str]:
    names = [columns] if isinstance(columns, str) else list(columns or [])
    if not names:
        raise expected("Data", f"at least one {role} column", "none")
    seen: set[str] = set()
    for c in names:
        if c in seen:
            raise expected("Data", f"distinct {role} columns", f"'{c}' twice")
        seen.add(c)
    return names


def _resolve(frame: pd.DataFrame, name, role: str):
    if name in frame.columns:
        return name
    if str(name) in frame.columns:
        return str(name)
    available = [str(c) for c in frame.columns]
    shown = ", ".join(available[:20])
    if len(available) > 20:
        shown += f", ... ({len(available)} in all)"
    raise expected("Data", f"{role} column present in the data (available: {shown})", f"'{name}'")


def _rows_text(rows: np.ndarray) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:_SHOW_ROWS])
    more = f" and {len(rows) - _SHOW_ROWS} more" if len(rows) > _SHOW_ROWS else ""
    word = "row" if len(rows) == 1 else "rows"
    return f"{word} {shown}{more} (0-based)"


def _is_date(value) -> bool:
    try:
        pd.Timestamp(str(value))
    except (ValueError, TypeError, OverflowError):
        return False
    return not _DECIMAL_COMMA.match(str(value)) and any(c in str(value) for c in "-/:")


def _numeric(series: pd.Series, name: str, role: str) -> np.ndarray:
    """``series`` as float64 ``(N,)``; NaN/inf pass through (checked by the caller)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or (
        pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)
    ):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        raise expected("Data", f"numeric values in {role} column '{name}'", f"{dtype} values "
                       "(timestamps: name the column ds, or use --time-col / GlobalForecaster, "
                       "which read dated long-format tables)")
    coerced = pd.to_numeric(series, errors="coerce")
    bad = np.flatnonzero(coerced.isna().to_numpy() & series.notna().to_numpy())
    if bad.size or pd.api.types.is_complex_dtype(coerced.dtype):
        row = int(bad[0]) if bad.size else 0
        value = series.iloc[row]
        hint = ("; decimal commas? use --decimal , (load_frame(..., decimal=','))"
                if _DECIMAL_COMMA.match(str(value)) else
                f"; dates? use --time-col {name} (GlobalForecaster(...).fit(df, "
                f"time_col='{name}'))" if _is_date(value) else "")
        raise expected(
            "Data",
            f"numeric values in {role} column '{name}'",
            f"{str(value)[:40]!r} at row {row} (0-based){hint}",
        )
    return coerced.to_numpy(dtype=np.float64, na_value=np.nan)


def select_columns(frame: pd.DataFrame, columns, role: str = "feature") -> np.ndarray:
    """Return ``frame[columns]`` as float64 ``(N, len(columns))``.

    ``role`` ("feature", "target", ...) names the columns in messages. Raises
    :class:`LstmkitError` for an empty or repeated list, a missing column (listing the
    available ones), a non-numeric column, or NaN/inf values (with the first row numbers
    and the ``--fillna`` hint).
    """
    names = _name_list(columns, role)
    out = np.empty((len(frame), len(names)), dtype=np.float64)  # (N, C)
    for j, name in enumerate(names):
        key = _resolve(frame, name, role)
        col = _numeric(frame[key], str(name), role)
        bad = np.flatnonzero(~np.isfinite(col))
        if bad.size:
            isnan = np.isnan(col[bad])
            kind = "NaN" if isnan.all() else ("inf" if not isnan.any() else "NaN/inf")
            raise expected(
                "Data",
                f"finite numbers in {role} column '{name}'",
                f"{kind} at {_rows_text(bad)}; {_FILLNA_HINT}",
            )
        out[:, j] = col
    return out


def fill_missing(
    frame: pd.DataFrame, columns: Sequence[str] | str | None = None, how: str = "ffill"
) -> pd.DataFrame:
    """Return a copy of ``frame`` with NaN/inf in ``columns`` repaired.

    ``columns=None`` means every numeric column. ``how``:

    * ``"ffill"``: carry the last finite value forward (a leading gap takes the first
      finite value, i.e. a backward fill).
    * ``"interpolate"``: linear in the row position; gaps at either end take the nearest
      finite value.
    * ``"drop"``: drop every row with a NaN/inf in ``columns``; the index is reset to
      ``0..N'-1`` so that row numbers stay positional.
    """
    if how not in FILLNA_CHOICES:
        raise expected("Data", f"fillna {', '.join(FILLNA_CHOICES[:-1])} or drop", repr(how))
    if columns is None:
        names = [
            c
            for c in frame.columns
            if pd.api.types.is_numeric_dtype(frame[c].dtype)
            and not pd.api.types.is_bool_dtype(frame[c].dtype)
            and not pd.api.types.is_complex_dtype(frame[c].dtype)
        ]
    else:
        names = [_resolve(frame, c, "data") for c in _name_list(columns, "data")]
    out = frame.copy()
    bad_rows = np.zeros(len(frame), dtype=bool)
    for name in names:
        col = _numeric(out[name], str(name), "data").copy()
        bad = ~np.isfinite(col)
        if not bad.any():
            continue
        if bad.all():
            raise expected("Data", f"a finite value in column '{name}' to fill from", "none")
        bad_rows |= bad
        col[bad] = np.nan
        s = pd.Series(col, index=out.index)
        if how == "ffill":
            out[name] = s.ffill().bfill()
        elif how == "interpolate":
            out[name] = s.interpolate(method="linear", limit_direction="both")
        else:
            out[name] = s
    if how == "drop":
        out = out.loc[~bad_rows].reset_index(drop=True)
    return out
