"""The opskit MCP server: build it, run it over stdio or streamable HTTP."""

from __future__ import annotations

import difflib
import logging
import threading
import time
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, CallToolResult, InputRequiredResult
from pydantic import AnyUrl, ValidationError

import opskit
from opskit.config import Settings, load_settings
from opskit.datasets import SEED_RESOURCES
from opskit.mcpserver._resources import CATALOG_URI, SCHEME, query_names, register_resources
from opskit.mcpserver._runtime import Runtime
from opskit.mcpserver._tools import ANALYSIS_TOOLS, build_tools

__all__ = ["DEFAULT_PORT", "OpskitMCPServer", "build_server", "serve", "warm_up"]

logger = logging.getLogger(__name__)

#: Port of ``opskit mcp --http`` (always bound to 127.0.0.1).
DEFAULT_PORT = 8765
HOST = "127.0.0.1"

INSTRUCTIONS = """\
opskit: operations analytics for a video-streaming service (churn, complaints, production
issues, revenue, retention campaigns, service health).
Resources: opskit://datasets (the catalog: filters, columns, URIs) and
opskit://datasets/<name>{?filters,limit,offset} for the nine datasets (JSON with provenance,
row counts and explicit truncation).
Tools: the five analyses (analyze_churn_root_cause, analyze_complaint_themes,
analyze_production_risk, forecast_revenue_with_constraints, generate_retention_campaign),
executive_summary (the KPIs as every opskit surface defines them), service_health, and
detect_anomalies and pareto over any dataset column. A tool answers in text (figures in
their units) with full-precision JSON as structured content.
Every response says data = live | cache | demo: say so when you quote numbers from
cache or demo data. The server is read-only unless opskit's allow_writes setting is true."""


def _problems(exc: ValidationError) -> str:
    out = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e["loc"]) or "arguments"
        msg = str(e["msg"]).removeprefix("Value error, ")
        got = repr(e.get("input"))
        out.append(
            f"{where}: {msg}"
            + (f" (got {got})" if e["type"] != "missing" and len(got) <= 80 else "")
        )
    return "; ".join(out)


class OpskitMCPServer(MCPServer[Any]):
    """An :class:`~mcp.server.mcpserver.MCPServer` with opskit's argument checks.

    Over the SDK's own validation it adds: unknown tool arguments and unknown
    resource query parameters are errors (naming the valid ones) instead of
    being ignored, and validation errors read as one line per problem.
    """

    def __init__(self, runtime: Runtime, tools: list[Tool]) -> None:
        super().__init__(
            name="opskit",
            title="opskit operations analytics",
            instructions=INSTRUCTIONS,
            version=opskit.__version__,
            tools=tools,
            log_level="WARNING",
        )
        self.runtime = runtime
        self._arguments = {t.name: set(t.parameters.get("properties", {})) for t in tools}
        register_resources(self, runtime)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        """Call tool ``name``; unknown tools and arguments are tool errors naming valid ones."""
        if name not in self._arguments:
            hint = difflib.get_close_matches(name, list(self._arguments), n=1)
            tip = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ToolError(f"unknown tool {name!r}{tip}; tools: {', '.join(self._arguments)}")
        unknown = sorted(set(arguments) - self._arguments[name])
        if unknown:
            raise ToolError(
                f"{name}: unknown argument(s) {', '.join(unknown)}; valid arguments: "
                f"{', '.join(sorted(self._arguments[name]))}"
            )
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError) and not isinstance(exc, UnexpectedToolError):
                raise ToolError(f"{name}: invalid arguments: {_problems(cause)}") from cause
            raise

    async def read_resource(
        self, uri: AnyUrl | str, context: Context[Any, Any] | None = None
    ) -> Any:
        """Read ``uri``; an unknown dataset or query parameter is an ``invalid params`` error."""
        parts = urlsplit(str(uri))
        if parts.scheme == SCHEME and parts.netloc == "datasets" and parts.path.strip("/"):
            name = parts.path.strip("/")
            seeds = {ds.name: ds for ds in SEED_RESOURCES}
            if name not in seeds:
                hint = difflib.get_close_matches(name, list(seeds), n=1)
                tip = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise MCPError(
                    code=INVALID_PARAMS,
                    message=f"unknown dataset resource {name!r}{tip}; resources: "
                    f"{', '.join(seeds)} (every dataset, see {CATALOG_URI}, works with the "
                    "detect_anomalies and pareto tools)",
                    data={"uri": str(uri)},
                )
            valid = query_names(seeds[name])
            unknown = [
                k for k, _ in parse_qsl(parts.query, keep_blank_values=True) if k not in valid
            ]
            if unknown:
                hint = difflib.get_close_matches(unknown[0], valid, n=1)
                tip = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise MCPError(
                    code=INVALID_PARAMS,
                    message=f"dataset {name!r} has no filter {unknown[0]!r}{tip}; valid: "
                    f"{', '.join(valid)}",
                    data={"uri": str(uri)},
                )
        return await super().read_resource(uri, context)


def warm_up(server: OpskitMCPServer) -> threading.Thread:
    """Answer every analysis tool's default question once, in the background.

    The answers land in the server's memo (and the stored answers, see
    :class:`~opskit.mcpserver._runtime.Runtime`), so the first question an assistant
    asks a warm server is a memo read. A tool that fails here is logged and skipped;
    its error will reach the client when it asks.
    """

    def run() -> None:
        for name in ANALYSIS_TOOLS:
            tool = server._tool_manager.get_tool(name)
            if tool is None:
                continue
            t0 = time.perf_counter()
            try:
                tool.fn()
            except Exception as exc:  # the client will see the same error when it asks
                logger.warning("warm-up of %s failed: %s", name, exc)
                continue
            logger.info("warm-up of %s in %.0f ms", name, (time.perf_counter() - t0) * 1000)

    thread = threading.Thread(target=run, name="opskit-mcp-warm", daemon=True)
    thread.start()
    return thread


def build_server(settings: Settings | None = None) -> OpskitMCPServer:
    """The opskit MCP server for ``settings`` (default: :func:`~opskit.config.load_settings`).

    Write tools (``publish_to_confluence``) are registered only when
    ``settings.allow_writes`` is true.
    """
    runtime = Runtime(settings or load_settings())
    return OpskitMCPServer(runtime, build_tools(runtime))


def serve(
    transport: Literal["stdio", "streamable-http"] = "stdio",
    *,
    port: int = DEFAULT_PORT,
    settings: Settings | None = None,
    warm: bool = True,
) -> None:
    """Run the server until the client disconnects (stdio) or the process is stopped (HTTP).

    Streamable HTTP listens on 127.0.0.1 only, at ``http://127.0.0.1:<port>/mcp``. With
    ``warm`` (the default) the analyses' default answers are computed in the background
    first (:func:`warm_up`).
    """
    server = build_server(settings)
    if warm:
        warm_up(server)
    logger.info(
        "opskit mcp: %s, %d tools, writes %s", transport, len(server._arguments),
        "enabled" if server.runtime.settings.allow_writes else "disabled",
    )  # fmt: skip
    if transport == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host=HOST, port=port)
