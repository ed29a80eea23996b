"""Service health: alerts line up with the incidents planted in the demo APM series."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from opskit import health
from opskit.config import Settings
from opskit.health import service_health
from opskit.warehouse import Warehouse


def test_planted_incidents_are_alerted_on_the_right_service(
    settings: Settings, demo_path: Path
) -> None:
    result = service_health(settings=settings, start="2026-10-27", end="2026-11-01")
    with Warehouse(f"duckdb://{demo_path}") as wh:
        truth = wh.table("demo_truth").to_pandas()
    events = truth[(truth["kind"] == "apm_anomaly") & (truth["name"] != "level_shift")]
    events = events[events["start"] >= pd.Timestamp("2026-10-27", tz="UTC")]
    alerts = result.tables["alerts"]
    slack = pd.Timedelta(minutes=10)
    found = [
        (
            (alerts["entity"] == e.subject)
            & (alerts["start"] <= e.end + slack)
            & (alerts["end"] >= e.start - slack)
        ).any()
        for e in events.itertuples()
    ]
    assert len(found) >= 3
    assert sum(found) / len(found) >= 0.7
    frame = result.frame
    assert list(frame["status"].map({"critical": 0, "degraded": 1, "healthy": 2})) == sorted(
        frame["status"].map({"critical": 0, "degraded": 1, "healthy": 2})
    )
    assert result.provenance.kind == "demo"
    assert all(f.text().endswith("[demo data]") for f in result.findings)
    assert "opskit-provenance" in result._repr_html_()
    spec = result.chart().to_dict()
    assert "layer" in spec


def test_the_scan_is_reused_for_the_same_input_and_redone_for_new_input(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = {"start": "2026-10-29", "end": "2026-10-31", "settings": settings}
    first = service_health(**window)
    calls: list[int] = []
    real_detect = health.detect

    def counting_detect(*args: Any, **kwargs: Any) -> pd.DataFrame:
        calls.append(1)
        return real_detect(*args, **kwargs)

    monkeypatch.setattr(health, "detect", counting_detect)
    again = service_health(**window)
    assert calls == []  # read from the memo store
    pd.testing.assert_frame_equal(again.tables["anomalies"], first.tables["anomalies"])
    pd.testing.assert_frame_equal(again.frame, first.frame)
    assert again.provenance == first.provenance
    service_health(**window, cache=False)
    assert calls == [1]
    service_health(start="2026-10-29", end="2026-10-30 12:00", settings=settings)
    assert calls == [1, 1]  # other series: scanned


# -- one status rule ---------------------------------------------------------------------------
def test_a_service_with_a_problem_open_at_the_window_end_is_critical_never_healthy(
    settings: Settings,
) -> None:
    from opskit.catalog import load

    problems = load("problems", settings=settings, start="2026-10-20")
    closed = problems[problems["end_time"].notna() & (problems["duration_min"] >= 10)].iloc[0]
    end = closed["start_time"] + (closed["end_time"] - closed["start_time"]) / 2  # mid-problem
    result = service_health(settings=settings, start=end - pd.Timedelta(days=2), end=end)
    row = result.frame.set_index("entity").loc[closed["entity"]]
    assert row["status"] == "critical" and row["open_problems"] >= 1
    assert closed["display_id"] in row["status_reason"] and "open since" in row["status_reason"]


def test_status_counts_and_reasons_follow_the_one_rule(settings: Settings) -> None:
    result = service_health(settings=settings, start="2026-10-25", end="2026-11-01")
    frame = result.frame
    assert result.summary["critical_services"] == int((frame["status"] == "critical").sum())
    assert result.summary["degraded_services"] == int((frame["status"] == "degraded").sum())
    assert result.summary["open_problems"] == int(frame["open_problems"].sum())
    healthy = frame[frame["status"] == "healthy"]
    assert (healthy["alerts"] == 0).all() and (healthy["problems"] == 0).all()  # nothing happened
    degraded = frame[frame["status"] == "degraded"]
    assert ((degraded["alerts"] > 0) | (degraded["problems"] > 0)).all()
    assert (degraded["open_problems"] == 0).all()
    assert frame["status_reason"].str.len().gt(10).all()
    assert health.STATUS_RULE in " ".join(result.notes)
    assert "worst_severity" not in frame.columns  # the alert severity is not a status
