"""ETS beats seasonal naive on real NAB CPU series (skipped without the shared data)."""

from __future__ import annotations

import pandas as pd
import pytest

from opskit.analytics.forecast import ETSForecaster, backtest
from tests.conftest import SHARED_DATA

NAB = SHARED_DATA / "nab" / "realAWSCloudwatch"
SERIES = ["ec2_cpu_utilization_53ea38", "rds_cpu_utilization_cc0c53"]


@pytest.mark.skipif(not NAB.exists(), reason="shared NAB data not available")
@pytest.mark.parametrize("name", SERIES)
def test_ets_beats_seasonal_naive_on_nab_cpu(name):
    raw = pd.read_csv(NAB / f"{name}.csv", parse_dates=["timestamp"]).set_index("timestamp")
    series = raw["value"].resample("1h").mean()
    res = backtest(series, {"ets": ETSForecaster(trend=None)}, horizon=24, origins=4)
    summary = res.tables["summary"].set_index("model")
    assert summary.loc["ets", "relative_mae"] < 1.0
