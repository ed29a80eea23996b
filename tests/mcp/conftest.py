"""Fixtures of the MCP server tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def mcp_env(demo_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Server environment: the test warehouse and a project home of its own."""
    home = tmp_path_factory.mktemp("mcp_home")
    return {**demo_env, "OPSKIT_HOME": str(home)}
