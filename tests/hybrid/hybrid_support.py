"""Helpers shared by the hybrid-mode tests (a uniquely named module, unlike ``conftest``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from opskit.config import Settings
from opskit.connectors import BaseConnector, connector_from_settings, fakes

#: The ``make_settings`` fixture: settings for a fresh project home, with overrides.
MakeSettings = Callable[..., Settings]

#: A window inside the demo warehouse's data (which ends 2026-11-01).
WINDOW = {"start": "2026-10-31T00:00Z", "end": "2026-10-31T06:00Z"}
APM = {"service": "playback-api", "resolution": "5min", **WINDOW}
CANARY = "NRAK-CANARY-0xDEADBEEF"


class FakeFactory:
    """A connector factory sending every request to ``fake`` through ``httpx.MockTransport``."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake
        self.built: list[str] = []

    def __call__(self, name: str, settings: Settings) -> BaseConnector:
        self.built.append(name)
        return connector_from_settings(
            name,
            settings,
            transport=httpx.MockTransport(self.fake),
            sleep=lambda s: None,
            progress=False,
        )


def newrelic_settings(mode: str = "auto", **extra: Any) -> dict[str, Any]:
    """New Relic settings accepted by ``fakes.newrelic()`` (no retries: failures are quick)."""
    return {
        "mode": mode,
        "api_key": fakes.NEWRELIC_KEY,
        "account_id": fakes.NEWRELIC_ACCOUNT,
        "endpoint": "https://nerdgraph.example.invalid/graphql",
        "max_retries": 0,
        **extra,
    }
