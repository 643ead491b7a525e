"""lstmkit.forecast.data: loading, validation, chronological splits, windowing and scaling.

Typical use::

    from lstmkit.forecast.data import load_frame, prepare
    frame = load_frame("gas-furnace")                    # 296 x [GR, CO2]
    p = prepare(frame, ["GR", "CO2"], ["CO2"], lookback=10, horizon=1, test=100)
    p.train.X  # (M, 10, 2) scaled inputs;  p.train.Y  # (M, 1, 1) scaled targets
"""

from lstmkit.forecast.data.datasets import is_dataset_name, list_datasets, load_dataset
from lstmkit.forecast.data.io import (
    FILLNA_CHOICES,
    fill_missing,
    load_frame,
    read_table,
    select_columns,
)
from lstmkit.forecast.data.scaling import (
    SCALER_KINDS,
    LogScaler,
    MinMaxScaler,
    NoScaler,
    Scaler,
    StandardScaler,
    make_scaler,
    scaler_from_dict,
)
from lstmkit.forecast.data.windows import (
    Prepared,
    Windows,
    last_window,
    make_windows,
    min_rows,
    prepare,
    split_bounds,
    window_all,
)

__all__ = [
    "FILLNA_CHOICES",
    "SCALER_KINDS",
    "LogScaler",
    "MinMaxScaler",
    "NoScaler",
    "Prepared",
    "Scaler",
    "StandardScaler",
    "Windows",
    "fill_missing",
    "is_dataset_name",
    "last_window",
    "list_datasets",
    "load_dataset",
    "load_frame",
    "make_scaler",
    "make_windows",
    "min_rows",
    "prepare",
    "read_table",
    "scaler_from_dict",
    "select_columns",
    "split_bounds",
    "window_all",
]
