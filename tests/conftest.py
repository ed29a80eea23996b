"""Shared fixtures: one small demo warehouse per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

from opskit.config import Settings, load_settings
from opskit.demo import build_demo
from opskit.warehouse import Warehouse

TEST_SCALE = 0.05
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo warehouse at test scale, built once per session."""
    path = tmp_path_factory.mktemp("warehouse") / "opskit.duckdb"
    build_demo(Warehouse(f"duckdb://{path}", read_only=False), seed=7, scale=TEST_SCALE)
    return path


@pytest.fixture(scope="session")
def demo_env(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment pointing opskit at the test warehouse, with an empty project home."""
    home = tmp_path_factory.mktemp("home")
    env = {"OPSKIT_HOME": str(home), "OPSKIT_WAREHOUSE_URL": f"duckdb://{demo_path}"}
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("OPSKIT_")]:
            mp.delenv(key)
        for key, value in env.items():
            mp.setenv(key, value)
        yield env


@pytest.fixture()
def settings(demo_env: dict[str, str]) -> Settings:
    return load_settings()


@pytest.fixture()
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No OPSKIT_* variables; an empty project home. Returns the home folder."""
    for key in [k for k in os.environ if k.startswith("OPSKIT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("OPSKIT_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="session")
def opskit_kernel() -> str:
    """The ``opskit`` Jupyter kernel (registered in this environment if missing)."""
    try:
        KernelSpecManager().get_kernel_spec("opskit")
    except NoSuchKernel:
        subprocess.run(
            [sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", "opskit"],
            check=True,
            capture_output=True,
        )
    return "opskit"
