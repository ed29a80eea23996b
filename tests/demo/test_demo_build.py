"""The demo business: deterministic, coherent, and with its ground truth recorded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from opskit.demo import build_demo
from opskit.tables import TABLES
from opskit.warehouse import Warehouse


def _hashes(path: Path) -> dict[str, str]:
    with Warehouse(f"duckdb://{path}") as wh:
        return {t: wh.content_hash(t) for t in TABLES if t != "opskit_meta"}


def test_same_seed_gives_identical_tables_and_another_seed_does_not(tmp_path: Path) -> None:
    a, b, c = (tmp_path / f"{n}.duckdb" for n in "abc")
    build_demo(Warehouse(f"duckdb://{a}", read_only=False), seed=11, scale=0.01)
    build_demo(Warehouse(f"duckdb://{b}", read_only=False), seed=11, scale=0.01)
    build_demo(Warehouse(f"duckdb://{c}", read_only=False), seed=12, scale=0.01)
    ha, hb, hc = _hashes(a), _hashes(b), _hashes(c)
    assert ha == hb
    differing = [t for t in ha if ha[t] != hc[t]]
    assert {"subscribers", "viewing_sessions", "apm_metrics", "complaints"} <= set(differing)


def test_every_declared_table_is_written_with_its_declared_columns(demo_path: Path) -> None:
    with Warehouse(f"duckdb://{demo_path}") as wh:
        assert set(wh.tables()) == set(TABLES)
        for name, spec in TABLES.items():
            assert wh.table(name).columns == tuple(spec.columns), name
        meta = wh.meta()
    assert meta["kind"] == "demo" and meta["seed"] == "7"


def test_business_has_the_promised_breadth(demo_path: Path) -> None:
    with Warehouse(f"duckdb://{demo_path}") as wh:
        subs = wh.table("subscribers").to_pandas()
        sessions = wh.table("viewing_sessions")
        cdns = sessions.cdn.nunique().execute()
        isps = subs["isp"].nunique()
        apm = wh.table("apm_metrics")
        services = apm.service.nunique().execute()
        metrics = sorted(apm.select("metric").distinct().to_pandas()["metric"])
        days = wh.table("revenue").date.nunique().execute()
    assert set(subs["plan"]) == {"ad_supported", "ad_free", "annual"}
    assert subs["region"].nunique() >= 5 and subs["primary_device"].nunique() >= 6
    assert cdns >= 3 and isps >= 10
    assert services >= 12
    assert metrics == ["apdex", "error_rate", "latency_p50_ms", "latency_p95_ms", "throughput_rpm"]
    assert days == 365
    # Subscribers grow linearly with scale: full scale has well over 200,000.
    assert len(subs) / 0.05 >= 200_000


def test_ground_truth_is_recorded(demo_path: Path) -> None:
    with Warehouse(f"duckdb://{demo_path}") as wh:
        truth = wh.table("demo_truth").to_pandas()
    kinds = set(truth["kind"])
    assert {"churn_driver", "churn_model", "qoe_incident", "apm_anomaly", "campaign_uplift",
            "production", "revenue"} <= kinds  # fmt: skip
    drivers = truth[truth["kind"] == "churn_driver"].set_index("name")["value"]
    assert {
        "rebuffering_pct",
        "payment_failed",
        "complaint",
        "price_increase",
        "content_gap",
    } <= set(drivers.index)
    auc = truth.query("kind == 'churn_model' and name == 'holdout_auc'")["value"].iloc[0]
    assert 0.6 < auc < 0.9
    anomalies = truth[truth["kind"] == "apm_anomaly"]
    assert (anomalies["start"] < anomalies["end"]).all()


def test_costs_and_delays_are_heavy_tailed_not_hand_tuned(demo_path: Path) -> None:
    with Warehouse(f"duckdb://{demo_path}") as wh:
        issues = wh.table("production_issues").to_pandas()
    overrun = np.sort((issues["actual_cost_usd"] - issues["budget_usd"]).clip(lower=0).to_numpy())[
        ::-1
    ]
    top20 = overrun[: max(1, len(overrun) // 5)].sum() / overrun.sum()
    assert top20 > 0.6  # a few issues hold most of the overrun
    assert issues["key"].is_unique


def test_apm_series_have_daily_seasonality(demo_path: Path) -> None:
    with Warehouse(f"duckdb://{demo_path}") as wh:
        t = wh.table("apm_metrics")
        df = t.filter((t.service == "playback-api") & (t.metric == "throughput_rpm")).to_pandas()
    hourly = df.set_index("timestamp")["value"].groupby(lambda ts: ts.hour).mean()
    assert hourly.max() / hourly.min() > 1.4
    assert hourly.idxmax() in range(18, 24)


def test_sessions_never_start_before_signup_or_after_cancellation(demo_path: Path) -> None:
    with Warehouse(f"duckdb://{demo_path}") as wh:
        s = wh.table("viewing_sessions")
        subs = wh.table("subscribers")
        ev = wh.table("subscriptions")
        cancels = ev.filter(ev.event_type == "cancel").select(
            "subscriber_id", churned_at=ev.event_time
        )
        j = s.join(subs, "subscriber_id").left_join(cancels, "subscriber_id")
        bad = j.filter(
            (j.start_time < j.signup_at) | (j.churned_at.notnull() & (j.start_time >= j.churned_at))
        )
        assert bad.count().execute() == 0
        assert (
            ev.filter(ev.event_type == "cancel").subscriber_id.nunique().execute()
            == ev.filter(ev.event_type == "cancel").count().execute()
        )


def test_bad_scale_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale"):
        build_demo(Warehouse(f"duckdb://{tmp_path / 'x.duckdb'}", read_only=False), scale=0)


def test_failed_build_leaves_the_previous_warehouse_untouched(
    demo_path: Path, tmp_path: Path
) -> None:
    target = tmp_path / "wh.duckdb"
    build_demo(Warehouse(f"duckdb://{target}", read_only=False), seed=3, scale=0.01)
    before = _hashes(target)
    with pytest.raises(ValueError):
        build_demo(
            Warehouse(f"duckdb://{target}", read_only=False), seed=3, scale=0.01, end="not a date"
        )
    assert _hashes(target) == before
    assert not list(tmp_path.glob("*.building"))
