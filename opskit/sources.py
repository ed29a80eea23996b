"""Hybrid resolution of datasets that have a live source (``Dataset.live_source``).

Per source, ``settings.<source>.mode`` decides:

``demo``
    the warehouse (demo data), always.
``live``
    fetch through the connector; a fresh cached live result (within the TTL)
    is served as ``cache``; any failure raises (the opskit
    :class:`~opskit.errors.ConnectorError` subclasses, ``ConfigError`` or
    ``DatasetError``).
``auto``
    when the source is not configured: demo, silently. When configured: like
    ``live``, but a failure logs a WARNING and falls back to the freshest cached
    live result (provenance ``cache`` with its fetch time), then to the
    warehouse (provenance ``demo``); each step is recorded in the provenance
    ``detail``.

Live data is never labelled other than ``live``, cached live data is always
``cache`` with its fetch time, and demo data never passes as either.

Connectors are built by :func:`opskit.connectors.connector_from_settings`; pass
``connector_factory=`` or use :func:`using_connectors` to build them otherwise
(custom transports in tests and notebooks).
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import pandas as pd

from opskit import provenance as prov
from opskit.cache import ResultCache, cache_key, normalise_filters
from opskit.config import Settings, SourceMode
from opskit.connectors import BaseConnector, connector_from_settings
from opskit.connectors._http import short_url
from opskit.connectors._redact import redact_text
from opskit.datasets import Context, Dataset, Filter
from opskit.errors import ConfigError, ConnectorError, DatasetError, SchemaViolation
from opskit.present import fmt
from opskit.schemas import validate

__all__ = [
    "LIVE",
    "ConnectorFactory",
    "LiveFetch",
    "effective_mode",
    "live_sources",
    "resolve",
    "using_connectors",
]

logger = logging.getLogger(__name__)

#: Builds the connector of a source from settings (default: ``connector_from_settings``).
ConnectorFactory = Callable[[str, Settings], BaseConnector]
#: Loads the dataset from the warehouse (validated, with demo/warehouse provenance).
WarehouseLoader = Callable[[], pd.DataFrame]

_FACTORY: contextvars.ContextVar[ConnectorFactory | None] = contextvars.ContextVar(
    "opskit_connector_factory", default=None
)


@contextmanager
def using_connectors(factory: ConnectorFactory) -> Iterator[None]:
    """Build connectors with ``factory`` inside the block (also through ``opskit.load``).

    Examples
    --------
    >>> import httpx
    >>> from opskit.connectors import connector_from_settings, fakes
    >>> def factory(name, settings):                                  # doctest: +SKIP
    ...     handler = fakes.newrelic()
    ...     return connector_from_settings(name, settings, transport=httpx.MockTransport(handler))
    >>> with using_connectors(factory):                               # doctest: +SKIP
    ...     df = opskit.load("apm_health", service="playback-api")
    """
    token = _FACTORY.set(factory)
    try:
        yield
    finally:
        _FACTORY.reset(token)


class _Unsupported(Exception):
    """The live source cannot answer this request (a filter it does not support)."""


# -- live fetchers -------------------------------------------------------------------------------
Fetch = Callable[[Any, Mapping[str, Any], pd.Timestamp, pd.Timestamp, Settings], pd.DataFrame]


@dataclass(frozen=True)
class LiveFetch:
    """How one dataset is fetched live.

    Parameters
    ----------
    default_days
        Window length when ``start`` is not given (ending at ``end`` or now).
    fetch
        ``(connector, filters, start, end, settings) -> frame`` in the dataset's schema.
    post_filters
        Filter name -> frame column, applied to the fetched frame.
    """

    default_days: float
    fetch: Fetch
    post_filters: Mapping[str, str] = dataclasses.field(default_factory=dict)


_BUCKETS = {"1min": "1min", "5min": "5min", "15min": "15min", "1h": "60min"}
_GRANULARITY = {"hour": "PT1H", "day": "P1D"}


def _fetch_apm(
    conn: Any, f: Mapping[str, Any], lo: pd.Timestamp, hi: pd.Timestamp, s: Settings
) -> pd.DataFrame:
    services = f.get("service")
    bucket = _BUCKETS[f.get("resolution", "1min")]
    return conn.fetch_apm(list(services) if services else None, start=lo, end=hi, bucket=bucket)


def _fetch_problems(
    conn: Any, f: Mapping[str, Any], lo: pd.Timestamp, hi: pd.Timestamp, s: Settings
) -> pd.DataFrame:
    return conn.fetch_problems(start=lo, end=hi)


def _fetch_issues(
    conn: Any, f: Mapping[str, Any], lo: pd.Timestamp, hi: pd.Timestamp, s: Settings
) -> pd.DataFrame:
    projects = f.get("project") or list(s.jira.projects) or None
    return conn.fetch_issues(projects=projects, since=lo, until=hi, date_field="created")


def _fetch_qoe(
    conn: Any, f: Mapping[str, Any], lo: pd.Timestamp, hi: pd.Timestamp, s: Settings
) -> pd.DataFrame:
    """Conviva QoE for every filter: region and ISP become dimension filters; with both
    a CDN and a device filter, one of them (the one with a single value) filters and the
    other splits."""
    dims, sent = s.conviva.dimensions, {}
    for name in ("region", "isp"):
        if f.get(name):
            values = (
                f[name] if name == "isp" else [s.conviva.region_values.get(r, r) for r in f[name]]
            )
            sent[dims[name]] = list(values)
    cdn, device = f.get("cdn"), f.get("device")
    by, fill = ("cdn" if cdn else "device" if device else None), None
    if cdn and device:
        if len(device) == 1:
            by, fill = "cdn", ("device", device[0])
        elif len(cdn) == 1:
            by, fill = "device", ("cdn", cdn[0])
        else:
            raise _Unsupported(
                "Conviva splits by one dimension: with several CDNs and several devices, "
                "give one CDN or one device"
            )
        sent[dims[fill[0]]] = [fill[1]]
    granularity = _GRANULARITY[f.get("granularity", "hour")]
    frame = conn.fetch_qoe(start=lo, end=hi, by=by, granularity=granularity, filters=sent or None)
    if fill is not None:
        frame[fill[0]] = fill[1]
    if sent:
        said = "; ".join(f"{k} = {', '.join(v)}" for k, v in sent.items())
        _with_detail(frame, prov.of(frame), f"filtered by Conviva {said}")
    return frame


#: Dataset name -> how to fetch it live (the dataset's ``live_source`` names the system).
LIVE: Mapping[str, LiveFetch] = {
    "apm_health": LiveFetch(1, _fetch_apm, {"metric": "metric"}),
    "problems": LiveFetch(
        365, _fetch_problems,
        {"status": "status", "severity_level": "severity_level", "service": "entity"},
    ),
    "production_issues": LiveFetch(
        365, _fetch_issues,
        {k: k for k in ("status", "severity", "component", "team", "project", "show")},
    ),
    "streaming_qoe": LiveFetch(14, _fetch_qoe, {"cdn": "cdn", "device": "device"}),
}  # fmt: skip


# -- filters -------------------------------------------------------------------------------------
_NO_CONTEXT = cast(Context, None)


def _parse_live_filters(ds: Dataset, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate filters without the warehouse: warehouse-derived choices accept any text."""
    names = [f.name for f in ds.filters]
    unknown = [k for k in raw if k not in names]
    if unknown:
        raise DatasetError(
            f"dataset {ds.name!r} has no filter {unknown[0]!r}; valid filters: {', '.join(names)}"
        )
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None:
            continue
        f = ds.filter(name)
        # Static filters never touch the context (their choices are fixed tuples).
        out[name] = (
            _parse_dynamic(f, value, ds.name) if f.dynamic else f.parse(value, _NO_CONTEXT, ds.name)
        )
    return out


def _parse_dynamic(f: Filter, value: Any, dataset: str) -> Any:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list | tuple | set | frozenset) or not all(
        isinstance(v, str) and v for v in values
    ):
        raise DatasetError(
            f"filter {f.name!r} of dataset {dataset!r}: expected text, got {value!r}"
        )
    values = list(values)
    if f.kind == "choice":
        if len(values) != 1:
            raise DatasetError(f"filter {f.name!r} of dataset {dataset!r} takes one value")
        return values[0]
    return values


def _window(
    spec: LiveFetch, f: Mapping[str, Any], now: datetime
) -> tuple[pd.Timestamp, pd.Timestamp]:
    hi = f.get("end", pd.Timestamp(now).tz_convert("UTC").floor("min"))
    lo = f.get("start", hi - pd.Timedelta(days=spec.default_days))
    if lo >= hi:
        raise DatasetError(f"start ({lo}) must be before end ({hi})")
    return lo, hi


def _post_filter(frame: pd.DataFrame, spec: LiveFetch, f: Mapping[str, Any]) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    for name, column in spec.post_filters.items():
        value = f.get(name)
        if value is not None:
            mask &= frame[column].isin([value] if isinstance(value, str) else list(value))
    if bool(mask.all()):
        return frame
    out = frame.loc[mask].reset_index(drop=True)
    out.attrs = dict(frame.attrs)
    return out


# -- resolution ----------------------------------------------------------------------------------
def effective_mode(settings: Settings, source: str) -> SourceMode:
    """``live`` or ``demo``: what ``auto`` means for ``source`` given its credentials."""
    src = settings.source(source)
    if src.mode == SourceMode.DEMO or (src.mode == SourceMode.AUTO and not src.is_configured):
        return SourceMode.DEMO
    return SourceMode.LIVE


def live_sources(settings: Settings) -> list[str]:
    """The data sources whose numbers would come live (``live``, or ``auto`` with credentials).

    While this is empty every number comes from the warehouse build and can be memoised
    with it (board views, MCP answers); with a live source nothing is frozen.
    """
    from opskit.datasets import REGISTRY

    names = sorted({str(REGISTRY[name].live_source) for name in LIVE if REGISTRY[name].live_source})
    return [n for n in names if effective_mode(settings, n) == SourceMode.LIVE]


def _secrets_of(settings: Settings, source: str) -> list[str]:
    src = settings.source(source)
    return [
        v.get_secret_value()
        for _, v in src
        if hasattr(v, "get_secret_value") and v.get_secret_value()
    ]


_NOT_TARGET = frozenset(
    {"mode", "timeout_s", "deadline_s", "max_retries", "requests_per_second", "configured"}
)


def _target(settings: Settings, source: str) -> dict[str, Any]:
    """The non-secret settings naming what a source reads (URL, account, projects)."""
    src = settings.source(source)
    secret = {n for n, v in src if hasattr(v, "get_secret_value")}
    return {k: v for k, v in src.public().items() if k not in _NOT_TARGET | secret}


#: Longest failure reason kept in a provenance detail.
REASON_CHARS = 300
_URL = re.compile(r"https?://[^\s'\"<>]+")


def _reason(exc: BaseException, settings: Settings, source: str) -> str:
    """The failure in one line: long URLs shortened and the middle cut, never the cause."""
    text = redact_text(
        f"{type(exc).__name__}: {exc}".splitlines()[0], _secrets_of(settings, source)
    )
    if len(text) > REASON_CHARS:
        text = _URL.sub(lambda m: short_url(m.group(0)), text)
    if len(text) > REASON_CHARS:
        half = REASON_CHARS // 2 - 2
        text = f"{text[:half]} .. {text[-half:]}"
    return text


def _with_detail(frame: pd.DataFrame, p: prov.Provenance, detail: str) -> pd.DataFrame:
    joined = "; ".join(d for d in (detail, p.detail) if d)
    return prov.attach(frame, dataclasses.replace(p, detail=joined))


def _stamp(frame: pd.DataFrame, name: str, filters: Mapping[str, Any], as_of: datetime) -> None:
    frame.attrs["dataset"] = name
    frame.attrs["filters"] = normalise_filters(filters)
    frame.attrs["as_of"] = pd.Timestamp(as_of).isoformat()


def resolve(
    ds: Dataset,
    filters: Mapping[str, Any],
    *,
    settings: Settings,
    warehouse: WarehouseLoader,
    cache: ResultCache | None = None,
    use_cache: bool = True,
    connector_factory: ConnectorFactory | None = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Load ``ds`` from its live source, the cache or the warehouse, per the source's mode.

    Parameters
    ----------
    ds
        A dataset with a ``live_source``.
    filters
        Raw filters as given to ``opskit.load``.
    settings
        Settings (mode, credentials, TTLs, home).
    warehouse
        Loads the dataset from the warehouse (demo data), validated and stamped.
    cache
        Where live results are cached (default: :meth:`ResultCache.for_settings`).
    use_cache
        ``False`` skips serving fresh cache hits (forces a live fetch); live
        results are still stored, and ``auto`` can still fall back to them.
    connector_factory
        Builds the connector (default: the one set by :func:`using_connectors`,
        else :func:`~opskit.connectors.connector_from_settings`).
    now
        The current time (tests).

    Returns
    -------
    pandas.DataFrame
        Validated against the dataset's schema, with provenance ``live``,
        ``cache`` (with ``fetched_at``) or ``demo``.

    Raises
    ------
    ConnectorError
        In ``live`` mode, when the fetch fails (``AuthError``, ``RateLimitError``,
        ``UnavailableError``, ``ResponseError``).
    ConfigError
        In ``live`` mode, when the source's settings are incomplete.
    DatasetError
        A bad filter value, or (``live`` mode) a filter the live source cannot serve.
    """
    source = ds.live_source
    if source is None or ds.name not in LIVE:
        raise ValueError(f"dataset {ds.name!r} has no live source")
    src = settings.source(source)
    if effective_mode(settings, source) == SourceMode.DEMO:
        logger.debug("%s: %s mode is %s -> warehouse", ds.name, source, src.mode.value)
        return warehouse()
    is_live = src.mode == SourceMode.LIVE
    spec = LIVE[ds.name]
    store = cache or ResultCache.for_settings(settings)
    parsed = _parse_live_filters(ds, filters)
    key = cache_key(ds.name, parsed, source=source, target=_target(settings, source))
    now = now or datetime.now(UTC)
    ttl = settings.ttl_for(ds.name)

    if use_cache and ttl > 0:
        hit = store.get(key, dataset=ds.name, max_age=ttl, now=now)
        if hit is not None:
            age = hit.entry.age_s(now)
            logger.info("%s: cache hit for %s (%.0f s old, TTL %.0f s)", ds.name, source, age, ttl)
            return _as_cache(hit.frame, hit.entry.provenance, hit.entry.fetched_at,
                             f"cache hit (kept for {fmt(ttl, 'seconds')})")  # fmt: skip

    try:
        frame = _fetch(ds, spec, parsed, settings, connector_factory, now)
    except (ConnectorError, ConfigError, SchemaViolation, _Unsupported) as exc:
        if is_live:
            if isinstance(exc, _Unsupported):
                raise DatasetError(f"{ds.name} from {source} (mode live): {exc}") from None
            raise
        return _fall_back(ds, source, key, _reason(exc, settings, source), store, warehouse)
    store.put(key, frame, dataset=ds.name, filters=parsed, system=source, purpose="live")
    return frame


def _fetch(
    ds: Dataset,
    spec: LiveFetch,
    f: Mapping[str, Any],
    settings: Settings,
    factory: ConnectorFactory | None,
    now: datetime,
) -> pd.DataFrame:
    source = str(ds.live_source)
    lo, hi = _window(spec, f, now)
    build = factory or _FACTORY.get() or connector_from_settings
    t0 = time.perf_counter()
    with build(source, settings) as conn:
        raw = spec.fetch(conn, f, lo, hi, settings)
    live = prov.of(raw)
    if live.kind != "live":  # a connector must stamp what it fetched
        raise ValueError(f"{source} connector returned {live.kind!r} data for {ds.name}")
    frame = validate(_post_filter(raw, spec, f), ds.schema)
    prov.attach(frame, live)
    _stamp(frame, ds.name, {**f, "start": lo, "end": hi}, live.as_of)
    logger.info("%s: live from %s, %d rows in %.0f ms", ds.name, source, len(frame),
                (time.perf_counter() - t0) * 1000)  # fmt: skip
    return frame


def _as_cache(
    frame: pd.DataFrame, stored: Mapping[str, Any], fetched_at: datetime, detail: str
) -> pd.DataFrame:
    """Relabel a cached live frame: kind ``cache`` with its fetch time."""
    original = prov.Provenance.from_dict(stored)
    if original.kind == "demo":  # never upgrade demo data
        return prov.attach(frame, original)
    p = dataclasses.replace(original, kind="cache", fetched_at=fetched_at)
    return _with_detail(frame, p, detail)


def _fall_back(
    ds: Dataset,
    source: str,
    key: str,
    reason: str,
    store: ResultCache,
    warehouse: WarehouseLoader,
) -> pd.DataFrame:
    failure = f"live {source} failed ({reason})"
    hit = store.freshest(ds.name, key)
    if hit is not None:
        age = hit.entry.age_s()
        logger.warning("%s: %s; falling back to the cached result fetched %s (%.0f s old)",
                       ds.name, failure, hit.entry.fetched_at.isoformat(timespec="seconds"), age)  # fmt: skip
        return _as_cache(hit.frame, hit.entry.provenance, hit.entry.fetched_at,
                         f"{failure}; fell back to the freshest cached result")  # fmt: skip
    logger.warning("%s: %s and no cached result; falling back to demo data", ds.name, failure)
    frame = warehouse()
    return _with_detail(
        frame, prov.of(frame), f"{failure}; no cached result; fell back to demo data"
    )
