"""Every dataset loads from the warehouse, matches its schema and says it is demo data."""

from __future__ import annotations

import pandas as pd
import pytest

import opskit.catalog as catalog
from opskit import provenance
from opskit.config import Settings
from opskit.datasets import REGISTRY, SEED_RESOURCES
from opskit.schemas import columns

ALL = sorted(REGISTRY)


def test_catalog_has_the_nine_seed_resources_and_three_monitoring_feeds() -> None:
    assert [d.name for d in SEED_RESOURCES] == [
        "churn_signals", "complaints_topics", "production_issues", "content_catalog",
        "international_markets", "revenue_impact", "retention_campaigns",
        "operational_efficiency", "pareto_analysis",
    ]  # fmt: skip
    assert {"apm_health", "problems", "streaming_qoe"} <= set(REGISTRY)
    assert len(REGISTRY) == 15  # + subscriber_months, kpi_summary, initiatives (analytic)


@pytest.mark.parametrize("name", ALL)
def test_dataset_loads_validated_with_demo_provenance(name: str, settings: Settings) -> None:
    df = catalog.load(name, settings=settings)
    assert len(df) > 0
    schema = REGISTRY[name].schema.to_schema()
    assert list(df.columns) == columns(REGISTRY[name].schema)
    assert df.columns[-1] == "provenance"
    schema.validate(df)  # already validated by load; re-check independently
    assert set(df["provenance"]) == {"demo"}
    p = provenance.of(df)
    assert p.kind == "demo" and "seed 7" in p.detail
    assert df.attrs["dataset"] == name
    assert p.label().startswith("DEMO DATA")


@pytest.mark.parametrize("name", ALL)
def test_dataset_is_documented(name: str) -> None:
    info = catalog.dataset_info(name)
    assert len(info["summary"]) > 20
    assert info["columns"] and all(isinstance(d, str) for d in info["columns"].values())


def test_datasets_listing_reports_rows_provenance_and_freshness(settings: Settings) -> None:
    df = catalog.datasets(rows=True, settings=settings)
    assert list(df["name"]) == list(REGISTRY)
    assert (df["rows"] > 0).all()
    assert set(df["provenance"]) == {"demo"}
    assert (pd.to_datetime(df["as_of"], utc=True) == pd.Timestamp("2026-11-01", tz="UTC")).all()


def test_missing_warehouse_says_how_to_build_one(clean_env, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from opskit.errors import WarehouseError

    monkeypatch.setenv("OPSKIT_WAREHOUSE_URL", f"duckdb://{clean_env / 'nope.duckdb'}")
    with pytest.raises(WarehouseError, match="opskit demo build"):
        catalog.load("problems")
