"""Long-format panels: ``unique_id, ds, y`` plus exogenous columns (the Nixtla convention).

A :class:`Panel` holds many series, each sorted by time on a regular grid, as plain arrays:
its target, its timestamps (datetimes, or integers), its future-known (*futr*) and past-only
(*hist*) covariates, and one row of *static* features. :func:`make_panel` builds one from a
DataFrame and refuses, in one line that names the series, what cannot be forecast honestly:
a missing column, dates that do not parse, duplicate ``(unique_id, ds)``, gaps (unless
``fillna`` fills them), mixed frequencies (unless ``freq`` is given), a non-numeric target,
a static column that varies within a series.

Rows at the end of a series whose target is blank are its *future* rows: they carry the
future-known covariates of the forecast horizon (:attr:`Panel.future`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from lstmkit.core.errors import expected


@dataclass(frozen=True)
class Columns:
    """Which columns play which part (``--id-col``, ``--time-col``, ``--target``, ...)."""

    id_col: str = "unique_id"
    time_col: str = "ds"
    target: str = "y"
    futr: tuple = ()
    hist: tuple = ()
    static: tuple = ()

    def used(self) -> list[str]:
        return [self.id_col, self.time_col, self.target, *self.futr, *self.hist, *self.static]


@dataclass
class Panel:
    """Series ``ids[i]``: target ``y[i]`` (n_i,), timestamps ``ds[i]`` (n_i,), covariates
    ``futr[i]`` (n_i, F_futr) and ``hist[i]`` (n_i, F_hist); ``static`` (S, F_static);
    ``future[i]``: (timestamps, futr values) of rows after the last target (may be empty)."""

    ids: list[str]
    y: list[np.ndarray]
    ds: list[np.ndarray]
    futr: list[np.ndarray]
    hist: list[np.ndarray]
    static: np.ndarray
    freq: object  # a pandas offset for dates, an integer step for integer ds
    columns: Columns
    future: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(v) for v in self.y])

    @property
    def is_datetime(self) -> bool:
        return not isinstance(self.freq, (int, np.integer))

    def head(self, n_back: int) -> Panel:
        """The panel without the last ``n_back`` points of every series (a chronological
        split); their timestamps and future-known covariates become its future rows."""
        if n_back == 0:
            return self
        cut = lambda arrs: [a[: len(a) - n_back] for a in arrs]
        future = [(d[len(d) - n_back:], f[len(f) - n_back:])
                  for d, f in zip(self.ds, self.futr, strict=True)]
        return replace(self, y=cut(self.y), ds=cut(self.ds), futr=cut(self.futr),
                       hist=cut(self.hist), future=future)

    def subset(self, keep) -> Panel:
        """The panel of series ``keep`` (indices)."""
        pick = lambda arrs: [arrs[i] for i in keep]
        return replace(self, ids=pick(self.ids), y=pick(self.y), ds=pick(self.ds),
                       futr=pick(self.futr), hist=pick(self.hist), static=self.static[list(keep)],
                       future=pick(self.future) if self.future else [])

    def tail(self, n_back: int) -> list[np.ndarray]:
        """The last ``n_back`` target points of every series."""
        return [a[len(a) - n_back:] for a in self.y]

    def future_dates(self, horizon: int) -> list[np.ndarray]:
        """The ``horizon`` timestamps after each series' last one. One ``date_range`` per
        distinct last timestamp, not per series: the series of a panel mostly end together,
        and 1,000 calls were 80% of a 1,000-series forecast."""
        if not self.is_datetime:
            return [d[-1] + self.freq * np.arange(1, horizon + 1) for d in self.ds]
        made: dict = {}
        out = []
        for d in self.ds:
            last = d[-1]
            if last not in made:
                made[last] = pd.date_range(pd.Timestamp(last), periods=horizon + 1,
                                           freq=self.freq)[1:].to_numpy()
            out.append(made[last].copy())
        return out

    def check_length(self, minimum: int, why: str) -> None:
        short = [(k, len(v)) for k, v in zip(self.ids, self.y, strict=True) if len(v) < minimum]
        if short:
            k, n = min(short, key=lambda t: t[1])
            more = f" (and {len(short) - 1} more)" if len(short) > 1 else ""
            raise expected("Panel", f"series of at least {minimum} observations ({why})",
                           f"series '{k}' with {n}{more}")


def is_panel(frame: pd.DataFrame, cols: Columns) -> bool:
    """Whether ``frame`` is long-format: it has the id column, or the time column."""
    names = {str(c) for c in frame.columns}
    return cols.id_col in names or cols.time_col in names


def make_panel(frame: pd.DataFrame, cols: Columns = Columns(), *, freq=None,
               fillna: str | None = None) -> Panel:
    """Validate a long-format DataFrame and split it into series (see the module doc).

    A table without the id column is one series (id ``series``); ``freq`` (a pandas alias
    such as ``W-SUN``, or an integer step) overrides the inferred frequency; ``fillna``
    (``ffill`` or ``interpolate``) fills gaps and blank values instead of refusing them.
    """
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    if cols.id_col not in frame.columns:
        frame[cols.id_col] = "series"
    missing = [c for c in cols.used() if c not in frame.columns]
    if missing:
        raise expected("Panel", f"column '{missing[0]}' (set the columns with --id-col, "
                       "--time-col, --target and the covariate options)",
                       "columns " + ", ".join(map(str, frame.columns[:8])))
    if fillna not in (None, "ffill", "interpolate"):
        raise expected("Panel", "fillna ffill or interpolate for a panel (dropping rows "
                       "would leave gaps)", repr(fillna))
    frame[cols.id_col] = frame[cols.id_col].astype(str)
    frame[cols.time_col] = _parse_time(frame[cols.time_col], cols.time_col)
    frame[cols.target] = _numeric(frame, cols.target, cols, "target", blank_ok=True)
    for c in (*cols.futr, *cols.hist, *cols.static):
        frame[c] = _numeric(frame, c, cols, "covariate", blank_ok=True)
    dup = frame.duplicated([cols.id_col, cols.time_col])
    if dup.any():
        row = frame[dup].iloc[0]
        raise expected("Panel", "one row per (unique_id, ds)",
                       f"series '{row[cols.id_col]}' twice at {row[cols.time_col]}")
    frame = frame.sort_values([cols.id_col, cols.time_col], kind="stable")
    is_dt = pd.api.types.is_datetime64_any_dtype(frame[cols.time_col])
    groups = list(frame.groupby(cols.id_col, sort=False))
    step = _frequency(groups, cols, freq, is_dt)
    grid = _TimeGrid(frame[cols.time_col].to_numpy(), step, is_dt)
    series = [_one_series(k, g, cols, grid, fillna) for k, g in groups]
    static = _static(groups, cols)
    return Panel(ids=[s[0] for s in series], y=[s[1] for s in series],
                 ds=[s[2] for s in series], futr=[s[3] for s in series],
                 hist=[s[4] for s in series], static=static, freq=step, columns=cols,
                 future=[s[5] for s in series])


# ---------------------------------------------------------------------- columns
def _parse_time(col: pd.Series, name: str) -> pd.Series:
    if pd.api.types.is_integer_dtype(col) or pd.api.types.is_datetime64_any_dtype(col):
        return col
    if pd.api.types.is_float_dtype(col) and col.notna().all() and (col % 1 == 0).all():
        return col.astype("int64")
    parsed = pd.to_datetime(col, errors="coerce", format="mixed")
    bad = parsed.isna()
    if bad.any():
        first = col[bad].iloc[0]
        raise expected("Panel", f"dates or integers in column '{name}'",
                       f"{first!r} (row {int(np.flatnonzero(bad.to_numpy())[0])})")
    return parsed


def _numeric(frame, name, cols, role, blank_ok) -> pd.Series:
    col = frame[name]
    if pd.api.types.is_bool_dtype(col):
        return col.astype(float)
    values = pd.to_numeric(col, errors="coerce")
    bad = values.isna() & col.notna() & (col.astype(str).str.strip() != "")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        hint = " (decimal commas? use --decimal ,)" if "," in str(col.iloc[i]) else ""
        raise expected("Panel", f"numbers in {role} column '{name}'",
                       f"{col.iloc[i]!r} in series '{frame[cols.id_col].iloc[i]}'{hint}")
    return values.astype(float)


def _frequency(groups, cols: Columns, freq, is_dt):
    """The panel's one frequency: ``freq`` if given, else inferred per series."""
    if freq is not None:
        if not is_dt:
            try:
                return int(freq)
            except (TypeError, ValueError):
                raise expected("Panel", "an integer --freq for integer timestamps",
                               repr(freq)) from None
        try:
            return pd.tseries.frequencies.to_offset(freq)
        except ValueError:
            raise expected("Panel", "a pandas frequency such as D, W-SUN, MS or h",
                           repr(freq)) from None
    found: dict = {}
    fallback = None  # a series with gaps: its most common step, if no series says better
    for key, g in groups:
        t = g[cols.time_col]
        if len(t) < 2:
            continue
        if is_dt:
            f = pd.infer_freq(t) if len(t) >= 3 else None
            if f is None:
                fallback = fallback or pd.tseries.frequencies.to_offset(
                    t.diff().dropna().mode().iloc[0])
                continue
            f = pd.tseries.frequencies.to_offset(f)
        else:
            f = int(np.diff(t.to_numpy()).min())
        found.setdefault(f.freqstr if is_dt else f, (key, f))
    if len(found) > 1:
        (k1, f1), (k2, f2) = list(found.values())[:2]
        raise expected("Panel", "one frequency across series (or --freq)",
                       f"{_show(f1)} in '{k1}' and {_show(f2)} in '{k2}'")
    if found:
        return next(iter(found.values()))[1]
    if fallback is not None:
        return fallback
    return pd.tseries.frequencies.to_offset("D") if is_dt else 1


class _TimeGrid:
    """The timestamps of ``step`` from the panel's first to its last, made once: a series
    that starts on them takes its slice (a ``pd.date_range`` per series was half the time
    of reading a 1,000-series weekly panel). A series in another phase of the step, or a
    panel whose span holds far more steps than it has rows, gets its own ``date_range``."""

    def __init__(self, times: np.ndarray, step, is_dt: bool):
        self.step, self.is_dt, self.all = step, is_dt, None
        if is_dt and len(times):
            lo, hi = pd.Timestamp(times.min()), pd.Timestamp(times.max())
            one = (lo + step) - lo  # the first step's length (an anchored step: at most it)
            if one > pd.Timedelta(0) and (hi - lo) / one <= 10 * len(times) + 10_000:
                self.all = pd.date_range(lo, hi, freq=step).to_numpy()

    def between(self, first, last) -> np.ndarray:
        """The step's timestamps from ``first`` to ``last``: ``pd.date_range(first, last)``."""
        if not self.is_dt:
            return np.arange(first, last + 1, self.step)
        a = self.all
        if a is not None:
            i = int(np.searchsorted(a, first))
            if i < len(a) and a[i] == first:
                return a[i : int(np.searchsorted(a, last, side="right"))]
        return pd.date_range(first, last, freq=self.step).to_numpy()


def _one_series(key, g, cols, times: _TimeGrid, fillna):
    t = g[cols.time_col].to_numpy()
    grid = times.between(t[0], t[-1])
    step = times.step
    if not np.isin(t, grid).all():
        raise expected("Panel", f"timestamps on one grid of step {_show(step)}",
                       f"an off-grid timestamp in series '{key}' (set --freq)")
    if len(grid) != len(t):
        if fillna is None:
            gap = grid[~np.isin(grid, t)][0]
            raise expected("Panel", "regular timestamps (or --fillna ffill|interpolate)",
                           f"a gap in series '{key}' at {_show(gap)}")
        g = g.set_index(cols.time_col).reindex(grid).rename_axis(cols.time_col).reset_index()
        t = g[cols.time_col].to_numpy()
    y = g[cols.target].to_numpy(float)
    observed = np.flatnonzero(~np.isnan(y))
    if observed.size == 0:
        raise expected("Panel", "observed target values", f"none in series '{key}'")
    end = observed[-1] + 1  # rows after the last observed target are future rows
    future = (t[end:], g[list(cols.futr)].to_numpy(float)[end:])
    g = g.iloc[:end]
    t = t[:end]
    values = g[[cols.target, *cols.futr, *cols.hist]]
    if values.isna().to_numpy().any() or not np.isfinite(values.to_numpy(float)).all():
        if fillna is None:
            col = values.columns[values.isna().any().to_numpy()][0] \
                if values.isna().any().any() else cols.target
            raise expected("Panel", "no blank or infinite values (or --fillna ffill|"
                           "interpolate)", f"one in column '{col}' of series '{key}'")
        values = values.replace([np.inf, -np.inf], np.nan)
        values = values.ffill().bfill() if fillna == "ffill" else \
            values.interpolate(limit_direction="both")
    y = values[cols.target].to_numpy(float)
    futr = values[list(cols.futr)].to_numpy(float).reshape(len(y), len(cols.futr))
    hist = values[list(cols.hist)].to_numpy(float).reshape(len(y), len(cols.hist))
    return str(key), y, t, futr, hist, future


def _static(groups, cols: Columns) -> np.ndarray:
    rows = []
    for key, g in groups:
        row = []
        for c in cols.static:
            vals = g[c].dropna().unique()
            if len(vals) != 1:
                raise expected("Panel", f"static column '{c}' constant within each series",
                               f"{len(vals)} values in series '{key}'")
            row.append(float(vals[0]))
        rows.append(row)
    return np.asarray(rows, dtype=float).reshape(len(groups), len(cols.static))


def _show(v) -> str:
    if isinstance(v, np.datetime64):
        return str(pd.Timestamp(v))
    return getattr(v, "freqstr", str(v))


def to_long(ids, ds, values: dict[str, list[np.ndarray]], cols: Columns) -> pd.DataFrame:
    """Long-format frame ``unique_id, ds, <name>...`` from per-series arrays."""
    n = [len(d) for d in ds]
    out = {cols.id_col: np.repeat(np.asarray(ids, dtype=object), n),
           cols.time_col: np.concatenate(ds) if ds else np.array([])}
    for name, arrs in values.items():
        out[name] = np.concatenate(arrs) if arrs else np.array([])
    return pd.DataFrame(out)


_CALENDAR_PERIODS = {"hour": ("hour", 24, 0), "dayofweek": ("dayofweek", 7, 0),
                     "day": ("day", 31, 1), "week": ("isocalendar_week", 53, 1),
                     "month": ("month", 12, 1), "quarter": ("quarter", 4, 1),
                     "dayofyear": ("dayofyear", 366, 1)}


def calendar_features(ds: np.ndarray, kinds: tuple) -> np.ndarray:
    """(n, len(kinds)) calendar features of timestamps ``ds``, each in [-0.5, 0.5]."""
    if not kinds:
        return np.zeros((len(ds), 0))
    if not np.issubdtype(np.asarray(ds).dtype, np.datetime64):
        raise expected("Panel", "dates in the time column for calendar features",
                       "integer timestamps")
    idx = pd.DatetimeIndex(ds)
    cols = []
    for k in kinds:
        attr, period, first = _CALENDAR_PERIODS[k]
        v = idx.isocalendar().week.to_numpy(float) if attr == "isocalendar_week" else \
            getattr(idx, attr).to_numpy(float)
        cols.append((v - first) / max(period - 1, 1) - 0.5)
    return np.stack(cols, axis=1)
