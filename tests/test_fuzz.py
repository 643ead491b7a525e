"""Property: any small table gives either one clean LstmkitError or a finite fit whose
predictions are finite (hypothesis draws the tables, written as CSV with `,` or `;`)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import lstmkit
from lstmkit.core.errors import LstmkitError

VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.floats(min_value=-1e3, max_value=1e3),
    st.integers(min_value=-10**6, max_value=10**6),
    st.sampled_from(["", "x", "1,5", "nan", "1e400"]),
)


@st.composite
def tables(draw):
    n_cols = draw(st.integers(1, 3))
    smooth = draw(st.booleans())  # half the tables are clean series, so fits happen too
    n_rows = draw(st.integers(30, 80) if smooth else st.integers(0, 70))
    cols = {}
    for j in range(n_cols):
        if smooth:
            t = np.arange(n_rows)
            cols[f"c{j}"] = np.sin(t / (3 + j)) * draw(st.floats(0.1, 100))
        else:
            cols[f"c{j}"] = draw(st.lists(VALUES, min_size=n_rows, max_size=n_rows))
    return pd.DataFrame(cols)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.data_too_large])
@given(table=tables(), sep=st.sampled_from([",", ";"]), lookback=st.integers(1, 6),
       horizon=st.integers(1, 3), test=st.sampled_from([0.2, 5, 0]))
def test_a_table_fits_cleanly_or_is_refused_in_one_line(tmp_path_factory, table, sep,
                                                        lookback, horizon, test):
    path = tmp_path_factory.mktemp("fuzz") / "t.csv"
    table.to_csv(path, index=False, sep=sep)
    model = lstmkit.LSTMForecaster(lookback=lookback, horizon=horizon, hidden_size=3,
                                   epochs=1, workers=1, progress=False)
    try:
        model.fit(path, test=test)
        forecast = model.predict(path)
    except LstmkitError as err:
        event(f"refused: {str(err)[:60]}")
        text = str(err)
        assert "\n" not in text and ": expected " in text and ", got " in text
        return
    event("fitted")
    assert forecast.shape == (horizon, len(model.targets_))
    assert np.isfinite(forecast.to_numpy()).all()
    assert all(math.isfinite(r["train_loss"]) for r in model.histories_[0])
