"""Every dataset gives the same frame on PostgreSQL as on DuckDB.

One demo warehouse (seed 7, scale 0.02) is built into a DuckDB file and into a database
on the throwaway server (``conftest.py``); each dataset is then loaded from both through
``opskit.load`` with its own project home, so memoised results never cross engines.
"Same" means: the same columns and dtypes, the same rows in the same order once sorted
by the non-float columns, non-float values equal, missing values in the same places and
floats within 1e-9 relative.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import opskit
from opskit.catalog import datasets as catalog_datasets
from opskit.config import Settings, load_settings
from opskit.demo import build_demo
from opskit.tables import TABLES
from opskit.warehouse import Warehouse
from tests.engines.conftest import PostgresServer

SEED, SCALE = 7, 0.02
RTOL = 1e-9
HASHED_ROWS = 20_000  # larger tables are compared through the datasets built on them
DATASETS = sorted(catalog_datasets()["name"])

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engines(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Settings]]:
    """Settings for the same demo warehouse on DuckDB and on PostgreSQL."""
    root = tmp_path_factory.mktemp("engines")
    urls = {
        "duckdb": f"duckdb://{root / 'opskit.duckdb'}",
        "postgres": postgres_server.create_database("opskit_conformance"),
    }
    for url in urls.values():
        with Warehouse(url, read_only=False) as target:
            build_demo(target, seed=SEED, scale=SCALE)
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("OPSKIT_")]:
            mp.delenv(key)
        yield {
            engine: load_settings(home=root / f"home-{engine}", warehouse_url=url)
            for engine, url in urls.items()
        }


def assert_same_frame(duck: pd.DataFrame, pg: pd.DataFrame) -> None:
    """The conformance rule in the module docstring (raises AssertionError with the column)."""
    assert list(duck.columns) == list(pg.columns)
    assert duck.dtypes.to_dict() == pg.dtypes.to_dict()
    assert len(duck) == len(pg)
    floats = [c for c in duck.columns if pd.api.types.is_float_dtype(duck[c])]
    keys = [c for c in duck.columns if c not in floats]
    if keys:
        duck = duck.sort_values(keys, kind="stable", na_position="first")
        pg = pg.sort_values(keys, kind="stable", na_position="first")
    duck, pg = duck.reset_index(drop=True), pg.reset_index(drop=True)
    pd.testing.assert_frame_equal(duck[keys], pg[keys], check_exact=True)
    for c in floats:
        a, b = duck[c].to_numpy(dtype=float), pg[c].to_numpy(dtype=float)
        missing = np.isnan(a) != np.isnan(b)
        assert not missing.any(), (
            f"{c}: missing in one engine only at rows {np.flatnonzero(missing)[:5]}"
        )
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=0, equal_nan=True, err_msg=c)


# opskit_meta differs by design: it records when each build ran.
@pytest.mark.parametrize("table", sorted(set(TABLES) - {"opskit_meta"}))
def test_base_table_loads_identically(engines: dict[str, Settings], table: str) -> None:
    """Same row count everywhere; same content hash for tables small enough to sort quickly."""
    counts, hashes = {}, {}
    for engine, s in engines.items():
        with Warehouse(s.resolved_warehouse_url) as wh:
            counts[engine] = int(wh.table(table).count().execute())
            if counts[engine] <= HASHED_ROWS:
                hashes[engine] = wh.content_hash(table)
    assert counts["duckdb"] == counts["postgres"]
    assert hashes.get("duckdb") == hashes.get("postgres")


@pytest.mark.parametrize("name", DATASETS)
def test_dataset_is_the_same_on_postgres_as_on_duckdb(
    engines: dict[str, Settings], name: str
) -> None:
    frames = {engine: opskit.load(name, settings=s) for engine, s in engines.items()}
    assert len(frames["duckdb"]) > 0
    assert_same_frame(frames["duckdb"], frames["postgres"])


@pytest.mark.parametrize(
    "change",
    [
        lambda f: f.assign(value=f["value"] * (1 + 1e-8)),
        lambda f: f.assign(value=f["value"].where(f.index != 1)),
        lambda f: f.assign(entity=f["entity"].replace("b", "c")),
    ],
    ids=["float-beyond-tolerance", "missing-value", "key-value"],
)
def test_the_comparison_fails_on_a_difference(change: object) -> None:
    frame = pd.DataFrame({"entity": ["a", "b", "c"], "value": [1.0, 2.0, 3.0]})
    assert_same_frame(frame, frame.assign(value=frame["value"] * (1 + 1e-12)))
    with pytest.raises(AssertionError):
        assert_same_frame(frame, change(frame))  # type: ignore[operator]


def test_duckdb_file_is_where_the_fixture_put_it(engines: dict[str, Settings]) -> None:
    path = engines["duckdb"].warehouse_path
    assert isinstance(path, Path) and path.exists()


def test_doctor_names_postgres_and_its_server_version(
    engines: dict[str, Settings], postgres_server: PostgresServer
) -> None:
    from opskit.doctor import run_checks

    section = run_checks(settings=engines["postgres"])["warehouse"]
    assert section["ok"] is True
    assert section["engine"].startswith(f"postgres {postgres_server.version}.")


def test_service_health_is_the_same_on_postgres_as_on_duckdb(engines: dict[str, Settings]) -> None:
    """The analysis behind the service_health report (it failed on PostgreSQL before)."""
    from opskit.health import service_health

    results = {
        engine: service_health(settings=s, start="2026-10-29", end="2026-11-01")
        for engine, s in engines.items()
    }
    duck, pg = results["duckdb"], results["postgres"]
    assert duck.tables.keys() == pg.tables.keys()
    assert any(len(frame) for frame in duck.tables.values())
    for name, frame in duck.tables.items():
        assert_same_frame(frame, pg.tables[name])
    assert duck.summary.keys() == pg.summary.keys()
    for key, value in duck.summary.items():
        if isinstance(value, float):
            assert pg.summary[key] == pytest.approx(value, rel=RTOL, nan_ok=True), key
        else:
            assert pg.summary[key] == value, key
