"""Metrics and seed aggregation: hand-computed values on tiny examples."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lstmkit.core.aggregate import aggregate, format_mmm
from lstmkit.core.errors import LstmkitError
from lstmkit.forecast.metrics import (
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

# y = [1, 2, 4], ŷ = [2, 2, 3]  ->  e = [1, 0, -1]
Y1 = np.array([1.0, 2.0, 4.0])
P1 = np.array([2.0, 2.0, 3.0])


def test_single_metrics_by_hand():
    assert mae(Y1, P1) == pytest.approx(2 / 3)
    assert mse(Y1, P1) == pytest.approx(2 / 3)
    assert rmse(Y1, P1) == pytest.approx(math.sqrt(2 / 3))
    # |e|/|y| = [1, 0, 0.25]
    assert mre(Y1, P1) == pytest.approx(1.25 / 3)
    assert mape(Y1, P1) == pytest.approx(100 * 1.25 / 3)
    # 200|e|/(|y|+|ŷ|) = [200/3, 0, 200/7]
    assert smape(Y1, P1) == pytest.approx((200 / 3 + 200 / 7) / 3)
    assert mase(Y1, P1, 0.5) == pytest.approx((2 / 3) / 0.5)


def test_smape_zero_over_zero_is_zero():
    y = np.array([0.0, 0.0, 1.0])
    p = np.array([0.0, 1.0, 1.0])
    # terms: 0/0 -> 0, 200*1/1 = 200, 0
    assert smape(y, p) == pytest.approx(200 / 3)
    assert smape(np.zeros(4), np.zeros(4)) == 0.0


def test_mre_zero_target_uses_sklearn_eps():
    y = np.array([0.0, 2.0])
    p = np.array([1.0, 2.0])
    eps = np.finfo(np.float64).eps
    assert mre(y, p) == pytest.approx((1.0 / eps) / 2)
    # a zero target predicted exactly contributes 0
    assert mre(np.array([0.0, 2.0]), np.array([0.0, 1.0])) == pytest.approx(0.25)


def test_naive_mae_scale():
    train = np.array([[1.0, 10.0], [3.0, 10.0], [2.0, 13.0], [6.0, 13.0]])
    # col 0 diffs |2|,|1|,|4| -> 7/3 ; col 1 diffs 0,3,0 -> 1
    np.testing.assert_allclose(naive_mae_scale(train), [7 / 3, 1.0])
    np.testing.assert_allclose(naive_mae_scale(np.array([1.0, 2.0, 4.0])), [1.5])


def test_naive_mae_scale_constant_column_errors():
    train = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]])
    with pytest.raises(LstmkitError, match=r"^MASE scale: expected .*got constant 'b'$"):
        naive_mae_scale(train, names=["a", "b"])
    with pytest.raises(LstmkitError, match="got constant column 1"):
        naive_mae_scale(train)
    with pytest.raises(LstmkitError, match="at least 2 rows"):
        naive_mae_scale(np.ones((1, 2)))


def test_skill():
    assert skill(0.25, 1.0) == pytest.approx(0.75)
    assert skill(2.0, 1.0) == pytest.approx(-1.0)
    with pytest.raises(LstmkitError, match="^Skill: expected a positive finite naive MSE"):
        skill(1.0, 0.0)


def _two_target_example():
    # M=2 windows, K=2 steps, D=2 targets
    y = np.array(
        [
            [[1.0, 10.0], [2.0, 20.0]],
            [[4.0, 0.0], [1.0, 40.0]],
        ]
    )
    p = np.array(
        [
            [[2.0, 10.0], [2.0, 30.0]],
            [[3.0, 0.0], [1.0, 20.0]],
        ]
    )
    return y, p


def test_compute_metrics_per_target_and_overall_pooling():
    y, p = _two_target_example()
    out = compute_metrics(y, p, ["a", "b"], mase_scale=[0.5, 10.0])
    assert list(out) == ["overall", "per_target"]
    assert list(out["per_target"]) == ["a", "b"]
    a, b, o = out["per_target"]["a"], out["per_target"]["b"], out["overall"]
    assert list(o) == list(METRIC_NAMES)

    # target a: y=[1,2,4,1], ŷ=[2,2,3,1], e=[1,0,-1,0]
    assert a["mae"] == pytest.approx(0.5)
    assert a["mse"] == pytest.approx(0.5)
    assert a["rmse"] == pytest.approx(math.sqrt(0.5))
    assert a["mre"] == pytest.approx((1 + 0 + 0.25 + 0) / 4)
    assert a["mape"] == pytest.approx(100 * 1.25 / 4)
    assert a["smape"] == pytest.approx((200 / 3 + 200 / 7) / 4)
    assert a["mase"] == pytest.approx(0.5 / 0.5)

    # target b: y=[10,20,0,40], ŷ=[10,30,0,20], e=[0,10,0,-20]; 0/0 in smape -> 0
    assert b["mae"] == pytest.approx(7.5)
    assert b["mse"] == pytest.approx(125.0)
    assert b["mre"] == pytest.approx((0 + 0.5 + 0 + 0.5) / 4)
    assert b["smape"] == pytest.approx((200 * 10 / 50 + 200 * 20 / 60) / 4)
    assert b["mase"] == pytest.approx(7.5 / 10)

    # overall pools all 8 values, except mase = mean of per-target mase
    assert o["mae"] == pytest.approx((2 + 30) / 8)
    assert o["mse"] == pytest.approx((2 + 500) / 8)
    assert o["rmse"] == pytest.approx(math.sqrt(502 / 8))
    assert o["mre"] == pytest.approx((1.25 + 1.0) / 8)
    assert o["mape"] == pytest.approx(100 * 2.25 / 8)
    assert o["mase"] == pytest.approx((1.0 + 0.75) / 2)
    assert o["mase"] != pytest.approx(o["mae"] / np.mean([0.5, 10.0]))


def test_compute_metrics_plain_floats_and_json():
    y, p = _two_target_example()
    out = compute_metrics(y, p, ["a", "b"], mase_scale=np.array([0.5, 10.0]))
    for row in [out["overall"], *out["per_target"].values()]:
        assert all(type(v) is float for v in row.values())
    assert json.loads(json.dumps(out)) == out


def test_compute_metrics_without_scale_has_mase_none():
    y, p = _two_target_example()
    out = compute_metrics(y, p, ["a", "b"])
    assert out["overall"]["mase"] is None
    assert out["per_target"]["a"]["mase"] is None
    json.dumps(out)


def test_compute_metrics_scale_alias_matches():
    y, p = _two_target_example()
    assert compute_metrics(y, p, ["a", "b"], scale=[0.5, 10.0]) == compute_metrics(
        y, p, ["a", "b"], mase_scale=[0.5, 10.0]
    )
    with pytest.raises(LstmkitError, match="one of mase_scale= or scale="):
        compute_metrics(y, p, ["a", "b"], mase_scale=[1, 1], scale=[1, 1])


def test_compute_metrics_2d_means_k1():
    y, p = _two_target_example()
    out3 = compute_metrics(y[:, :1, :], p[:, :1, :], ["a", "b"], mase_scale=[1.0, 2.0])
    out2 = compute_metrics(y[:, 0, :], p[:, 0, :], ["a", "b"], mase_scale=[1.0, 2.0])
    assert out2 == out3
    # target a at k=0: y=[1,4], ŷ=[2,3]
    assert out2["per_target"]["a"]["mae"] == pytest.approx(1.0)


def test_compute_metrics_errors():
    y, p = _two_target_example()
    with pytest.raises(LstmkitError, match=r"^Metrics: expected y_pred with the shape"):
        compute_metrics(y, p[:, :1], ["a", "b"])
    with pytest.raises(LstmkitError, match=r"^Metrics: expected 2 target names"):
        compute_metrics(y, p, ["a"])
    with pytest.raises(LstmkitError, match=r"expected a MASE scale of shape \(2,\), got \(3\)"):
        compute_metrics(y, p, ["a", "b"], mase_scale=[1.0, 2.0, 3.0])
    with pytest.raises(LstmkitError, match="positive finite MASE scales"):
        compute_metrics(y, p, ["a", "b"], mase_scale=[1.0, 0.0])
    with pytest.raises(LstmkitError, match="expected finite y_true and y_pred"):
        compute_metrics(y, np.where(p > 25, np.nan, p), ["a", "b"])
    with pytest.raises(LstmkitError, match=r"expected y_true of shape \(M, K, D\) or \(M, D\)"):
        compute_metrics(y.ravel(), p.ravel(), ["a"])


def test_aggregate_mean_min_max_std():
    runs = [
        {"overall": {"mae": 1.0, "mase": None}, "per_target": {"a": {"mae": 2.0}}},
        {"overall": {"mae": 3.0, "mase": None}, "per_target": {"a": {"mae": 2.0}}},
        {"overall": {"mae": 2.0, "mase": None}, "per_target": {"a": {"mae": 5.0}}},
    ]
    agg = aggregate(runs)
    leaf = agg["overall"]["mae"]
    assert leaf["mean"] == pytest.approx(2.0)
    assert leaf["min"] == 1.0 and leaf["max"] == 3.0
    assert leaf["std"] == pytest.approx(math.sqrt(2 / 3))  # population std
    assert leaf["values"] == [1.0, 3.0, 2.0]
    assert agg["overall"]["mase"] is None
    assert agg["per_target"]["a"]["mae"]["mean"] == pytest.approx(3.0)
    assert aggregate(runs, ddof=1)["overall"]["mae"]["std"] == pytest.approx(1.0)
    json.dumps(agg)


def test_aggregate_of_compute_metrics():
    y, p = _two_target_example()
    r1 = compute_metrics(y, p, ["a", "b"], mase_scale=[1.0, 1.0])
    r2 = compute_metrics(y, y, ["a", "b"], mase_scale=[1.0, 1.0])
    agg = aggregate([r1, r2])
    assert agg["per_target"]["b"]["mae"]["mean"] == pytest.approx(7.5 / 2)
    assert agg["per_target"]["b"]["mae"]["min"] == 0.0
    single = aggregate([r1])["overall"]["mse"]
    assert single["std"] == 0.0 and single["mean"] == single["min"] == single["max"]


def test_aggregate_errors():
    with pytest.raises(LstmkitError, match="^Aggregate: expected at least one metric dict"):
        aggregate([])
    with pytest.raises(LstmkitError, match="^Aggregate: expected the keys"):
        aggregate([{"a": 1.0}, {"b": 1.0}])
    with pytest.raises(LstmkitError, match="None in some runs"):
        aggregate([{"a": 1.0}, {"a": None}])


def test_format_mmm():
    leaf = aggregate([{"x": 0.0398}, {"x": 0.0431}, {"x": 0.0407}])["x"]
    assert format_mmm(leaf) == "0.0412 [0.0398\u20130.0431]"
    assert format_mmm(leaf, fmt="{:.2f}") == "0.04 [0.04\u20130.04]"
    assert format_mmm(None) == "n/a"


def test_mae_mse_mre_are_sklearns():
    from sklearn.metrics import (
        mean_absolute_error,
        mean_absolute_percentage_error,
        mean_squared_error,
    )

    rng = np.random.default_rng(3)
    yt, yp = rng.normal(size=(40, 3)), rng.normal(size=(40, 3))
    yt[0, 0] = 0.0  # the eps floor of the relative error
    assert mae(yt, yp) == mean_absolute_error(yt.ravel(), yp.ravel())
    assert mse(yt, yp) == mean_squared_error(yt.ravel(), yp.ravel())
    assert mre(yt, yp) == mean_absolute_percentage_error(yt.ravel(), yp.ravel())
    per = compute_metrics(yt[:, None, :], yp[:, None, :], ["a", "b", "c"])["per_target"]
    raw = {"multioutput": "raw_values"}  # per column, summed as scikit-learn sums them
    for j, name in enumerate("abc"):
        assert per[name]["mae"] == mean_absolute_error(yt, yp, **raw)[j]
        assert per[name]["mse"] == mean_squared_error(yt, yp, **raw)[j]
        assert per[name]["mre"] == mean_absolute_percentage_error(yt, yp, **raw)[j]
