"""Live connectors to the source systems, built on one shared HTTP plumbing.

Every connector is a context manager around one long-lived ``httpx.Client``,
takes keyword-only arguments ending with an injectable ``transport``, retries
idempotent reads with bounded backoff honouring ``Retry-After`` and vendor
reset headers, rate-limits itself, and raises :mod:`opskit.errors` classes
with redacted URLs. Data methods return frames validated against
:mod:`opskit.schemas` and stamped ``provenance="live"``.

``fakes`` holds contract-following fake servers (``httpx.MockTransport``
handlers, and :func:`fakes.serve` for a real loopback HTTP server).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opskit.config import (
    ConfluenceSettings,
    ConvivaSettings,
    DynatraceSettings,
    JiraSettings,
    NewRelicSettings,
    Settings,
)
from opskit.connectors._http import BaseConnector
from opskit.connectors.confluence import ConfluenceConnector
from opskit.connectors.conviva import ConvivaConnector
from opskit.connectors.dynatrace import DynatraceConnector
from opskit.connectors.jira import JiraConnector
from opskit.connectors.jql import build_jql, jql_quote
from opskit.connectors.newrelic import NewRelicConnector, nrql_quote
from opskit.errors import ConfigError

__all__ = [
    "CONNECTORS",
    "BaseConnector",
    "ConfluenceConnector",
    "ConvivaConnector",
    "DynatraceConnector",
    "JiraConnector",
    "NewRelicConnector",
    "build_jql",
    "connector_from_settings",
    "jql_quote",
    "nrql_quote",
]

CONNECTORS: Mapping[str, type[BaseConnector]] = {
    "newrelic": NewRelicConnector,
    "dynatrace": DynatraceConnector,
    "jira": JiraConnector,
    "confluence": ConfluenceConnector,
    "conviva": ConvivaConnector,
}

_SETTINGS_TYPES: Mapping[str, type[Any]] = {
    "newrelic": NewRelicSettings,
    "dynatrace": DynatraceSettings,
    "jira": JiraSettings,
    "confluence": ConfluenceSettings,
    "conviva": ConvivaSettings,
}


def _env(name: str, field: str) -> str:
    return f"OPSKIT_{name.upper()}__{field.upper()}"


def _secret(value: Any) -> str:
    return value.get_secret_value() if hasattr(value, "get_secret_value") else str(value or "")


def connector_from_settings(name: str, settings: Any, **overrides: Any) -> BaseConnector:
    """Build the connector ``name`` from opskit settings.

    Parameters
    ----------
    name
        One of :data:`CONNECTORS` (``"newrelic"``, ``"dynatrace"``, ``"jira"``,
        ``"confluence"``, ``"conviva"``).
    settings
        The whole :class:`opskit.config.Settings` or that source's settings model.
    **overrides
        Extra constructor arguments (``transport``, ``sleep``, ``clock``, ``progress``...).

    Raises
    ------
    ConfigError
        If ``name`` is unknown or required settings are missing; the message names
        the missing settings (as environment variables), never any value.
    """
    if name not in CONNECTORS:
        raise ConfigError(f"unknown connector {name!r}; valid: {', '.join(CONNECTORS)}")
    src: Any = settings.source(name) if isinstance(settings, Settings) else settings
    if not isinstance(src, _SETTINGS_TYPES[name]):
        raise TypeError(f"expected {_SETTINGS_TYPES[name].__name__} or Settings for {name!r}")
    common: dict[str, Any] = {
        "timeout_s": src.timeout_s,
        "deadline_s": src.deadline_s,
        "max_retries": src.max_retries,
        "requests_per_second": src.requests_per_second,
    }
    kwargs: dict[str, Any]
    required: dict[str, Any]
    if isinstance(src, NewRelicSettings):
        required = {"api_key": _secret(src.api_key), "account_id": src.account_id}
        kwargs = {**required, "region": src.region, "endpoint": src.endpoint}
    elif isinstance(src, DynatraceSettings):
        required = {"base_url": src.base_url, "api_token": _secret(src.api_token)}
        kwargs = dict(required)
    elif isinstance(src, JiraSettings):
        required = {"base_url": src.base_url, "api_token": _secret(src.api_token)}
        if src.deployment == "cloud":
            required["email"] = src.email
        kwargs = {**required, "email": src.email, "deployment": src.deployment}
        kwargs.update({f"{role}_field": value for role, value in src.fields.items()})
    elif isinstance(src, ConfluenceSettings):
        required = {
            "base_url": src.base_url,
            "api_token": _secret(src.api_token),
            "email": src.email,
        }
        kwargs = {**required, "space_key": src.space_key}
    else:
        required = {"client_id": src.client_id, "client_secret": _secret(src.client_secret)}
        kwargs = {
            **required, "base_url": src.base_url, "cdn_dimension": src.dimensions["cdn"],
            "device_dimension": src.dimensions["device"],
        }  # fmt: skip
    missing = [_env(name, k) for k, v in required.items() if v in (None, "")]
    if missing:
        raise ConfigError(f"{name} is not configured: set {', '.join(missing)}")
    return CONNECTORS[name](**{**common, **kwargs, **overrides})
