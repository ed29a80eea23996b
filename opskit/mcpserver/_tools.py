"""MCP tools: the five analyses, ``detect_anomalies``, ``pareto`` and (opt-in) publishing.

Analysis tools are *generated* from the analyses' own typed signatures (the ones
the report notebooks use): each parameter keeps its annotation, ``Annotated``
constraints and default, gains the description from the NumPy docstring, and
the SDK turns the whole into the tool's JSON schema and argument validation.
``settings`` is the server's and is never a tool argument.

Every response is compact JSON (see :func:`opskit.mcpserver._convert.result_payload`)
that starts with ``data`` = ``live`` | ``cache`` | ``demo``. A bad argument is a
tool error (``isError``) with opskit's own message; an unexpected failure is a
tool error saying only that it failed (the traceback stays in the server log).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, get_type_hints

from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult
from pydantic import Field

from opskit import analyses
from opskit.analytics._result import Result
from opskit.mcpserver._convert import (
    docstring_params,
    docstring_summary,
    plain_text,
    report_info,
    result_payload,
)
from opskit.mcpserver._explore import detect_anomalies_tool, pareto_tool
from opskit.mcpserver._publish import WRITE_TOOLS, publish_tool
from opskit.mcpserver._runtime import Runtime
from opskit.mcpserver._tooling import as_tool_result, guarded, make_tool

__all__ = ["ANALYSIS_TOOLS", "WRITE_TOOLS", "analysis_tool", "build_tools"]

#: Tool name -> report name (``notebooks/analyses/<name>.ipynb``): the five seed analyses,
#: the executive summary (the KPIs every surface shows) and service health.
ANALYSIS_TOOLS: dict[str, str] = {
    "analyze_churn_root_cause": "churn_root_cause",
    "analyze_complaint_themes": "complaint_themes",
    "analyze_production_risk": "production_risk",
    "forecast_revenue_with_constraints": "revenue_forecast",
    "generate_retention_campaign": "retention_campaign",
    "executive_summary": "executive_summary",
    "service_health": "service_health",
}


# -- the five analyses ----------------------------------------------------------------------------
def _parameters(fn: Callable[..., Result]) -> list[inspect.Parameter]:
    """The tool parameters of an analysis: its own, typed, minus ``settings``."""
    original = inspect.unwrap(fn)
    hints = get_type_hints(original, include_extras=True)
    docs = docstring_params(original.__doc__)
    params = []
    for p in inspect.signature(original).parameters.values():
        if p.name == "settings":
            continue
        annotation = hints[p.name]
        if docs.get(p.name):
            annotation = Annotated[annotation, Field(description=docs[p.name])]
        params.append(p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=annotation))
    return params


def _returns(doc: str | None) -> str:
    text = doc or ""
    if "Returns\n" not in text:
        return ""
    body = text.split("Returns\n", 1)[1].split("\n\n", 1)[0]
    lines = [ln.strip() for ln in body.splitlines()[2:] if ln.strip()]  # skip dashes, type
    return plain_text(" ".join(lines))


def analysis_tool(runtime: Runtime, tool: str, report: str) -> Tool:
    """The MCP tool ``tool`` running the analysis of report ``report``.

    Its parameters (JSON schema and validation) come from the analysis's
    signature; the response is :func:`result_payload` plus the latest full
    report run, if any.
    """
    fn = analyses.ANALYSES[report]
    original = inspect.unwrap(fn)

    def call(**arguments: Any) -> CallToolResult:
        def compute() -> dict[str, Any]:
            result = fn(**arguments, settings=runtime.settings)
            return result_payload(tool, result, parameters=arguments)

        payload = runtime.memoised(tool, arguments, lambda: guarded(compute))
        return as_tool_result({**payload, "report": report_info(runtime.settings.home, report)})

    call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        _parameters(fn), return_annotation=CallToolResult
    )
    call.__name__ = tool
    returns = _returns(original.__doc__)
    description = (
        f"{docstring_summary(original.__doc__)} Returns the answer as text (figures in their "
        "units) and, as structured content, full-precision JSON: data (live/cache/demo) and "
        "provenance, summary (key numbers), ranked findings, the top rows of the main table"
        f"{f' ({returns})' if returns else ''}, and the latest full report run when one exists."
    )
    return make_tool(call, name=tool, description=description)


def build_tools(runtime: Runtime) -> list[Tool]:
    """Every tool of the server: read-only ones always, write tools iff ``allow_writes``."""
    tools = [analysis_tool(runtime, t, r) for t, r in ANALYSIS_TOOLS.items()]
    tools += [detect_anomalies_tool(runtime), pareto_tool(runtime)]
    if runtime.settings.allow_writes:
        tools.append(publish_tool(runtime))
    return tools
