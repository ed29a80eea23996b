"""Shared fixtures: a fake clock whose sleep advances time, and connector builders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from connector_support import FakeClock

from opskit.connectors import (
    ConfluenceConnector,
    ConvivaConnector,
    DynatraceConnector,
    JiraConnector,
    NewRelicConnector,
    fakes,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


Builder = Callable[..., Any]


def _kwargs(clock: FakeClock, handler: Any, base_url: str | None) -> dict[str, Any]:
    kw: dict[str, Any] = {"sleep": clock.sleep, "clock": clock}
    if base_url is None:
        kw["transport"] = httpx.MockTransport(handler)
    return kw


@pytest.fixture
def newrelic(clock: FakeClock) -> Builder:
    def build(fake: Any, *, base_url: str | None = None, **kw: Any) -> NewRelicConnector:
        kw.setdefault("progress", False)
        kw.setdefault("api_key", fakes.NEWRELIC_KEY)
        kw.setdefault("account_id", fakes.NEWRELIC_ACCOUNT)
        endpoint = f"{base_url or 'https://api.newrelic.com'}/graphql"
        return NewRelicConnector(endpoint=endpoint, **kw, **_kwargs(clock, fake, base_url))

    return build


@pytest.fixture
def dynatrace(clock: FakeClock) -> Builder:
    def build(fake: Any, *, base_url: str | None = None, **kw: Any) -> DynatraceConnector:
        kw.setdefault("progress", False)
        kw.setdefault("api_token", fakes.DYNATRACE_TOKEN)
        url = base_url or "https://abc12345.dynatrace.example.invalid"
        return DynatraceConnector(base_url=url, **kw, **_kwargs(clock, fake, base_url))

    return build


@pytest.fixture
def jira(clock: FakeClock) -> Builder:
    def build(fake: Any, *, base_url: str | None = None, **kw: Any) -> JiraConnector:
        kw.setdefault("progress", False)
        kw.setdefault("api_token", fakes.JIRA_TOKEN)
        kw.setdefault("email", fakes.JIRA_EMAIL)
        kw.setdefault("deployment", getattr(fake, "mode", "cloud"))
        url = base_url or "https://jira.example.invalid"
        return JiraConnector(base_url=url, **kw, **_kwargs(clock, fake, base_url))

    return build


@pytest.fixture
def confluence(clock: FakeClock) -> Builder:
    def build(fake: Any, *, base_url: str | None = None, **kw: Any) -> ConfluenceConnector:
        kw.setdefault("progress", False)
        kw.setdefault("api_token", fakes.CONFLUENCE_TOKEN)
        kw.setdefault("email", fakes.CONFLUENCE_EMAIL)
        kw.setdefault("space_key", "OPS")
        url = base_url or "https://wiki.example.invalid"
        return ConfluenceConnector(base_url=url, **kw, **_kwargs(clock, fake, base_url))

    return build


@pytest.fixture
def conviva(clock: FakeClock) -> Builder:
    def build(fake: Any, *, base_url: str | None = None, **kw: Any) -> ConvivaConnector:
        kw.setdefault("progress", False)
        kw.setdefault("client_id", fakes.CONVIVA_CLIENT_ID)
        kw.setdefault("client_secret", fakes.CONVIVA_CLIENT_SECRET)
        url = base_url or "https://api.conviva.example.invalid"
        return ConvivaConnector(base_url=url, **kw, **_kwargs(clock, fake, base_url))

    return build
