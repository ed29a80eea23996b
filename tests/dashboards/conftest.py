"""Fixtures for the dashboard browser tests: a Voila server and Debian's Chromium.

The tests drive ``/usr/bin/chromium`` through Playwright's Python package (no
browser is ever downloaded; the ``browser`` fixture is in ``tests/conftest.py``).
Without either they skip with a reason, unless ``OPSKIT_REQUIRE_SYSTEM=1`` (set by
``.ci/run``), where a skip becomes a failure.
Every request that does not go to 127.0.0.1 is aborted and recorded; a test that
triggered one fails (the dashboards must work with no internet access).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from opskit.config import load_settings
from opskit.dashboards.serving.process import serve
from opskit.dashboards.serving.warm import precompute

ARTIFACTS = Path(os.environ.get("OPSKIT_ARTIFACTS", Path(__file__).parent / "artifacts"))
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """``free_port()``: a port nothing listens on now, on 127.0.0.1."""
    return _free_port


@pytest.fixture(scope="module")
def voila(
    browser: Any, demo_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """Voila on 127.0.0.1 serving the dashboards on the test warehouse; yields their URLs."""
    settings = load_settings()
    precompute(settings=settings)
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    server = serve(port=_free_port(), settings=settings, warm_grid=False, log=log)
    try:
        server.wait_ready(90)
        yield server.urls
    finally:
        server.stop()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context whose non-loopback requests are aborted (and fail the test)."""
    ctx = browser.new_context(viewport={"width": 1300, "height": 900})
    blocked: list[str] = []

    def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith(LOCAL):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    ctx.route("**/*", guard)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.opskit_errors = errors
    yield pg
    ctx.close()
    assert not blocked, f"the dashboard tried to reach the internet: {blocked}"
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture()
def screenshot() -> Any:
    """``screenshot(page, name)``: a full-page PNG in the artifacts folder (returns its path)."""

    def shoot(pg: Any, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        return path

    return shoot
