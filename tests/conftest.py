"""Shared fixtures: one small demo warehouse per test session, and system packages.

Tests that need a Debian package (``chromium``, ``poppler-utils``, ...) ask for it with
:func:`require_system`: on a machine without it they skip, naming the package to
install; with ``OPSKIT_REQUIRE_SYSTEM=1`` (set by ``.ci/run``, which installs them
all; ``OPSKIT_REQUIRE_BROWSER=1`` is the older name) a missing package fails the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

from opskit.config import Settings, load_settings
from opskit.demo import build_demo
from opskit.warehouse import Warehouse

TEST_SCALE = 0.05
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


#: Read once at start: fixtures such as ``demo_env`` clear every ``OPSKIT_*`` variable.
_REQUIRED = "1" in (
    os.environ.get("OPSKIT_REQUIRE_SYSTEM"),
    os.environ.get("OPSKIT_REQUIRE_BROWSER"),
)


def system_required() -> bool:
    """Whether a missing system package must fail the test instead of skipping it."""
    return _REQUIRED


def require_system(what: str, package: str, present: bool) -> None:
    """Skip (or, under ``OPSKIT_REQUIRE_SYSTEM=1``, fail) unless ``present``.

    ``what`` says what is missing, ``package`` the Debian package that provides it.
    """
    if present:
        return
    reason = (
        f"{what} is missing: install the Debian package {package!r} (apt-get install {package})"
    )
    if system_required():
        pytest.fail(f"required here but cannot run: {reason}")
    pytest.skip(reason)


def require_binary(name: str, package: str) -> str:
    """The path of command ``name``, or a skip/failure naming its Debian ``package``."""
    found = shutil.which(name)
    require_system(f"the command {name!r}", package, found is not None)
    return str(found)


@pytest.fixture(scope="session")
def system_command() -> Any:
    """``system_command(name, package)``: the path of a command from a Debian package.

    Skips naming the package when it is missing (a failure under ``OPSKIT_REQUIRE_SYSTEM=1``).
    """
    return require_binary


def _playwright_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    return None


# The sync API keeps an event loop running: close it with the module.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium (never a downloaded browser), or a skip/failure."""
    require_system(str(CHROMIUM), "chromium", CHROMIUM.exists())
    missing = _playwright_missing()
    if missing is not None:
        if system_required():
            pytest.fail(f"browser tests are required here but cannot run: {missing}")
        pytest.skip(f"browser tests skipped: {missing}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


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
