"""The long format: what a panel is made of, and every bad input refused in one line that
names the series (from Python and from the CLI: exit 2, nothing written)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from panels import synthetic_panel

from lstmkit.cli.main import main
from lstmkit.core.errors import LstmkitError
from lstmkit.forecast.panel.frame import Columns, calendar_features, make_panel


def test_series_are_split_sorted_and_keep_their_dates():
    df = synthetic_panel(3).sample(frac=1.0, random_state=1)  # shuffled rows
    p = make_panel(df, Columns(futr=("promo",), static=("region",)))
    assert p.ids == ["s0", "s1", "s2"]
    assert [len(v) for v in p.y] == [110, 117, 124]
    assert p.freq.freqstr == "W-SUN"
    for d in p.ds:
        assert (np.diff(d) == np.timedelta64(7, "D")).all()  # sorted, weekly
    first = df[df.unique_id == "s1"].sort_values("ds")
    np.testing.assert_array_equal(p.y[1], first.y.to_numpy())
    np.testing.assert_array_equal(p.futr[1][:, 0], first.promo.to_numpy())
    assert p.static[:, 0].tolist() == [0.0, 1.0, 0.0]
    nxt = p.future_dates(2)[0]
    assert pd.Timestamp(nxt[0]) == pd.Timestamp(p.ds[0][-1]) + pd.Timedelta(weeks=1)


def test_a_plain_table_with_a_time_column_is_one_series():
    df = pd.DataFrame({"ds": np.arange(5, 25), "y": np.arange(20.0)})
    p = make_panel(df)
    assert p.ids == ["series"] and p.freq == 1 and len(p.y[0]) == 20


def test_blank_targets_at_the_end_are_future_rows_with_their_covariates():
    df = synthetic_panel(2)
    last = df.groupby("unique_id").tail(3).index
    df.loc[last, "y"] = np.nan  # the next 3 weeks: known promotions, unknown sales
    p = make_panel(df, Columns(futr=("promo",)))
    assert [len(v) for v in p.y] == [107, 114]
    ft, fv = p.future[0]
    assert len(ft) == 3 and fv.shape == (3, 1)


def test_gaps_are_filled_on_request():
    df = synthetic_panel(2).drop(index=[20, 21])
    p = make_panel(df, fillna="interpolate")
    assert len(p.y[0]) == 110 and np.isfinite(p.y[0]).all()


@pytest.mark.parametrize("freq,starts", [
    ("h", ["2024-01-01 00:00", "2024-01-01 00:30", "2024-01-02 05:00"]),  # another phase
    ("W-SUN", ["2020-01-05", "2021-03-07", "2019-12-29"]),  # anchored, other starts
    ("MS", ["2020-01-01", "2020-06-01", "2018-02-01"]),
])
def test_every_series_is_read_on_its_own_grid_of_the_step(freq, starts):
    # the panel-wide grid is a shortcut only: each series reads exactly its own timestamps,
    # whatever its phase, and a gap is still found and named where it is
    rows = []
    for i, start in enumerate(starts):
        ds = pd.date_range(start, periods=20 + 5 * i, freq=freq)
        rows.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": np.arange(len(ds))}))
    df = pd.concat(rows, ignore_index=True)
    p = make_panel(df, freq=freq)
    for i, d in enumerate(p.ds):
        want = df[df.unique_id == f"s{i}"].ds.to_numpy()
        assert np.array_equal(d, want)
        assert np.array_equal(p.future_dates(3)[i],
                              pd.date_range(want[-1], periods=4, freq=freq)[1:].to_numpy())
    gap = df.drop(index=df.index[df.unique_id == "s1"][7])
    missing = df[df.unique_id == "s1"].ds.iloc[7]
    with pytest.raises(LstmkitError, match=f"a gap in series 's1' at {missing}"):
        make_panel(gap, freq=freq)


def test_calendar_features_are_bounded_and_follow_the_dates():
    ds = pd.date_range("2024-01-01", periods=14, freq="D").to_numpy()
    f = calendar_features(ds, ("dayofweek", "month"))
    assert f.shape == (14, 2) and f.min() >= -0.5 and f.max() <= 0.5
    assert f[0, 0] == f[7, 0] and f[0, 0] != f[1, 0]  # Mondays alike


# ---------------------------------------------------------------------- bad input
def _refused(df, match, **kw):
    with pytest.raises(LstmkitError, match=match) as err:
        make_panel(df, **kw)
    assert "\n" not in str(err.value)


def test_missing_columns_are_named():
    _refused(synthetic_panel(2).drop(columns="y"), "column 'y'")
    _refused(synthetic_panel(2), "column 'price'", cols=Columns(futr=("price",)))


def test_unparseable_dates_name_the_column_and_the_first_bad_value():
    df = synthetic_panel(2).astype({"ds": object})
    df.loc[5, "ds"] = "2021-13-45"
    _refused(df, "dates or integers in column 'ds', got '2021-13-45'")


def test_mixed_frequencies_need_freq():
    a = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2021-01-01", periods=30, freq="D"),
                      "y": 1.0})
    b = pd.DataFrame({"unique_id": "b", "ds": pd.date_range("2021-01-03", periods=30,
                                                            freq="W-SUN"), "y": 1.0})
    _refused(pd.concat([a, b]), "one frequency across series")


def test_duplicates_gaps_text_targets_and_varying_statics_name_the_series():
    df = synthetic_panel(2)
    _refused(pd.concat([df, df.iloc[[130]]]), "series 's1' twice")
    _refused(df.drop(index=[20]), "a gap in series 's0'")
    bad = df.astype({"y": object})
    bad.loc[150, "y"] = "n/a"
    _refused(bad, "numbers in target column 'y', got 'n/a' in series 's1'")
    comma = df.astype({"y": object})
    comma.loc[3, "y"] = "1,5"
    _refused(comma, "--decimal ,")
    vary = df.copy()
    vary.loc[200, "region"] = 7.0
    _refused(vary, "static column 'region' constant within each series",
             cols=Columns(static=("region",)))


# ---------------------------------------------------------------------- the CLI
def _cli_refuses(capsys, tmp_path, argv, match):
    out = tmp_path / "run"
    code = main([*argv, "--out", str(out), "--epochs", "1", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and match in err, err
    assert not out.exists()


def _csv(tmp_path, df, name="panel.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return str(path)


def test_cli_bad_panels(capsys, tmp_path):
    df = synthetic_panel(3)
    fit = ["fit", "--horizon", "4", "--lookback", "8"]
    short = df[(df.unique_id != "s1") | (df.ds < df.ds.min() + pd.Timedelta(weeks=12))]
    _cli_refuses(capsys, tmp_path, [*fit, "--data", _csv(tmp_path, short)],
                 "series of at least 16 observations (lookback 8 + horizon 4 + test 4), got "
                 "series 's1'")
    _cli_refuses(capsys, tmp_path, [*fit, "--data", _csv(tmp_path, df), "--target", "sales"],
                 "column 'sales'")
    _cli_refuses(capsys, tmp_path, [*fit, "--data", _csv(tmp_path, df), "--static", "promo"],
                 "static column 'promo'")
    _cli_refuses(capsys, tmp_path, [*fit, "--data", _csv(tmp_path, df), "--stride", "2"],
                 "--stride, for one series only")
    one = pd.DataFrame({"a": np.arange(40.0)})
    _cli_refuses(capsys, tmp_path, ["fit", "--data", _csv(tmp_path, one, "one.csv"),
                                    "--season", "12"], "long-format data")
    test = df.groupby("unique_id").tail(4).replace({"unique_id": {"s2": "zz"}})
    _cli_refuses(capsys, tmp_path, [*fit, "--data", _csv(tmp_path, df), "--test", "4",
                                    "--test-data", _csv(tmp_path, test, "test.csv")],
                 "--test 0 with --test-data")
    _cli_refuses(capsys, tmp_path, [*fit, "--data", _csv(tmp_path, df), "--test-data",
                                    _csv(tmp_path, test, "test.csv")],
                 "the same series in the test table")
