"""What the tool modules share: argument types, error mapping, result wrapping."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import pandas as pd
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import AfterValidator, Field

from opskit.catalog import load
from opskit.datasets import REGISTRY
from opskit.errors import OpsKitError
from opskit.mcpserver._convert import payload_text
from opskit.mcpserver._runtime import Runtime

__all__ = [
    "READ_ONLY",
    "DatasetName",
    "Filters",
    "as_tool_result",
    "guarded",
    "load_dataset",
    "make_tool",
]

#: Annotations of every read-only tool.
READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)


def _known_dataset(name: str) -> str:
    if name not in REGISTRY:
        hint = difflib.get_close_matches(name, list(REGISTRY), n=1)
        tip = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise ValueError(f"unknown dataset {name!r}{tip}; valid datasets: {', '.join(REGISTRY)}")
    return name


#: A catalog dataset name; the JSON schema lists them all.
DatasetName = Annotated[
    str,
    AfterValidator(_known_dataset),
    Field(description="catalog dataset", json_schema_extra={"enum": list(REGISTRY)}),
]
#: Dataset filters, as for ``opskit.load`` (see the ``opskit://datasets`` resource).
Filters = Annotated[
    dict[str, str | int | float | bool | list[str]] | None,
    Field(
        description='dataset filters as for opskit.load, e.g. {"start": "2026-10-01", '
        '"region": "brazil"}; each dataset\'s filters are listed by the opskit://datasets '
        "resource"
    ),
]


def as_tool_result(payload: dict[str, Any]) -> CallToolResult:
    """The text a person reads (:func:`payload_text`) and the full-precision JSON beside it."""
    return CallToolResult(
        content=[TextContent(text=payload_text(payload))], structured_content=payload
    )


def guarded(compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``compute()``, with opskit's and caller-input errors turned into tool errors."""
    try:
        return compute()
    except (OpsKitError, ValueError, TypeError) as exc:
        raise ToolError(str(exc)) from None


def make_tool(
    fn: Callable[..., Any],
    *,
    name: str,
    description: str,
    annotations: ToolAnnotations = READ_ONLY,
) -> Tool:
    tool = Tool.from_function(fn, name=name, description=description, annotations=annotations)
    tool.parameters["additionalProperties"] = False  # unknown arguments are rejected
    return tool


def load_dataset(runtime: Runtime, dataset: str, filters: Mapping[str, Any] | None) -> pd.DataFrame:
    """``opskit.load(dataset, **filters)``; only the dataset's declared filters are passed."""
    names = [f.name for f in REGISTRY[dataset].filters]
    unknown = [k for k in (filters or {}) if k not in names]
    if unknown:
        raise ValueError(
            f"dataset {dataset!r} has no filter {unknown[0]!r}; valid: {', '.join(names) or 'none'}"
        )
    opts: dict[str, Any] = dict(filters or {})
    return load(dataset, settings=runtime.settings, **opts)
