"""Provenance: every frame says live, cache (with age) or demo; demo never passes as live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from opskit.provenance import Provenance, attach, combine, of

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_combining_takes_the_weakest_kind() -> None:
    live = Provenance("live", ("newrelic",), NOW)
    cache = Provenance("cache", ("jira",), NOW, fetched_at=NOW - timedelta(minutes=7))
    demo = Provenance("demo", ("warehouse",), NOW)
    assert combine([live, cache]).kind == "cache"
    assert combine([live, cache, demo]).kind == "demo"
    assert combine([live]).kind == "live"
    assert combine([live, demo]).systems == ("newrelic", "warehouse")


def test_labels_say_demo_and_cache_age_plainly() -> None:
    assert (
        Provenance("demo", ("warehouse",), NOW)
        .label()
        .startswith("DEMO DATA (synthetic, not live)")
    )
    cache = Provenance("cache", ("jira",), NOW, fetched_at=NOW - timedelta(minutes=7))
    assert "7 min old" in cache.label(now=NOW)
    assert Provenance("live", ("newrelic",), NOW).label().startswith("LIVE data from newrelic")


def test_attach_sets_column_and_attrs_and_round_trips() -> None:
    df = attach(
        pd.DataFrame({"x": [1, 2]}), Provenance("demo", ("warehouse",), NOW, detail="seed 7")
    )
    assert df["provenance"].tolist() == ["demo", "demo"]
    assert list(df["provenance"].cat.categories) == ["demo", "cache", "live"]
    back = of(df)
    assert back.kind == "demo" and back.detail == "seed 7" and back.as_of == NOW
    assert of(df.copy()).kind == "demo"


def test_unknown_kind_and_missing_provenance_are_rejected() -> None:
    with pytest.raises(ValueError, match="provenance kind"):
        Provenance("real", ("x",), NOW)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="carries no provenance"):
        of(pd.DataFrame({"x": [1]}))
    with pytest.raises(ValueError):
        combine([])
