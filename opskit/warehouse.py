"""The warehouse: an Ibis connection to the store that holds the base tables.

The default is an embedded DuckDB file (``data/opskit.duckdb`` under the project
root); any Ibis URL works (``postgres://...``), so the catalog's expressions run
unchanged on a shared PostgreSQL or a Spark cluster. Tables are declared in
:mod:`opskit.tables`.

A demo build writes into a temporary file next to the target and renames it
into place when complete, so a reader never sees a half-built warehouse.

The same numbers on every engine
--------------------------------
A dataset must give the same frame on DuckDB and on PostgreSQL (floats within
1e-9 relative; ``tests/engines/test_postgres_conformance.py`` checks all of them).
So the expressions in :mod:`opskit.datasets` follow one rule: **nothing whose
meaning depends on the engine**. In practice:

- A share of booleans is ``share(flag)`` (Ibis's boolean mean, compiled through an
  integer), never ``flag.cast("float64").mean()``: PostgreSQL has no cast from
  boolean to double precision.
- A duration is ``seconds_between(later, earlier)`` or ``days_between(...)``:
  whole microseconds (``delta(..., unit="microsecond")``), exact on every engine.
  Never ``epoch_seconds()`` differences (doubles near 1.8e9 on DuckDB, exact
  numerics on PostgreSQL) and never an interval fetched into pandas (PostgreSQL's
  loses the fraction of a second).
- Time zones are normalised once, at the two edges: every timestamp column is
  ``timestamp('UTC', 6)`` (:mod:`opskit.tables`), Ibis runs each session in UTC
  (DuckDB's ``TimeZone`` and PostgreSQL's ``TIMEZONE``), and a frame leaving the
  warehouse is coerced to UTC by its schema in :func:`opskit.catalog.load`
  (other frames, such as :meth:`Warehouse.content_hash`'s, by :func:`utc_frame`).
  Builders pass tz-aware UTC literals and do no time-zone arithmetic of their own.

The helpers live in :mod:`opskit.datasets._expr`;
``tests/catalog/test_portable_expressions.py`` keeps the old idioms out.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from ibis.backends import BaseBackend

from opskit.config import Settings, load_settings
from opskit.errors import WarehouseError
from opskit.tables import TABLES

__all__ = ["Warehouse", "open_warehouse", "utc_frame"]

logger = logging.getLogger(__name__)


class Warehouse:
    """A connection to the warehouse plus what it knows about itself.

    Parameters
    ----------
    url
        Ibis connection URL (``duckdb:///abs/path.duckdb``, ``postgres://...``).
    read_only
        Open a DuckDB file read-only (the default for the catalog), so that many
        notebook kernels can read while nothing writes.
    """

    def __init__(self, url: str, *, read_only: bool = True) -> None:
        self.url = url
        self.read_only = read_only
        self._con: BaseBackend | None = None
        self._meta: dict[str, str] | None = None

    def __repr__(self) -> str:
        return f"Warehouse({_redact(self.url)!r})"

    @property
    def path(self) -> Path | None:
        """The DuckDB file, or ``None`` for other backends."""
        if not self.url.startswith("duckdb://"):
            return None
        raw = self.url.removeprefix("duckdb://")
        return None if raw in ("", ":memory:") else Path(raw)

    @property
    def con(self) -> BaseBackend:
        """The Ibis backend (connected on first use)."""
        if self._con is None:
            path = self.path
            if path is not None and self.read_only and not path.exists():
                raise WarehouseError(
                    f"no warehouse at {path}; build the demo one with `opskit demo build` "
                    "(or `make demo`), or set OPSKIT_WAREHOUSE_URL"
                )
            try:
                if path is not None:
                    self._con = ibis.duckdb.connect(str(path), read_only=self.read_only)
                else:
                    self._con = ibis.connect(self.url)
            except Exception as exc:  # translate any driver error at this one boundary
                raise WarehouseError(f"cannot open warehouse {_redact(self.url)}: {exc}") from exc
        return self._con

    def close(self) -> None:
        if self._con is not None:
            with contextlib.suppress(Exception):
                self._con.disconnect()
            self._con = None

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def table(self, name: str) -> ibis.Table:
        """An Ibis expression for a base table.

        Raises
        ------
        WarehouseError
            If the table is missing (e.g. the warehouse was never built).
        """
        try:
            return self.con.table(name)
        except Exception as exc:
            present = ", ".join(sorted(self.con.list_tables())) or "none"
            raise WarehouseError(
                f"table {name!r} is not in the warehouse {_redact(self.url)} (tables: {present}); "
                "rebuild it with `opskit demo build`"
            ) from exc

    @property
    def engine(self) -> str:
        """The engine and its version, e.g. ``duckdb 1.4.5`` or ``postgres 15.18``.

        Raises
        ------
        WarehouseError
            If the warehouse cannot be opened.
        """
        con = self.con
        return f"{con.name} {con.version}"

    def tables(self) -> list[str]:
        return sorted(self.con.list_tables())

    def meta(self) -> dict[str, str]:
        """Build metadata (``opskit_meta``): kind, seed, scale, built_at, as_of ..."""
        if self._meta is None:
            if "opskit_meta" not in self.con.list_tables():
                self._meta = {}
            else:
                df = self.table("opskit_meta").to_pandas()
                self._meta = dict(zip(df["key"], df["value"], strict=True))
        return self._meta

    def write(self, name: str, frame: pd.DataFrame) -> None:
        """Replace table ``name`` with ``frame``, cast to its declared schema."""
        spec = TABLES[name]
        missing = set(spec.columns) - set(frame.columns)
        extra = set(frame.columns) - set(spec.columns)
        if missing or extra:
            raise ValueError(
                f"{name}: missing columns {sorted(missing)}, unexpected {sorted(extra)}"
            )
        table = _to_arrow(frame[list(spec.columns)], spec.arrow_schema)
        if self.con.name == "postgres":
            self.con.create_table(name, schema=spec.schema, overwrite=True)
            _copy_into_postgres(self.con, name, table)
        else:
            self.con.create_table(name, obj=table, overwrite=True)
        logger.debug("wrote %s: %d rows", name, len(frame))

    def content_hash(self, name: str) -> str:
        """SHA-256 of a table's content in a canonical order (for determinism checks)."""
        t = self.table(name)
        df = utc_frame(t.order_by([t[c] for c in t.columns]).to_pandas())
        h = hashlib.sha256(",".join(f"{c}:{t.schema()[c]}" for c in t.columns).encode())
        h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
        return h.hexdigest()


def utc_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every timestamp column as ``datetime64[us, UTC]``.

    Engines hand back the same instants in different units (DuckDB microseconds,
    PostgreSQL nanoseconds through psycopg); frames that leave the warehouse outside a
    dataset's schema go through here once, so they compare equal across engines.
    """
    out = frame.copy(deep=False)
    for c in out.columns:
        col = out[c]
        if isinstance(col.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(col):
            col = col.dt.tz_localize("UTC") if col.dt.tz is None else col.dt.tz_convert("UTC")
            out[c] = col.astype("datetime64[us, UTC]")
    return out


def _to_arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    arrays = []
    for field in schema:
        col = frame[field.name]
        if pa.types.is_date(field.type):
            col = pd.to_datetime(col, utc=True).dt.tz_localize(None).dt.date
        elif pa.types.is_string(field.type):
            col = col.astype(object).where(col.notna(), None)
        arrays.append(pa.array(col, type=field.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)


#: Rows per CSV chunk streamed into a PostgreSQL ``COPY`` (bounds the memory of one write).
COPY_BATCH_ROWS = 100_000


def _copy_into_postgres(con: BaseBackend, name: str, table: pa.Table) -> None:
    """Bulk-load ``table`` into the existing PostgreSQL table ``name`` with ``COPY``.

    Ibis inserts an Arrow table as one multi-row ``INSERT``, which PostgreSQL parses
    and plans at several times DuckDB's CPU. Arrow writes CSV in C++ (floats in their
    shortest round-trip form, timestamps in UTC with a ``Z``, an unquoted empty field
    for null and ``""`` for the empty string), and ``COPY ... (FORMAT csv)`` reads it
    in one statement, so the loaded table equals DuckDB's bit for bit.
    """
    from psycopg import sql

    columns = sql.SQL(", ").join(sql.Identifier(c) for c in table.column_names)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(name), columns
    )
    options = pa_csv.WriteOptions(include_header=False)
    raw = con.con  # the backend's psycopg connection
    with raw.transaction(), raw.cursor() as cursor, cursor.copy(statement) as copy:
        for batch in table.to_batches(max_chunksize=COPY_BATCH_ROWS):
            chunk = io.BytesIO()
            pa_csv.write_csv(batch, chunk, options)
            copy.write(chunk.getbuffer())


def _redact(url: str) -> str:
    """Drop a password from a URL (``postgres://user:secret@host`` -> ``user:***@``)."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        cred, host = rest.rsplit("@", 1)
        user = cred.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


def open_warehouse(settings: Settings | None = None, *, read_only: bool = True) -> Warehouse:
    """The warehouse named by settings (``OPSKIT_WAREHOUSE_URL``, default DuckDB file)."""
    settings = settings or load_settings()
    return Warehouse(settings.resolved_warehouse_url, read_only=read_only)


@contextlib.contextmanager
def building(target: Warehouse) -> Iterator[Warehouse]:
    """A writable warehouse that replaces ``target`` atomically when the block succeeds.

    For a DuckDB file the build goes to ``<file>.building`` and is renamed into
    place at the end; on error the partial file is removed and the old warehouse
    stays untouched. Other backends are written in place.
    """
    path = target.path
    if path is None:
        wh = Warehouse(target.url, read_only=False)
        try:
            yield wh
        finally:
            wh.close()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".building")
    for stale in (tmp, tmp.with_name(tmp.name + ".wal")):
        stale.unlink(missing_ok=True)
    wh = Warehouse(f"duckdb://{tmp}", read_only=False)
    try:
        yield wh
        wh.con.raw_sql("CHECKPOINT")
        wh.close()
        os.replace(tmp, path)
        path.with_name(path.name + ".wal").unlink(missing_ok=True)
    except BaseException:
        wh.close()
        tmp.unlink(missing_ok=True)
        raise


def meta_frame(meta: Mapping[str, Any]) -> pd.DataFrame:
    return pd.DataFrame({"key": list(meta), "value": [str(v) for v in meta.values()]})
