"""lstmkit.evaluation: forecast metrics and their aggregation over seeds."""

from lstmkit.evaluation.aggregate import aggregate, format_mmm
from lstmkit.evaluation.metrics import (
    METRIC_NAMES,
    compute_metrics,
    mae,
    mape,
    mase,
    mre,
    mse,
    naive_mae_scale,
    rmse,
    skill,
    smape,
)

__all__ = [
    "METRIC_NAMES",
    "aggregate",
    "compute_metrics",
    "format_mmm",
    "mae",
    "mape",
    "mase",
    "mre",
    "mse",
    "naive_mae_scale",
    "rmse",
    "skill",
    "smape",
]
