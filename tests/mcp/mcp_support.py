"""Drive ``opskit mcp`` over stdio with the SDK's own client.

``run_session`` starts the server exactly as an MCP client would (``python -m
opskit.cli mcp``, environment pointing at the test warehouse), lists everything,
reads the given resources and calls the given tools, and returns a
:class:`Transcript`; the tests then check the transcript against what opskit
returns in-process for the same parameters.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, Resource, ResourceTemplate, Tool

REPO = Path(__file__).resolve().parents[2]


def key(name: str, arguments: dict[str, Any]) -> str:
    """Transcript key of a tool call."""
    return f"{name} {json.dumps(arguments, sort_keys=True)}"


@dataclass
class Transcript:
    tools: list[Tool] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    templates: list[ResourceTemplate] = field(default_factory=list)
    instructions: str | None = None
    reads: dict[str, str] = field(default_factory=dict)
    read_errors: dict[str, tuple[int, str]] = field(default_factory=dict)
    calls: dict[str, CallToolResult] = field(default_factory=dict)

    def call(self, name: str, arguments: dict[str, Any]) -> CallToolResult:
        return self.calls[key(name, arguments)]

    def payload(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """The structured (full-precision) content of a successful call."""
        result = self.call(name, arguments)
        assert not result.is_error, result.content
        assert result.structured_content is not None
        return result.structured_content

    def text(self, name: str, arguments: dict[str, Any]) -> str:
        """The text content of a call: what a person reads."""
        return str(self.call(name, arguments).content[0].text)  # type: ignore[union-attr]


def server_params(env: dict[str, str], *args: str) -> StdioServerParameters:
    """``opskit mcp`` without its warm-up (a test asks its own questions; warm-up has a test)."""
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "opskit.cli", "mcp", "--no-warm", *args],
        env=env,
        cwd=str(REPO),
    )


def run_session(
    env: dict[str, str],
    *,
    reads: list[str] = (),  # type: ignore[assignment]
    calls: list[tuple[str, dict[str, Any]]] = (),  # type: ignore[assignment]
) -> Transcript:
    """Start ``opskit mcp`` over stdio, list, read ``reads``, call ``calls``; return it all."""
    out = Transcript()

    async def scenario() -> None:
        async with Client(server_params(env), read_timeout_seconds=120) as client:
            out.instructions = client.instructions
            out.tools = (await client.list_tools()).tools
            out.resources = (await client.list_resources()).resources
            out.templates = (await client.list_resource_templates()).resource_templates
            for uri in reads:
                try:
                    result = await client.read_resource(uri)
                    out.reads[uri] = result.contents[0].text  # type: ignore[union-attr]
                except MCPError as exc:
                    out.read_errors[uri] = (exc.error.code, exc.error.message)
            for name, arguments in calls:
                out.calls[key(name, arguments)] = await client.call_tool(name, arguments)

    anyio.run(scenario)
    return out
