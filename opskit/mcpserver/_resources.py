"""The nine seed datasets as MCP resources, with their filters as URI query parameters.

Each dataset ``<name>`` is served twice over, as the SDK prefers:

* a concrete resource ``opskit://datasets/<name>`` (default filters), listed by
  ``resources/list``;
* a URI template ``opskit://datasets/<name>{?<filter>,...,limit,offset}``
  (listed by ``resources/templates/list``) whose variables are the dataset's
  declared filters plus paging.

``opskit://datasets`` is the catalog: every dataset with its filters, columns and
URI template. A choice filter takes several values comma-separated
(``?status=open,blocked``). Values are validated by the catalog: a bad one is a
JSON-RPC ``invalid params`` error naming the valid choices.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS, Annotations

from opskit import provenance as prov
from opskit.catalog import dataset_info, load
from opskit.datasets import REGISTRY, SEED_RESOURCES, Dataset
from opskit.errors import DatasetError, OpsKitError
from opskit.mcpserver._convert import dumps, frame_table, jsonable, provenance_header
from opskit.mcpserver._runtime import Runtime

__all__ = [
    "CATALOG_URI",
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "PAGING",
    "SCHEME",
    "dataset_uri",
    "query_names",
    "register_resources",
    "uri_template",
]

SCHEME = "opskit"
#: URI of the catalog resource.
CATALOG_URI = f"{SCHEME}://datasets"
#: Rows returned when the URI names no ``limit``.
DEFAULT_LIMIT = 100
#: Largest ``limit`` a client may ask for.
MAX_LIMIT = 5000
#: Paging variables every dataset template has besides its filters.
PAGING = ("limit", "offset")
MIME = "application/json"


def dataset_uri(name: str) -> str:
    """``opskit://datasets/<name>``."""
    return f"{CATALOG_URI}/{name}"


def query_names(ds: Dataset) -> list[str]:
    """The URI query variables of ``ds``: its filters, then ``limit`` and ``offset``."""
    return [f.name for f in ds.filters] + list(PAGING)


def uri_template(ds: Dataset) -> str:
    """``opskit://datasets/<name>{?filter,...,limit,offset}``."""
    return f"{dataset_uri(ds.name)}{{?{','.join(query_names(ds))}}}"


def _invalid(message: str, uri: str) -> MCPError:
    return MCPError(code=INVALID_PARAMS, message=message, data={"uri": uri})


def _count(raw: str | None, name: str, default: int, hi: int, uri: str) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _invalid(f"{name} must be a whole number, got {raw!r}", uri) from None
    if not 0 <= value <= hi or (name == "limit" and value < 1):
        low = 1 if name == "limit" else 0
        raise _invalid(f"{name} must be between {low} and {hi}, got {value}", uri)
    return value


def _uri(name: str, query: dict[str, str | None]) -> str:
    given = {k: v for k, v in query.items() if v not in (None, "")}
    if not given:
        return dataset_uri(name)
    return (
        dataset_uri(name)
        + "?"
        + "&".join(f"{k}={quote(str(v), safe=',:')}" for k, v in given.items())
    )


def read_dataset(runtime: Runtime, ds: Dataset, query: dict[str, str | None]) -> str:
    """The JSON text of one page of ``ds`` with the filters and paging in ``query``.

    Raises
    ------
    MCPError
        ``invalid params`` for a bad filter value, limit or offset (the message
        says what is valid); ``internal error`` with opskit's own message for
        its other errors (a missing warehouse).
    """
    uri = _uri(ds.name, query)
    limit = _count(query.get("limit"), "limit", DEFAULT_LIMIT, MAX_LIMIT, uri)
    offset = _count(query.get("offset"), "offset", 0, 10**9, uri)
    filters: dict[str, Any] = {}
    for f in ds.filters:
        raw = query.get(f.name)
        if raw is None or raw == "":
            continue
        filters[f.name] = [v.strip() for v in raw.split(",")] if f.kind == "choices" else raw
    try:
        frame = runtime.locked(lambda: load(ds.name, settings=runtime.settings, **filters))
    except DatasetError as exc:  # a bad filter value: the caller's to fix
        raise _invalid(str(exc), uri) from None
    except OpsKitError as exc:  # missing warehouse, unreachable source: opskit's own message
        raise MCPError(code=INTERNAL_ERROR, message=str(exc), data={"uri": uri}) from None
    table = frame_table(frame, limit=limit, offset=offset)
    payload = {
        **provenance_header(prov.of(frame)),
        "dataset": ds.name,
        "uri": uri,
        "filters": jsonable(frame.attrs.get("filters", {})),
        "as_of": frame.attrs.get("as_of"),
        **table,
    }
    if table["truncated"]:
        payload["next"] = _uri(
            ds.name, {**query, "limit": str(limit), "offset": str(offset + table["returned"])}
        )
    return dumps(payload)


def catalog(runtime: Runtime) -> str:
    """JSON text of the catalog resource: the datasets, their filters, columns and URIs."""
    out = []
    for ds in REGISTRY.values():
        info = dataset_info(ds.name)
        is_seed = ds in SEED_RESOURCES
        out.append(
            {
                "name": ds.name,
                "summary": info["summary"],
                "resource": dataset_uri(ds.name) if is_seed else None,
                "uri_template": uri_template(ds) if is_seed else None,
                "default_window": info["default_window"],
                "filters": info["filters"],
                "columns": info["columns"],
            }
        )
    return dumps(
        {
            "datasets": jsonable(out),
            "resources": "the nine seed datasets; all datasets work with the "
            "detect_anomalies and pareto tools",
            "paging": {
                "limit": f"rows per read (default {DEFAULT_LIMIT}, max {MAX_LIMIT})",
                "offset": "first row (default 0)",
            },
        }
    )


def _description(ds: Dataset) -> str:
    filters = "; ".join(f"{f.name} ({f.kind}): {f.doc}" for f in ds.filters)
    window = f" Default window: {ds.default_window}." if ds.default_window else ""
    return (
        f"{ds.doc.strip()}{window} Filters: {filters or 'none'}. Paging: limit "
        f"(default {DEFAULT_LIMIT}, max {MAX_LIMIT}), offset. Choice filters take several "
        "values comma-separated. Responses state data=live|cache|demo and provenance."
    )


def _template_fn(runtime: Runtime, ds: Dataset) -> Callable[..., str]:
    names = query_names(ds)

    def read(**query: str | None) -> str:
        return read_dataset(runtime, ds, query)

    # The SDK matches template variables to parameters by name: give it the filters'.
    params = [
        inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=str | None)
        for n in names
    ]
    read.__signature__ = inspect.Signature(params, return_annotation=str)  # type: ignore[attr-defined]
    read.__annotations__ = {n: str | None for n in names} | {"return": str}
    read.__name__ = f"read_{ds.name}"
    return read


def register_resources(server: MCPServer, runtime: Runtime) -> None:
    """Add the catalog, the nine seed datasets and their URI templates to ``server``."""
    server.resource(
        CATALOG_URI,
        name="datasets",
        title="opskit dataset catalog",
        description="Every dataset: summary, filters (with valid choices), columns, URIs.",
        mime_type=MIME,
    )(lambda: catalog(runtime))
    for ds in SEED_RESOURCES:
        server.resource(
            dataset_uri(ds.name),
            name=ds.name,
            title=ds.summary,
            description=_description(ds),
            mime_type=MIME,
            annotations=Annotations(audience=["assistant", "user"], priority=0.8),
        )(_static_fn(runtime, ds))
        server.resource(
            uri_template(ds),
            name=f"{ds.name}_filtered",
            title=f"{ds.summary} (filtered)",
            description=_description(ds),
            mime_type=MIME,
        )(_template_fn(runtime, ds))


def _static_fn(runtime: Runtime, ds: Dataset) -> Callable[[], str]:
    def read() -> str:
        return read_dataset(runtime, ds, {})

    read.__name__ = f"read_{ds.name}"
    return read
