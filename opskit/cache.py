"""A file cache of dataset results, beside the warehouse (``<home>/data/cache/``).

Two uses share one store:

* **live** results (``purpose="live"``): what a connector fetched, read back
  within a TTL (``settings.ttl_for(dataset)``) as provenance ``cache``, and used
  as the freshest fallback when the live source fails;
* **memo** results (``purpose="memo"``): warehouse-derived frames keyed by the
  warehouse identity and a hash of the dataset code, so repeated loads of heavy
  datasets are fast. Memoised frames keep their own provenance (``demo`` stays
  ``demo``): memoisation is not ``cache`` in the provenance sense.

Layout::

    <root>/<purpose>/<dataset>/<key>.json              metadata, written last (commit point)
    <root>/<purpose>/<dataset>/<key>-<token>.parquet   the frame

Both files are written to a temporary name and moved into place with
:func:`os.replace`, and the JSON names its parquet file, so a reader (another
notebook kernel) sees either the previous complete entry or the new complete
entry, never a half-written one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from opskit import provenance as prov
from opskit.config import Settings
from opskit.warehouse import Warehouse

__all__ = [
    "CACHE_DIR",
    "CacheEntry",
    "CachedFrame",
    "Purpose",
    "ResultCache",
    "cache_key",
    "code_fingerprint",
    "content_digest",
    "memo_scope",
    "memoised_frame",
    "normalise_filters",
    "warehouse_identity",
]

logger = logging.getLogger(__name__)

#: Default cache folder, relative to the project home (next to ``data/opskit.duckdb``).
CACHE_DIR = "data/cache"
#: Bumped when the entry format changes; part of every key.
FORMAT_VERSION = 1
Purpose = Literal["live", "memo"]
_PURPOSES: tuple[Purpose, ...] = ("live", "memo")
_PACKAGE = Path(__file__).resolve().parent


# -- keys ----------------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """A JSON-stable form of a filter value (timestamps as UTC ISO text)."""
    if isinstance(value, pd.Timestamp | datetime):
        ts = pd.Timestamp(value)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return ts.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return str(value)


def normalise_filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    """Filters in a canonical, JSON-friendly form (sorted names, ISO UTC times, no ``None``)."""
    return {k: _plain(v) for k, v in sorted(filters.items()) if v is not None}


def cache_key(dataset: str, filters: Mapping[str, Any], **scope: Any) -> str:
    """A stable hash of ``(dataset, normalised filters, scope)``.

    ``scope`` adds what else the result depends on (source system, warehouse
    identity, code fingerprint). The same inputs give the same key in every process.
    """
    payload = {
        "v": FORMAT_VERSION,
        "dataset": dataset,
        "filters": normalise_filters(filters),
        "scope": _plain(dict(scope)),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


_CODE_SIG: tuple[tuple[str, int, int], ...] | None = None
_CODE_HASH = ""


def _code_files() -> list[Path]:
    files = [*_PACKAGE.glob("datasets/*.py"), _PACKAGE / "schemas.py", _PACKAGE / "metrics.py"]
    files += _PACKAGE.glob("analytics/**/*.py")  # dataset builders call into analytics
    files += _PACKAGE.glob("analyses/*.py")  # memoised analysis answers (MCP)
    files += _PACKAGE.glob("present/*.py")  # the text of views and answers
    files += [_PACKAGE / n for n in ("insights.py", "health.py")]
    # what a stored board view holds (widgets and serving only read views)
    files += [
        _PACKAGE / "dashboards" / f"{n}.py"
        for n in ("filters", "store", "data", "builders", "charts")
    ]
    files += [_PACKAGE / "mcpserver" / "_convert.py"]
    return sorted(p for p in files if p.is_file())


def code_fingerprint() -> str:
    """SHA-256 of the source of the dataset, analytics, analyses, presentation and view code.

    Part of every memo key, so editing a dataset builder or schema invalidates
    memoised results. Recomputed only when a file's size or mtime changes.
    """
    global _CODE_SIG, _CODE_HASH
    files = _code_files()
    sig = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    if sig != _CODE_SIG:
        h = hashlib.sha256()
        for p in files:
            h.update(str(p.relative_to(_PACKAGE)).encode())
            h.update(p.read_bytes())
        _CODE_SIG, _CODE_HASH = sig, h.hexdigest()[:16]
    return _CODE_HASH


def warehouse_identity(url: str, meta: Mapping[str, str], path: Path | None) -> dict[str, Any]:
    """What identifies a warehouse build: URL, ``opskit_meta`` and the file's mtime/size.

    A rebuild (``opskit demo build``) changes ``built_at`` and the file, so every
    memo key derived from the old build stops matching.
    """
    ident: dict[str, Any] = {"url": url.split("@")[-1], "meta": dict(sorted(meta.items()))}
    if path is not None and path.exists():
        st = path.stat()
        ident["file"] = [st.st_mtime_ns, st.st_size]
    return ident


def memo_scope(wh: Warehouse) -> str:
    """The memo scope of a warehouse: a hash of its identity and the dataset code.

    Part of every memo key (and the tag of memo entries): a rebuilt warehouse or
    edited dataset code gives a new scope, so old memoised results never match.
    """
    ident = warehouse_identity(wh.url, wh.meta(), wh.path)
    text = json.dumps({"wh": ident, "code": code_fingerprint()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


_SCOPES: dict[tuple[str, tuple[int, int], str], str] = {}


def settings_scope(settings: Settings) -> str:
    """:func:`memo_scope` of the settings' warehouse, re-read only when its file changes.

    Opening the warehouse to read its metadata costs ~50 ms; a dashboard kernel asks
    on every filter change. A file-backed warehouse is identified by the file's mtime
    and size (a rebuild replaces the file) and the code fingerprint; any other URL is
    opened every time.
    """
    from opskit.warehouse import open_warehouse

    path = settings.warehouse_path
    key = None
    if path is not None and Path(path).exists():
        st = Path(path).stat()
        key = (settings.resolved_warehouse_url, (st.st_mtime_ns, st.st_size), code_fingerprint())
        if key in _SCOPES:
            return _SCOPES[key]
    wh = open_warehouse(settings)
    try:
        scope = memo_scope(wh)
    finally:
        wh.close()
    if key is not None:
        _SCOPES[key] = scope
    return scope


# -- entries -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CacheEntry:
    """Metadata of one cached frame (the JSON file)."""

    key: str
    purpose: Purpose
    dataset: str
    filters: dict[str, Any]
    fetched_at: datetime
    provenance: dict[str, Any]
    system: str
    attrs: dict[str, Any]
    rows: int
    data_file: str
    tag: str = ""

    def age_s(self, now: datetime | None = None) -> float:
        """Seconds since the frame was fetched (or computed)."""
        return ((now or datetime.now(UTC)) - self.fetched_at).total_seconds()

    def to_json(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["fetched_at"] = self.fetched_at.isoformat()
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> CacheEntry:
        fetched = datetime.fromisoformat(d["fetched_at"])
        return cls(
            **{**d, "fetched_at": fetched if fetched.tzinfo else fetched.replace(tzinfo=UTC)}
        )


@dataclass(frozen=True)
class CachedFrame:
    """A frame read back from the cache, with its entry (``entry.fetched_at``, ``entry.age_s()``)."""

    frame: pd.DataFrame
    entry: CacheEntry


class ResultCache:
    """Parquet + JSON entries under ``root`` (see the module docstring for the layout).

    Parameters
    ----------
    root
        The cache folder; created on first write.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @classmethod
    def for_settings(cls, settings: Settings) -> ResultCache:
        """The project's cache: ``<home>/data/cache``."""
        return cls(Path(settings.home) / CACHE_DIR)

    def __repr__(self) -> str:
        return f"ResultCache(root={str(self.root)!r})"

    # -- reading ---------------------------------------------------------------------------------
    def _folder(self, purpose: Purpose, dataset: str) -> Path:
        if purpose not in _PURPOSES:
            raise ValueError(f"purpose must be one of {_PURPOSES}, got {purpose!r}")
        if not dataset or "/" in dataset or "\\" in dataset or dataset.startswith("."):
            raise ValueError(f"invalid dataset name for the cache: {dataset!r}")
        return self.root / purpose / dataset

    def entry(self, key: str, *, purpose: Purpose, dataset: str) -> CacheEntry | None:
        """The metadata stored under ``key``, or ``None``."""
        meta = self._folder(purpose, dataset) / f"{key}.json"
        try:
            return CacheEntry.from_json(json.loads(meta.read_text()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, KeyError) as exc:
            logger.warning("ignoring unreadable cache entry %s: %s", meta.name, exc)
            return None

    def _read(self, key: str, purpose: Purpose, dataset: str) -> CachedFrame | None:
        # A writer may replace the entry between reading the JSON and opening its
        # parquet file (then removed): re-read the JSON once in that case.
        for _ in range(3):
            entry = self.entry(key, purpose=purpose, dataset=dataset)
            if entry is None:
                return None
            try:
                table = pq.read_table(self._folder(purpose, dataset) / entry.data_file)
            except FileNotFoundError:
                continue
            except (OSError, pa.ArrowException) as exc:
                logger.warning("ignoring unreadable cache data %s: %s", entry.data_file, exc)
                return None
            frame = table.to_pandas()
            frame.attrs.clear()
            frame.attrs.update(entry.attrs)
            if prov.COLUMN in frame.columns:  # restore the full categorical order
                prov.attach(frame, prov.Provenance.from_dict(entry.provenance))
            return CachedFrame(frame, entry)
        return None

    def get(
        self,
        key: str,
        *,
        dataset: str,
        purpose: Purpose = "live",
        max_age: float | None = None,
        now: datetime | None = None,
    ) -> CachedFrame | None:
        """The entry under ``key`` if it is at most ``max_age`` seconds old (``None``: any age)."""
        entry = self.entry(key, purpose=purpose, dataset=dataset)
        if entry is None or (max_age is not None and entry.age_s(now) > max_age):
            return None
        return self._read(key, purpose, dataset)

    def freshest(
        self, dataset: str, key: str | None = None, *, purpose: Purpose = "live"
    ) -> CachedFrame | None:
        """The most recently fetched entry, ignoring any TTL (the fallback of ``auto`` mode).

        With ``key``, only that entry (same dataset and filters) is considered;
        without, the newest entry of ``dataset`` whatever its filters.
        """
        if key is not None:
            return self._read(key, purpose, dataset)
        entries = sorted(self.entries(dataset, purpose=purpose), key=lambda e: e.fetched_at)
        for entry in reversed(entries):
            hit = self._read(entry.key, purpose, dataset)
            if hit is not None:
                return hit
        return None

    def entries(
        self, dataset: str | None = None, *, purpose: Purpose = "live"
    ) -> Iterator[CacheEntry]:
        """Metadata of every entry (of ``dataset``, if given)."""
        base = self.root / purpose
        folders = [base / dataset] if dataset else sorted(base.glob("*"))
        for folder in folders:
            for meta in sorted(folder.glob("*.json")):
                entry = self.entry(meta.stem, purpose=purpose, dataset=folder.name)
                if entry is not None:
                    yield entry

    # -- writing ---------------------------------------------------------------------------------
    def put(
        self,
        key: str,
        frame: pd.DataFrame,
        *,
        dataset: str,
        filters: Mapping[str, Any],
        system: str,
        purpose: Purpose = "live",
        fetched_at: datetime | None = None,
        tag: str = "",
    ) -> CacheEntry | None:
        """Store ``frame`` under ``key`` atomically; return its entry (``None`` if it failed).

        A frame that cannot be stored (a column parquet cannot hold, a full disk)
        is logged at WARNING and skipped: caching is an optimisation, never fatal.
        With ``tag`` (memo entries: the warehouse/code identity), other entries of
        ``dataset`` with a different tag are removed as stale.
        """
        folder = self._folder(purpose, dataset)
        raw = frame.attrs.get(prov.ATTR)
        provenance = dict(raw) if isinstance(raw, Mapping) else {}
        fetched = fetched_at or _fetched_at(provenance)
        token = secrets.token_hex(4)
        data_file = f"{key}-{token}.parquet"
        entry = CacheEntry(
            key=key,
            purpose=purpose,
            dataset=dataset,
            filters=normalise_filters(filters),
            fetched_at=fetched,
            provenance=provenance,
            system=system,
            attrs=json.loads(json.dumps(dict(frame.attrs), default=str)),
            rows=len(frame),
            data_file=data_file,
            tag=tag,
        )
        try:
            folder.mkdir(parents=True, exist_ok=True)
            old = self.entry(key, purpose=purpose, dataset=dataset)
            plain = frame.copy(deep=False)
            plain.attrs = {}
            table = pa.Table.from_pandas(plain)
            _atomic(folder / data_file, lambda tmp: pq.write_table(table, tmp))
            text = json.dumps(entry.to_json(), indent=1, default=str)
            _atomic(folder / f"{key}.json", lambda tmp: tmp.write_text(text))
        except (OSError, pa.ArrowException, TypeError, ValueError) as exc:
            logger.warning("could not cache %s result %s: %s", dataset, key[:8], exc)
            (folder / data_file).unlink(missing_ok=True)
            return None
        if old is not None and old.data_file != data_file:
            (folder / old.data_file).unlink(missing_ok=True)
        if tag:
            self._drop_stale(purpose, dataset, tag)
        logger.debug("cached %s %s (%s, %d rows)", purpose, dataset, key[:8], len(frame))
        return entry

    def _drop_stale(self, purpose: Purpose, dataset: str, tag: str) -> None:
        for entry in list(self.entries(dataset, purpose=purpose)):
            if entry.tag and entry.tag != tag:
                self.remove(entry.key, purpose=purpose, dataset=dataset)

    def remove(self, key: str, *, purpose: Purpose, dataset: str) -> None:
        """Delete one entry (metadata first, so readers stop finding it)."""
        folder = self._folder(purpose, dataset)
        entry = self.entry(key, purpose=purpose, dataset=dataset)
        (folder / f"{key}.json").unlink(missing_ok=True)
        if entry is not None:
            (folder / entry.data_file).unlink(missing_ok=True)

    def prune(self, dataset: str, *, purpose: Purpose, keep: int) -> int:
        """Keep the ``keep`` most recently written entries of ``dataset``; return how many went.

        For memo results keyed by content (a new live fetch gives a new key), so the
        store does not grow with every fetch.
        """
        folder = self._folder(purpose, dataset)
        metas = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for meta in metas[keep:]:
            self.remove(meta.stem, purpose=purpose, dataset=dataset)
        return max(len(metas) - keep, 0)

    def clear(self, dataset: str | None = None, *, purpose: Purpose | None = None) -> int:
        """Delete entries (all, or of one dataset and/or purpose); return how many."""
        n = 0
        for p in (purpose,) if purpose else _PURPOSES:
            for entry in list(self.entries(dataset, purpose=p)):
                self.remove(entry.key, purpose=p, dataset=entry.dataset)
                n += 1
            if dataset is None and (self.root / p).exists():
                shutil.rmtree(self.root / p, ignore_errors=True)  # leftovers, temp files
        return n


def _fetched_at(provenance: Mapping[str, Any]) -> datetime:
    stamp = provenance.get("fetched_at") or (
        provenance.get("as_of") if provenance.get("kind") == "live" else None
    )
    if stamp:
        ts = datetime.fromisoformat(str(stamp))
        return ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    return datetime.now(UTC)


def _atomic(target: Path, write: Any) -> None:
    """Write via ``write(tmp_path)`` then move into place with :func:`os.replace`."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def content_digest(frame: pd.DataFrame | pd.Series) -> str:
    """A hash of a frame's (or series') values and index: equal content, equal digest."""
    data = frame.to_frame() if isinstance(frame, pd.Series) else frame
    hashed = pd.util.hash_pandas_object(data, index=True).to_numpy().tobytes()
    return hashlib.sha256(hashed).hexdigest()[:32]


def memoised_frame(
    store: ResultCache,
    name: str,
    params: Mapping[str, Any],
    compute: Callable[[], pd.DataFrame],
    *,
    keep: int | None = None,
    system: str = "opskit",
) -> pd.DataFrame:
    """The frame ``compute()`` gives for ``(name, params)``: computed once, then read from ``store``.

    ``params`` must hold everything the result depends on (a :func:`content_digest` of
    the input, the method's settings); the code fingerprint is added, so editing the
    analytics invalidates the stored frames. ``keep`` bounds how many are kept for
    ``name`` (the oldest are pruned).
    """
    code = code_fingerprint()
    key = cache_key(name, params, code=code)
    hit = store.get(key, dataset=name, purpose="memo")
    if hit is not None:
        return hit.frame
    frame = compute()
    store.put(key, frame, dataset=name, filters=params, system=system, purpose="memo", tag=code)
    if keep is not None:
        store.prune(name, purpose="memo", keep=keep)
    return frame
