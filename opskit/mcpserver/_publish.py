"""Write tools, registered only when ``allow_writes`` is true."""

from __future__ import annotations

import html
from typing import Annotated, Any, Literal, cast

from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import Field

from opskit import analyses
from opskit.analytics._result import Result
from opskit.errors import OpsKitError
from opskit.mcpserver._convert import finding_dict, jsonable, provenance_header, report_info
from opskit.mcpserver._runtime import Runtime
from opskit.mcpserver._tooling import as_tool_result, guarded, make_tool

__all__ = ["WRITE_TOOLS", "publish_tool"]

#: Tools registered only when ``allow_writes`` is true.
WRITE_TOOLS = ("publish_to_confluence",)

AnalysisName = Literal[
    "churn_root_cause", "complaint_themes", "production_risk", "revenue_forecast",
    "retention_campaign",
]  # fmt: skip


def _storage_page(result: Result, report: dict[str, Any] | None) -> str:
    """Confluence storage XHTML of a result: provenance, key numbers, findings (all escaped)."""
    esc = html.escape
    parts = [
        f"<p><strong>{esc(result.provenance.label())}</strong></p>",
        "<h2>Key numbers</h2><ul>",
    ]
    parts += [f"<li><strong>{esc(str(k))}</strong>: {esc(str(jsonable(v)))}</li>"
              for k, v in result.summary.items()]  # fmt: skip
    parts.append("</ul><h2>Findings</h2><ol>")
    parts += [f"<li>{esc(f.text())}</li>" for f in result.findings[:20]]
    parts.append("</ol>")
    if report and report.get("html"):
        parts.append(f"<p>Full report: <code>{esc(report['html'])}</code></p>")
    return "".join(parts)


def publish_tool(runtime: Runtime) -> Tool:
    """``publish_to_confluence``: run an analysis and publish its findings as a page."""

    def publish_to_confluence(
        analysis: Annotated[AnalysisName, Field(description="analysis (report) to run")],
        title: Annotated[str, Field(min_length=1, max_length=255, description="page title")],
        arguments: Annotated[
            dict[str, Any] | None,
            Field(description="the analysis's arguments, as for its own tool (default: defaults)"),
        ] = None,
        space_key: Annotated[
            str | None, Field(description="Confluence space (default: from settings)")
        ] = None,
    ) -> CallToolResult:
        """Create or update a Confluence page with an analysis's key numbers and findings."""

        def compute() -> dict[str, Any]:
            from opskit.connectors import connector_from_settings
            from opskit.connectors.confluence import ConfluenceConnector

            settings = runtime.settings
            if not settings.allow_writes:  # settings are fixed at start; checked all the same
                raise OpsKitError("writes are disabled (allow_writes is false)")
            result = analyses.ANALYSES[analysis](**(arguments or {}), settings=settings)
            report = report_info(settings.home, analysis)
            body = _storage_page(result, report)
            conf = cast(ConfluenceConnector, connector_from_settings("confluence", settings))
            with conf:
                page = conf.publish_page(title=title, body=body, space_key=space_key)
            return {
                **provenance_header(result.provenance),
                "tool": "publish_to_confluence",
                "page": jsonable(page),
                "findings": [finding_dict(f) for f in result.findings[:5]],
                "report": report,
            }

        return as_tool_result(runtime.locked(lambda: guarded(compute)))

    return make_tool(
        publish_to_confluence,
        name="publish_to_confluence",
        description=(
            "WRITES to Confluence: run an analysis and create or update the page titled 'title' "
            "with its key numbers and findings (labelled live/cache/demo). Only offered when "
            "opskit's allow_writes setting is true."
        ),
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True
        ),
    )
