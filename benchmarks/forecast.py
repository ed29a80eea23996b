"""Benchmark: rolling-origin MASE of ETSForecaster vs seasonal naive, and interval coverage.

Series:

* demo revenue and subscribers: daily, from a demo warehouse built for the run
  (``--scale``, seed 7); 6 origins x 28 days, 14 days apart;
* NAB realTraffic and realAWSCloudwatch CPU series (``../shared/data/nab``), resampled
  to hourly means; the longest stretch without a gap over 3 hours is used (traffic
  sensors have long outages); 5 origins x 24 hours.

MASE scale: in-sample MAE of the one-cycle-back forecast (7 days / 24 hours).
``rel MAE`` < 1 means ETS beats seasonal naive on the same origins.

Run: ``python -m benchmarks.forecast [--scale 0.2] [--level 0.8]`` (markdown to stdout).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import pandas as pd

from opskit.analytics.forecast import ETSForecaster, backtest, revenue_series
from opskit.config import load_settings
from opskit.demo import build_demo
from opskit.warehouse import Warehouse

NAB = Path(__file__).resolve().parents[2] / "shared" / "data" / "nab"
NAB_FILES = sorted(
    [*NAB.glob("realTraffic/*.csv"), *NAB.glob("realAWSCloudwatch/*cpu_utilization*.csv")]
)


def hourly_stretch(path: Path, max_gap_hours: int = 3) -> pd.Series:
    """Hourly means of a NAB file, longest stretch with gaps of at most ``max_gap_hours``."""
    raw = pd.read_csv(path, parse_dates=["timestamp"]).set_index("timestamp")["value"]
    s = raw.resample("1h").mean()
    present = s.notna().to_numpy()
    best, start, last = (0, 0), None, None
    for i, ok in enumerate(present):
        if not ok:
            continue
        if start is None or i - last > max_gap_hours:  # type: ignore[operator]
            start = i
        last = i
        if i - start > best[1] - best[0]:
            best = (start, i)
    return s.iloc[best[0] : best[1] + 1]


def row(
    name: str,
    series: pd.Series,
    horizon: int,
    origins: int,
    step: int,
    level: float,
    adjust: str | None = None,
) -> str:
    t0 = time.perf_counter()
    res = backtest(
        series,
        {"ets": ETSForecaster(adjust=adjust)},
        horizon=horizon,
        origins=origins,
        step=step,
        level=level,
    )
    s = res.tables["summary"].set_index("model")
    ets, base = s.loc["ets"], s.loc["seasonal_naive"]
    label = res.frame.loc[res.frame["model"] == "ets", "label"].iloc[-1]
    win = "yes" if ets["relative_mae"] < 1 else "no"
    return (
        f"| {name} | {len(series)} | {label} | {ets['mase']:.3f} | {base['mase']:.3f} | "
        f"{ets['relative_mae']:.3f} | {win} | {ets['coverage']:.0%} | {base['coverage']:.0%} | "
        f"{time.perf_counter() - t0:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--level", type=float, default=0.8)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(f"# Forecast backtest (interval level {args.level:.0%})\n")
    print(
        "| series | points | ETS model (last origin) | MASE ETS | MASE snaive | rel MAE | "
        "beats snaive | coverage ETS | coverage snaive | s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        build_demo(Warehouse(f"duckdb://{path}", read_only=False), seed=7, scale=args.scale)
        settings = load_settings(warehouse_url=f"duckdb://{path}")
        for measure in ("revenue", "subscribers"):
            series = revenue_series(settings, measure=measure)
            adjust = "days_in_month" if measure == "revenue" else None
            print(
                row(f"demo {measure} (scale {args.scale})", series, 28, 6, 14, args.level, adjust),
                flush=True,
            )
    if not NAB_FILES:
        print("\nNAB data not found at", NAB)
        return
    for path in NAB_FILES:
        series = hourly_stretch(path)
        if len(series) < 24 * 8:
            print(
                f"| NAB {path.parent.name}/{path.stem} | {len(series)} | too short after "
                "removing gaps over 3 h | | | | | | | |"
            )
            continue
        print(row(f"NAB {path.parent.name}/{path.stem}", series, 24, 5, 24, args.level), flush=True)


if __name__ == "__main__":
    main()
