"""The result cache: stable keys, memoised warehouse loads, atomic entries."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hybrid_support import MakeSettings

import opskit.warehouse
from opskit import provenance as prov
from opskit.cache import ResultCache, cache_key, memo_scope, settings_scope
from opskit.catalog import load
from opskit.demo import build_demo
from opskit.warehouse import Warehouse

HEAVY = ("churn_signals", "revenue_impact", "pareto_analysis")


def test_keys_are_stable_and_normalised() -> None:
    a = cache_key("problems", {"start": pd.Timestamp("2026-10-01"), "status": "OPEN", "x": None})
    b = cache_key("problems", {"status": "OPEN", "start": "2026-10-01T00:00:00+00:00"})
    assert a == b and len(a) == 32
    assert a != cache_key("problems", {"status": "CLOSED", "start": "2026-10-01T00:00:00+00:00"})
    assert a != cache_key("problems", {"status": "OPEN", "start": "2026-10-01"}, source="dt")


@pytest.mark.parametrize("name", HEAVY)
def test_memoised_loads_return_identical_frames(
    name: str, make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings()
    cold = load(name, settings=settings, cache=False)
    assert not list(ResultCache.for_settings(settings).entries(purpose="memo"))
    first = load(name, settings=settings)
    with caplog.at_level(logging.INFO, "opskit.catalog"):
        memo = load(name, settings=settings)
    assert "memoised" in caplog.text
    pd.testing.assert_frame_equal(cold, first)
    pd.testing.assert_frame_equal(cold, memo)
    assert memo.attrs == cold.attrs and prov.of(memo).kind == "demo"  # memo is not 'cache'


def test_memo_is_invalidated_when_the_warehouse_is_rebuilt(
    make_settings: MakeSettings, demo_path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "copy.duckdb"
    shutil.copy(demo_path, path)
    settings = make_settings(warehouse_url=f"duckdb://{path}")
    before = load("revenue_impact", settings=settings)
    build_demo(Warehouse(f"duckdb://{path}", read_only=False), seed=8, scale=0.01)
    with caplog.at_level(logging.INFO, "opskit.catalog"):
        after = load("revenue_impact", settings=settings)
    assert "memoised" not in caplog.text
    pd.testing.assert_frame_equal(after, load("revenue_impact", settings=settings, cache=False))
    assert not before.drop(columns="provenance").equals(after.drop(columns="provenance"))
    entries = list(ResultCache.for_settings(settings).entries("revenue_impact", purpose="memo"))
    assert len(entries) == 1  # the stale entry of the old build was dropped


def test_settings_scope_is_read_once_per_warehouse_build(
    make_settings: MakeSettings, demo_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "copy.duckdb"
    shutil.copy(demo_path, path)
    settings = make_settings(warehouse_url=f"duckdb://{path}")
    first = settings_scope(settings)
    with Warehouse(f"duckdb://{path}") as wh:
        assert first == memo_scope(wh)
    opened: list[str] = []
    real_open = opskit.warehouse.open_warehouse

    def counting_open(s: Any) -> Warehouse:
        opened.append(s.resolved_warehouse_url)
        return real_open(s)

    monkeypatch.setattr(opskit.warehouse, "open_warehouse", counting_open)
    assert settings_scope(settings) == first and opened == []  # the same file: not reopened
    build_demo(Warehouse(f"duckdb://{path}", read_only=False), seed=8, scale=0.01)
    assert settings_scope(settings) != first and len(opened) == 1  # a rebuild: a new scope


def _frame(i: int, n: int = 5_000) -> pd.DataFrame:
    frame = pd.DataFrame({"i": np.full(n, i), "x": np.arange(n, dtype=float) * i})
    return prov.attach(
        frame, prov.Provenance(kind="live", systems=("jira",), as_of=pd.Timestamp.now(tz="UTC"))
    )


def test_concurrent_readers_never_see_a_half_written_entry(tmp_path: Path) -> None:
    store = ResultCache(tmp_path / "cache")
    key = cache_key("production_issues", {"project": "OPS"})
    store.put(key, _frame(0), dataset="production_issues", filters={}, system="jira")
    stop = threading.Event()
    errors: list[str] = []

    def write() -> None:
        for i in range(1, 60):
            store.put(key, _frame(i), dataset="production_issues", filters={}, system="jira")
        stop.set()

    def read() -> None:
        seen = 0
        while not stop.is_set() or seen == 0:
            hit = store.get(key, dataset="production_issues")
            if hit is None:
                errors.append("entry vanished")
                return
            i = int(hit.frame["i"].iloc[0])
            if len(hit.frame) != hit.entry.rows or not (hit.frame["i"] == i).all():
                errors.append(f"torn read of version {i}")
            seen += 1

    threads = [threading.Thread(target=write), *(threading.Thread(target=read) for _ in range(2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    folder = tmp_path / "cache" / "live" / "production_issues"
    assert sorted(p.suffix for p in folder.iterdir()) == [".json", ".parquet"]  # no temp files
    assert int(store.get(key, dataset="production_issues").frame["i"].iloc[0]) == 59


def test_a_failed_write_keeps_the_previous_entry(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = ResultCache(tmp_path)
    store.put("k", _frame(1), dataset="problems", filters={}, system="dynatrace")
    bad = _frame(2).assign(obj=[object()] * 5_000)  # parquet cannot hold this column
    with caplog.at_level(logging.WARNING):
        assert store.put("k", bad, dataset="problems", filters={}, system="dynatrace") is None
    assert "could not cache" in caplog.text
    hit = store.get("k", dataset="problems")
    assert hit is not None and int(hit.frame["i"].iloc[0]) == 1
    meta = json.loads((tmp_path / "live" / "problems" / "k.json").read_text())
    assert meta["system"] == "dynatrace" and meta["provenance"]["kind"] == "live"
    assert len(list((tmp_path / "live" / "problems").iterdir())) == 2
    assert store.clear() == 1 and store.get("k", dataset="problems") is None


def test_freshest_ignores_ttl(tmp_path: Path) -> None:
    store = ResultCache(tmp_path)
    old = pd.Timestamp("2020-01-01", tz="UTC").to_pydatetime()
    store.put("k", _frame(3), dataset="problems", filters={}, system="dynatrace", fetched_at=old)
    assert store.get("k", dataset="problems", max_age=300) is None
    hit = store.freshest("problems", "k")
    assert hit is not None and hit.entry.fetched_at == old
    assert store.freshest("problems").entry.key == "k"  # type: ignore[union-attr]


def test_prune_keeps_only_the_newest_entries(tmp_path: Path) -> None:
    store = ResultCache(tmp_path)
    for i in range(5):
        store.put(
            f"k{i}", _frame(i, 10), dataset="scan", filters={}, system="opskit", purpose="memo"
        )
    assert store.prune("scan", purpose="memo", keep=2) == 3
    kept = sorted(e.key for e in store.entries("scan", purpose="memo"))
    assert kept == ["k3", "k4"]
    assert len(list((tmp_path / "memo" / "scan").glob("*.parquet"))) == 2
    assert store.prune("scan", purpose="memo", keep=2) == 0
