"""opskit as an MCP server: datasets as resources, analyses as tools (``opskit mcp``).

Built on the official ``mcp`` Python SDK (``mcp.server.mcpserver.MCPServer``).
This package is ``opskit.mcpserver``, never a top-level ``mcp``, so the SDK stays
importable.

* :func:`build_server` returns the server (resources, tools) for given settings.
* :func:`serve` runs it over stdio (default) or streamable HTTP on 127.0.0.1.

Resources: ``opskit://datasets`` (catalog) and ``opskit://datasets/<name>`` with
filters as URI query parameters for the nine seed datasets. Tools: the five
analyses (parameters generated from their typed signatures), ``detect_anomalies``
and ``pareto``; ``publish_to_confluence`` only with ``allow_writes``.
"""

from __future__ import annotations

from opskit.mcpserver._resources import CATALOG_URI, DEFAULT_LIMIT, MAX_LIMIT, dataset_uri
from opskit.mcpserver._tools import ANALYSIS_TOOLS, WRITE_TOOLS
from opskit.mcpserver.server import DEFAULT_PORT, OpskitMCPServer, build_server, serve, warm_up

__all__ = [
    "ANALYSIS_TOOLS",
    "CATALOG_URI",
    "DEFAULT_LIMIT",
    "DEFAULT_PORT",
    "MAX_LIMIT",
    "WRITE_TOOLS",
    "OpskitMCPServer",
    "build_server",
    "dataset_uri",
    "serve",
    "warm_up",
]
