"""The datasets use no engine-sensitive expression (the rule in :mod:`opskit.warehouse`).

Each idiom below compiled on DuckDB and failed or drifted on PostgreSQL; the datasets turn
booleans and time spans into numbers only through :mod:`opskit.datasets._expr`. The
conformance test (``tests/engines/test_postgres_conformance.py``) checks the numbers.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import ibis
import pytest

from opskit.datasets import _expr
from opskit.datasets._expr import days_between, seconds_between, share

HELPERS = Path(_expr.__file__)
DATASETS = HELPERS.parent
FLOAT_TYPES = {"float", "float32", "float64", "double", "!float64", "!double"}


def _violations(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        where = f"{path.name}:{node.lineno}"
        if node.func.attr == "epoch_seconds":
            found.append(f"{where}: epoch_seconds() (use seconds_between/days_between)")
        if node.func.attr == "cast" and node.args:
            target = node.args[0]
            if isinstance(target, ast.Constant) and str(target.value).lower() in FLOAT_TYPES:
                found.append(f"{where}: cast({target.value!r}) (booleans: share(); else explain)")
    return found


@pytest.mark.parametrize(
    "path",
    sorted(p for p in DATASETS.glob("*.py") if p != HELPERS),
    ids=lambda p: p.name,
)
def test_dataset_module_has_no_engine_sensitive_expression(path: Path) -> None:
    assert _violations(path) == []


def test_the_check_catches_the_idioms_it_forbids(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "x = t.flag.cast('float64').mean()\ny = t.a.epoch_seconds() - t.b.epoch_seconds()\n"
    )
    assert len(_violations(bad)) == 3


BOOL_TO_FLOAT = r'CAST\("T0"\."FLAG" AS (DOUBLE|FLOAT|REAL)'
EPOCH_OF_COLUMN = r"EPOCH'?(\(| FROM )(CAST\()?\"T0\"\.\"[AB]\"( AS TIMESTAMP\))?\)"
T = ibis.table({"flag": "boolean", "a": "timestamp('UTC', 6)", "b": "timestamp('UTC', 6)"}, "t")


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_the_sql_check_catches_the_old_idioms(dialect: str) -> None:
    old = T.aggregate(
        s=T.flag.cast("float64").mean(), d=(T.a.epoch_seconds() - T.b.epoch_seconds()).sum()
    )
    sql = ibis.to_sql(old, dialect=dialect).upper()
    assert re.search(BOOL_TO_FLOAT, sql) and re.search(EPOCH_OF_COLUMN, sql), sql


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_helpers_compile_without_boolean_to_float_casts_or_timestamp_epochs(dialect: str) -> None:
    sql = ibis.to_sql(
        T.aggregate(
            s=share(T.flag), d=days_between(T.a, T.b).sum(), h=seconds_between(T.a, T.b).max()
        ),
        dialect=dialect,
    ).upper()
    assert not re.search(BOOL_TO_FLOAT, sql), sql
    # An epoch of a timestamp column (rather than of an exact difference) is what drifted.
    assert not re.search(EPOCH_OF_COLUMN, sql), sql
