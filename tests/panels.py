"""Small synthetic long-format panels for the panel tests: seasonal series with trend, level
shifts, a promotion covariate of known effect, different lengths and start dates."""

from __future__ import annotations

import numpy as np
import pandas as pd


def synthetic_panel(n_series: int = 5, seed: int = 0, promo_effect: float = 0.0,
                    dates: bool = True, base_len: int = 110, noise: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_series):
        n = base_len + 7 * i  # different lengths
        t = np.arange(n)
        level = 100 + 25 * i + 0.15 * t + np.where(t > n // 2, 8.0 * (i % 3 - 1), 0.0)  # shifts
        season = 6 * np.sin(2 * np.pi * t / 12)
        promo = (rng.random(n) < 0.25).astype(float)
        y = level + season + promo_effect * promo + noise * rng.standard_normal(n)
        ds = pd.date_range("2021-01-03", periods=n + 3 * i, freq="W-SUN")[3 * i:] if dates \
            else np.arange(10 * i, 10 * i + n)  # different start dates
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": y, "promo": promo,
                                    "region": float(i % 2)}))
    return pd.concat(frames, ignore_index=True)
