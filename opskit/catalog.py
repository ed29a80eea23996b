"""The dataset catalog: ``opskit.load(name, **filters)`` and ``opskit.datasets()``.

Every dataset is computed from the warehouse (Ibis expressions, so the same code
runs on DuckDB, PostgreSQL or Spark), validated against its schema in
:mod:`opskit.schemas`, and stamped with provenance (column and ``attrs``).
"""

from __future__ import annotations

import difflib
import logging
import time
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from opskit import provenance as prov
from opskit import sources
from opskit.cache import ResultCache, cache_key, memo_scope
from opskit.config import Settings, load_settings
from opskit.datasets import REGISTRY, Context, Dataset
from opskit.errors import DatasetError
from opskit.present.units import fmt_timestamp
from opskit.schemas import validate
from opskit.warehouse import Warehouse, open_warehouse

__all__ = ["dataset_info", "datasets", "get_dataset", "load", "warehouse_provenance"]

logger = logging.getLogger(__name__)

_OPEN: dict[str, tuple[float, Warehouse]] = {}


def _warehouse(settings: Settings) -> Warehouse:
    """A shared read-only connection per warehouse URL, reopened when the file changes."""
    url = settings.resolved_warehouse_url
    wh = open_warehouse(settings)
    stamp = wh.path.stat().st_mtime if wh.path is not None and wh.path.exists() else 0.0
    cached = _OPEN.get(url)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    if cached is not None:
        cached[1].close()
    _OPEN[url] = (stamp, wh)
    return wh


def get_dataset(name: str) -> Dataset:
    """The :class:`~opskit.datasets.Dataset` called ``name``.

    Raises
    ------
    DatasetError
        Naming the valid datasets (and the closest match) when ``name`` is unknown.
    """
    if not isinstance(name, str) or name not in REGISTRY:
        hint = difflib.get_close_matches(str(name), list(REGISTRY), n=1)
        tip = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise DatasetError(f"unknown dataset {name!r}{tip}; valid datasets: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def warehouse_provenance(
    wh: Warehouse, systems: tuple[str, ...] = ("warehouse",)
) -> prov.Provenance:
    """Provenance of what the warehouse holds, from its build metadata.

    A demo build is ``demo``; a warehouse loaded from live sources records
    ``kind=cache`` and its load time (``loaded_at``); a warehouse with no opskit
    metadata is treated as ``cache`` of unknown age, never as live.
    """
    meta = wh.meta()
    kind = meta.get("kind", "")
    if kind == "demo":
        return prov.Provenance(
            kind="demo",
            systems=systems,
            as_of=datetime.fromisoformat(meta["data_end"]),
            detail=(
                f"synthetic demo business (seed {meta.get('seed')}, scale {meta.get('scale')}, "
                f"built {fmt_timestamp(meta['built_at']) if meta.get('built_at') else 'at an unknown time'})"
            ),
        )
    loaded = meta.get("loaded_at")
    stamp = datetime.fromisoformat(loaded) if loaded else datetime(1970, 1, 1, tzinfo=UTC)
    return prov.Provenance(
        kind="cache",
        systems=systems,
        as_of=stamp,
        fetched_at=stamp,
        detail="warehouse copy" if loaded else "warehouse without opskit metadata (age unknown)",
    )


def _as_of(wh: Warehouse) -> pd.Timestamp:
    meta = wh.meta()
    if "data_end" in meta:
        return pd.Timestamp(meta["data_end"])
    return pd.Timestamp.now(tz="UTC").floor("s")


def load(
    name: str, *, settings: Settings | None = None, cache: bool = True, **filters: Any
) -> pd.DataFrame:
    """Load a dataset as a validated DataFrame with provenance.

    Parameters
    ----------
    name
        One of :func:`datasets` (``churn_signals``, ``apm_health``, ...).
    settings
        Settings to use (default: read from env / ``.env`` / ``opskit.toml``).
    cache
        ``False`` computes afresh: no memoised warehouse result and no cached
        live result within its TTL is served (benchmarks of cold loads). Live
        results are still cached, and ``auto`` mode can still fall back to them.
    **filters
        Dataset filters, e.g. ``start="2026-10-01"``, ``region="brazil"``,
        ``service=["playback-api", "drm-license"]``. Time windows default to the
        window named in the dataset's doc, ending at the data's as-of time.

    Returns
    -------
    pandas.DataFrame
        Validated against the dataset's schema; ``provenance`` column plus
        ``attrs["provenance"]``, ``attrs["dataset"]`` and ``attrs["filters"]``.

    Raises
    ------
    DatasetError
        Unknown dataset, filter or filter value (the message lists valid ones).
    WarehouseError
        The warehouse is missing or lacks a table.
    SchemaViolation
        The computed frame does not match its schema (a bug or a bad warehouse).

    Examples
    --------
    >>> import opskit as ok
    >>> df = ok.load("international_markets")           # doctest: +SKIP
    >>> df.attrs["provenance"]["kind"]                   # doctest: +SKIP
    'demo'
    """
    ds = get_dataset(name)
    settings = settings or load_settings()
    if ds.live_source is not None:  # hybrid: live / cache / demo per the source's mode
        return sources.resolve(ds, filters, settings=settings, use_cache=cache,
                               warehouse=lambda: _load_warehouse(ds, filters, settings, cache))  # fmt: skip
    return _load_warehouse(ds, filters, settings, cache)


def _load_warehouse(
    ds: Dataset, filters: dict[str, Any], settings: Settings, memo: bool
) -> pd.DataFrame:
    """The dataset computed from the warehouse, memoised in the result cache."""
    name = ds.name
    wh = _warehouse(settings)
    t0 = time.perf_counter()
    ctx = Context(wh, {}, _as_of(wh))
    ctx.filters = ds.parse_filters(filters, ctx)
    store = ResultCache.for_settings(settings) if memo else None
    scope = memo_scope(wh) if memo else ""
    key = cache_key(name, ctx.filters, memo=scope)
    if store is not None and (hit := store.get(key, dataset=name, purpose="memo")) is not None:
        logger.info("load %s %s: %d rows in %.0f ms (%s, memoised)", name, ctx.filters, len(hit.frame),
                    (time.perf_counter() - t0) * 1000, prov.of(hit.frame).kind)  # fmt: skip
        return hit.frame
    frame = ds.build(ctx)
    p = warehouse_provenance(wh, ds.systems)
    prov.attach(frame, p)
    frame = validate(frame, ds.schema)
    frame.attrs["dataset"] = name
    frame.attrs["filters"] = {
        k: (v.isoformat() if isinstance(v, pd.Timestamp) else v) for k, v in ctx.filters.items()
    }
    frame.attrs["as_of"] = ctx.as_of.isoformat()
    if ctx.used_window is not None:
        frame.attrs["window"] = [ts.isoformat() for ts in ctx.used_window]
    logger.info("load %s %s: %d rows in %.0f ms (%s)", name, ctx.filters, len(frame),
                (time.perf_counter() - t0) * 1000, p.kind)  # fmt: skip
    if store is not None:
        store.put(key, frame, dataset=name, filters=ctx.filters, system="warehouse",
                  purpose="memo", tag=scope)  # fmt: skip
    return frame


def dataset_info(name: str) -> dict[str, Any]:
    """Documentation of one dataset: description, filters (with valid choices), columns."""
    ds = get_dataset(name)
    schema = ds.schema.to_schema()
    return {
        "name": ds.name,
        "summary": ds.summary,
        "doc": ds.doc.strip(),
        "default_window": ds.default_window,
        "live_source": ds.live_source,
        "filters": [
            {
                "name": f.name,
                "kind": f.kind,
                "doc": f.doc,
                "options": None if f.dynamic or f.options is None else list(f.options),
            }
            for f in ds.filters
        ],
        "columns": {c: (col.description or "") for c, col in schema.columns.items()},
    }


def datasets(*, rows: bool = False, settings: Settings | None = None) -> pd.DataFrame:
    """The catalog as a frame: name, summary, filters, default window and source.

    With ``rows=True`` each dataset is loaded with its default filters to add
    ``rows``, ``provenance`` and ``as_of``/``age`` columns (slower: one query each).
    """
    out = []
    for name, ds in REGISTRY.items():
        row: dict[str, Any] = {
            "name": name,
            "summary": ds.summary,
            "filters": ", ".join(f.name for f in ds.filters),
            "default_window": ds.default_window,
            "live_source": ds.live_source or "",
        }
        if rows:
            df = load(name, settings=settings)
            p = prov.of(df)
            row.update(rows=len(df), provenance=p.kind, as_of=p.as_of, detail=p.label())
        out.append(row)
    return pd.DataFrame(out)
