"""Fixtures of the hybrid-mode tests: a fresh project home (so a fresh cache) per test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hybrid_support import MakeSettings

from opskit.config import Settings, load_settings


@pytest.fixture()
def make_settings(demo_env: dict[str, str], demo_path: Path, tmp_path: Path) -> MakeSettings:
    """Settings on the session demo warehouse with a fresh home (so a fresh cache) per test."""

    def make(**overrides: Any) -> Settings:
        kw: dict[str, Any] = {"home": tmp_path, "warehouse_url": f"duckdb://{demo_path}"}
        return load_settings(**(kw | overrides))

    return make
