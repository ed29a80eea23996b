"""Write tools are opt-in (``allow_writes``); ``opskit mcp --http`` serves streamable HTTP locally."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp_support import REPO

from opskit import analyses
from opskit.config import load_settings
from opskit.connectors import fakes
from opskit.mcpserver import WRITE_TOOLS, build_server


def _tools(server: Any) -> list[Any]:
    async def listing() -> list[Any]:
        async with Client(server) as client:
            return (await client.list_tools()).tools

    return anyio.run(listing)


def test_sdk_is_importable_and_not_shadowed_by_opskit() -> None:
    import mcp

    assert "site-packages" in (mcp.__file__ or "")
    assert not (REPO / "opskit" / "mcp").exists() and not (REPO / "opskit" / "mcp.py").exists()


def test_write_tools_are_not_registered_without_allow_writes(demo_env: dict[str, str]) -> None:
    names = [t.name for t in _tools(build_server(load_settings(allow_writes=False)))]
    assert names and not set(WRITE_TOOLS) & set(names)


def test_publish_tool_writes_to_confluence_only_with_allow_writes(
    demo_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = fakes.confluence()
    with fakes.serve(fake) as url:
        monkeypatch.setenv("OPSKIT_CONFLUENCE__BASE_URL", url)
        monkeypatch.setenv("OPSKIT_CONFLUENCE__EMAIL", fakes.CONFLUENCE_EMAIL)
        monkeypatch.setenv("OPSKIT_CONFLUENCE__API_TOKEN", fakes.CONFLUENCE_TOKEN)
        monkeypatch.setenv("OPSKIT_CONFLUENCE__SPACE_KEY", "OPS")
        settings = load_settings(allow_writes=True)
        server = build_server(settings)
        tool = next(t for t in _tools(server) if t.name == "publish_to_confluence")
        assert tool.annotations is not None and tool.annotations.read_only_hint is False
        assert tool.annotations.destructive_hint is True

        async def publish() -> tuple[Any, Any]:
            async with Client(server) as client:
                ok = await client.call_tool(
                    "publish_to_confluence",
                    {"analysis": "production_risk", "title": "Production risk (MCP)",
                     "arguments": {"severity": "critical"}},
                )  # fmt: skip
                bad = await client.call_tool(
                    "publish_to_confluence",
                    {
                        "analysis": "production_risk",
                        "title": "X",
                        "arguments": {"severity": "huge"},
                    },
                )
                return ok, bad

        ok, bad = anyio.run(publish)
    assert not ok.is_error, ok.content
    body = ok.structured_content
    assert body["data"] == "demo" and body["page"]["action"] == "created"
    page = next(iter(fake.pages.values()))
    assert page["title"] == "Production risk (MCP)"
    storage = json.dumps(page)
    assert "DEMO DATA" in storage
    result = analyses.analyze_production_risk(severity="critical", settings=settings)
    assert result.findings[0].title.replace("'", "&#x27;")[:30] in storage
    assert bad.is_error and "severity" in bad.content[0].text  # type: ignore[union-attr]
    assert len(fake.pages) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_http_transport_serves_on_localhost(mcp_env: dict[str, str]) -> None:
    port = _free_port()
    env = {**os.environ, **mcp_env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "opskit.cli", "mcp", "--http", "--port", str(port)],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        proc.stderr.read().decode() if proc.stderr else ""
                    ) from None
                time.sleep(0.2)

        async def session() -> tuple[list[str], Any, str]:
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                tools = [t.name for t in (await client.list_tools()).tools]
                call = await client.call_tool(
                    "pareto",
                    {
                        "dataset": "revenue_impact",
                        "value": "revenue_lost_annual_usd",
                        "by": ["driver"],
                    },
                )
                read = await client.read_resource("opskit://datasets/revenue_impact?limit=2")
                return tools, call, read.contents[0].text  # type: ignore[union-attr]

        tools, call, text = anyio.run(session)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()
    assert "analyze_churn_root_cause" in tools and "publish_to_confluence" not in tools
    assert not call.is_error and call.structured_content["data"] == "demo"
    assert json.loads(text)["returned"] == 2
