"""Insights: findings ranked by money at stake, every figure traceable to the data."""

from __future__ import annotations

import re

import pytest

from opskit import insights as ins
from opskit.catalog import load
from opskit.config import Settings
from opskit.present import fmt

NUMBER = re.compile(r"-?\$?\d[\d,]*(?:\.\d+)?(?:[kMB%])?")


@pytest.fixture(scope="module")
def findings(demo_env: dict[str, str]) -> list:  # type: ignore[type-arg]
    out = []
    out += ins.from_revenue_impact(load("revenue_impact"))
    out += ins.from_churn_signals(load("churn_signals", min_subscribers=0))
    out += ins.from_complaints_topics(load("complaints_topics"))
    out += ins.from_retention_campaigns(load("retention_campaigns"))
    out += ins.from_operational_efficiency(load("operational_efficiency"))
    out += ins.from_streaming_qoe(load("streaming_qoe"))
    return out


def test_every_source_produces_findings(findings: list) -> None:  # type: ignore[type-arg]
    sources = {f.source for f in findings}
    assert {
        "revenue_impact",
        "churn_signals",
        "retention_campaigns",
        "operational_efficiency",
        "streaming_qoe",
    } <= sources


def test_every_number_in_the_text_is_one_of_the_findings_fields(findings: list) -> None:  # type: ignore[type-arg]
    for f in findings:
        allowed = set()
        if f.impact_usd is not None:
            allowed.add(fmt(f.impact_usd, "usd"))
            allowed.add(fmt(f.impact_usd_per_year, "usd"))
        if f.impact_subscribers is not None:
            allowed.add(fmt(f.impact_subscribers, "count"))
        for value, unit in f.evidence.values():
            allowed.add(fmt(value, unit))
        allowed_numbers = {m for a in allowed for m in NUMBER.findall(a)}
        # Numbers quoted in labels (where/title/root cause/action) come from the data too:
        context = " ".join([f.title, f.where, f.root_cause or "", f.action, f.impact_period])
        allowed_numbers |= set(NUMBER.findall(context))
        for number in NUMBER.findall(f.text().split(" [")[0]):
            assert number in allowed_numbers, (
                f"{number!r} in {f.text()!r} does not come from the finding"
            )


def test_findings_are_ranked_by_money_per_year_and_say_demo(findings: list) -> None:  # type: ignore[type-arg]
    ranked = ins.rank(findings)
    money = [f.stake_usd_per_year for f in ranked if f.stake_usd_per_year is not None]
    assert money == sorted(money, reverse=True)
    first_without = next(i for i, f in enumerate(ranked) if f.stake_usd_per_year is None)
    assert all(f.stake_usd_per_year is None for f in ranked[first_without:])
    assert all(f.text().endswith("[demo data]") for f in ranked)
    table = ins.findings_table(ranked)
    assert list(table["provenance"].unique()) == ["demo"]
    assert ins.render_markdown(ranked, limit=3).count("\n") == 2


def test_unsuccessful_campaign_is_flagged_to_stop(settings: Settings) -> None:
    df = load("retention_campaigns", settings=settings)
    stops = [f for f in ins.from_retention_campaigns(df) if f.title.startswith("Stop")]
    expected = df[~df["is_significant"]]["name"].tolist()
    assert sorted(f.title for f in stops) == sorted(f"Stop or redesign '{n}'" for n in expected)


def test_driver_findings_quote_the_dataset_numbers(settings: Settings) -> None:
    df = load("revenue_impact", settings=settings)
    top = ins.from_revenue_impact(df, top=1)[0]
    row = df[df["driver"] != "baseline"].iloc[0]
    assert top.impact_usd == pytest.approx(row["revenue_lost_annual_usd"])
    assert fmt(row["revenue_lost_annual_usd"], "usd") in top.text()
    # the same stake on the ranking basis: the 90-day window scaled to a year
    assert top.impact_usd_per_year == pytest.approx(row["revenue_lost_annual_usd"] * 365 / 90)
    assert f"({fmt(top.impact_usd_per_year, 'usd')} per year)" in top.text()
