"""The causal rolling statistics equal pandas' own, including on ties and short prefixes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opskit.analytics.anomaly import _rolling as roll


@pytest.mark.parametrize("q", [0.999, 0.99, 0.9, 0.75, 0.5, 0.25, 0.01, 0.001])
@pytest.mark.parametrize("n", [1, 7, 150, 3_000])
@pytest.mark.parametrize("min_periods", [1, 20, 100])
def test_expanding_order_statistic_equals_pandas(q: float, n: int, min_periods: int) -> None:
    rng = np.random.default_rng(n)
    v = np.round(rng.standard_t(2, size=n), 1)  # heavy tails and many ties
    ours = roll._expanding_order_stat(v, q, min_periods)
    theirs = pd.Series(v).expanding(min_periods).quantile(q, interpolation="higher").to_numpy()
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("window", [5, 200, 8_000])
def test_past_quantile_uses_only_the_previous_window(window: int) -> None:
    v = np.random.default_rng(3).exponential(size=1_000)
    mp = min(10, window)
    ours = roll.past_quantile(v, window, 0.999, min_periods=mp)
    theirs = (
        pd.Series(v).rolling(window, min_periods=mp).quantile(0.999, interpolation="higher").shift()
    )
    np.testing.assert_array_equal(ours, theirs.to_numpy())
