"""Benchmark: rolling-origin MASE of opskit's forecasts vs seasonal naive and statsmodels, and coverage.

For the demo revenue, opskit's default is the model ``forecast_revenue`` chooses by
backtest (``choose_forecaster``); the peer is what a data scientist writes in a few lines:
statsmodels ``ETSModel`` with an additive damped trend and an additive weekly season,
fitted on the raw series. Every model is scored on the same origins.

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
import warnings
from pathlib import Path

import pandas as pd
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from opskit.analytics.forecast import BaseForecaster, ETSForecaster, backtest, revenue_series
from opskit.analytics.forecast.revenue import candidate_forecasters, choose_forecaster
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


class StatsmodelsETS(BaseForecaster):
    """The peer: statsmodels ETS(A,Ad,A) with a fixed season, nothing chosen, no adjustment."""

    name = "statsmodels_ets"
    _param_names = ("period",)

    def __init__(self, *, period: int = 7) -> None:
        super().__init__(period=period)

    def _check_params(self) -> None:
        pass

    def _fit_core(self, series: pd.Series) -> None:
        model = ETSModel(series, error="add", trend="add", damped_trend=True, seasonal="add",
                         seasonal_periods=self.period)  # fmt: skip
        with warnings.catch_warnings():  # the peer as a data scientist runs it: warnings not shown
            warnings.simplefilter("ignore")
            self.result_ = model.fit(disp=False, maxiter=200)
        self.model_ = f"statsmodels ETS(A,Ad,A)[{self.period}]"

    def _predict_core(self, horizon: int, level: float):  # type: ignore[no-untyped-def]
        n = int(self.result_.nobs)
        frame = self.result_.get_prediction(start=n, end=n + horizon - 1).summary_frame(
            alpha=1 - level
        )
        return (frame["mean"].to_numpy(float), frame["pi_lower"].to_numpy(float),
                frame["pi_upper"].to_numpy(float))  # fmt: skip


def peer_rows(
    name: str, series: pd.Series, horizon: int, origins: int, step: int, level: float
) -> str:
    """opskit's chosen model, the other candidate and the statsmodels peer on the same origins."""
    t0 = time.perf_counter()
    chosen, _ = choose_forecaster(series, money=True, level=level)
    models = {"opskit default": chosen, **{f"opskit {k}": v for k, v in candidate_forecasters().items()},
              "statsmodels ETS(A,Ad,A)[7]": StatsmodelsETS(period=7)}  # fmt: skip
    res = backtest(series, models, horizon=horizon, origins=origins, step=step, level=level)
    s = res.tables["summary"].set_index("model")
    base = s.loc["seasonal_naive"]
    out = []
    for model, r in s.iterrows():
        label = res.frame.loc[res.frame["model"] == model, "label"].iloc[-1]
        out.append(
            f"| {name} | {model} | {label} | {r['mase']:.3f} | {r['relative_mae']:.3f} | "
            f"{1 - r['mase'] / base['mase']:+.0%} | {r['coverage']:.0%} |"
        )
    out.append(f"| {name} | (all models) | | | | | {time.perf_counter() - t0:.1f} s |")
    return "\n".join(out)


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
    print(f"# Forecast backtest (interval level {args.level:.0%})")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        build_demo(Warehouse(f"duckdb://{path}", read_only=False), seed=7, scale=args.scale)
        settings = load_settings(warehouse_url=f"duckdb://{path}", home=tmp)
        revenue = revenue_series(settings, measure="revenue")
        print(
            "\n## Demo revenue: opskit against its peers (28 days ahead, 6 origins 14 days apart)\n"
        )
        print(
            "| series | model | fitted as | MASE | rel MAE vs snaive | MASE better than snaive | coverage |"
        )
        print("|---|---|---|---|---|---|---|")
        print(
            peer_rows(f"demo revenue (scale {args.scale})", revenue, 28, 6, 14, args.level),
            flush=True,
        )
        print("\n## Every series: ETSForecaster vs seasonal naive\n")
        print(
            "| series | points | ETS model (last origin) | MASE ETS | MASE snaive | rel MAE | "
            "beats snaive | coverage ETS | coverage snaive | s |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
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
