"""Health checks behind ``opskit doctor``: settings, warehouse, cache, sources.

Each configured source (mode ``live`` or ``auto``) is probed with its
connector's ``check()``: authentication, reachability and read permission, with
no retries beyond the probe's own. For Jira, doctor also lists the instance's
custom fields (name, id, type) so ``OPSKIT_JIRA__FIELDS__<ROLE>`` can be set,
and shows which field each configured role resolves to. Everything returned is
safe to print: secrets appear only as "set (hidden)" and check details are
redacted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from opskit.cache import ResultCache
from opskit.config import SOURCES, Settings, SourceMode, load_settings
from opskit.connectors import BaseConnector, JiraConnector, connector_from_settings
from opskit.connectors._jira_fields import describe_custom_fields, describe_mapping
from opskit.connectors._redact import redact_text
from opskit.errors import ConfigError, ConnectorError, OpsKitError
from opskit.warehouse import open_warehouse

__all__ = ["check_source", "run_checks"]

logger = logging.getLogger(__name__)

#: Builds a source's connector from settings (tests inject fake transports here).
ConnectorFactory = Callable[[str, Settings], BaseConnector]


def _probe_connector(name: str, settings: Settings) -> BaseConnector:
    """The connector for a doctor probe: no retries, so an unreachable host fails fast."""
    return connector_from_settings(name, settings, max_retries=0)


def check_source(
    name: str, settings: Settings, *, connector_factory: ConnectorFactory | None = None
) -> dict[str, Any]:
    """Probe one configured source: ``{"ok": bool, "detail": str}`` (secrets redacted).

    For Jira, a successful probe adds ``custom_fields`` (one line per custom
    field: name, id, type and the role mapped to it) and ``field_mapping`` (which
    field each ``OPSKIT_JIRA__FIELDS__<ROLE>`` resolves to); a mapping that does
    not resolve makes the check fail.

    Never raises for a source problem: bad settings, rejected credentials,
    missing permissions and unreachable hosts all come back as ``ok: False``.
    """
    src = settings.source(name)
    secrets = [v.get_secret_value() for _, v in src if hasattr(v, "get_secret_value")]
    extra: dict[str, Any] = {}
    try:
        with (connector_factory or _probe_connector)(name, settings) as conn:
            result = conn.check()
            if result.get("ok") and isinstance(conn, JiraConnector):
                extra = _jira_fields(conn)
    except OpsKitError as exc:
        result = {"ok": False, "detail": str(exc)}
    known = [s for s in secrets if s]
    detail = redact_text(str(result.get("detail", "")), known)
    logger.debug("doctor: %s check ok=%s", name, result.get("ok"))
    out: dict[str, Any] = {"ok": bool(result.get("ok")) and extra.get("ok", True), "detail": detail}
    out.update({k: redact_text(str(v), known) for k, v in extra.items() if k != "ok"})
    return out


def _jira_fields(conn: JiraConnector) -> dict[str, Any]:
    """The instance's custom fields and how the configured roles resolve."""
    try:
        fields = conn.fields()
    except ConnectorError as exc:
        return {"custom_fields": f"could not list them: {exc}"}
    try:
        mapped = conn.resolve_fields(fields)
    except ConfigError as exc:
        return {
            "ok": False,
            "custom_fields": describe_custom_fields(fields),
            "field_mapping": f"error: {exc}",
        }
    return {
        "custom_fields": describe_custom_fields(fields, mapped),
        "field_mapping": describe_mapping(mapped),
    }


def run_checks(
    *, settings: Settings | None = None, connector_factory: ConnectorFactory | None = None
) -> dict[str, dict[str, Any]]:
    """Check settings, the warehouse, the cache and each source system.

    Parameters
    ----------
    settings
        Settings to check (default: read them, reporting invalid ones).
    connector_factory
        Builds the connectors probed (default: from settings, without retries).

    Returns
    -------
    dict
        Sections ``settings``, ``warehouse`` and one per source, each a flat
        dict; a section with ``ok: False`` failed.
    """
    report: dict[str, dict[str, Any]] = {}
    if settings is None:
        try:
            settings = load_settings()
        except OpsKitError as exc:
            return {"settings": {"ok": False, "error": str(exc)}}
    pub = settings.public()
    report["settings"] = {
        "ok": True,
        "home": pub["home"],
        "cache_ttl_s": pub["cache_ttl_s"],
        "demo_seed": pub["demo_seed"],
        "allow_writes": pub["allow_writes"],
        "cache_dir": str(ResultCache.for_settings(settings).root),
    }
    wh = open_warehouse(settings)
    section: dict[str, Any] = {"url": wh.url.split("@")[-1] if "@" in wh.url else wh.url}
    try:
        tables = wh.tables()
        meta = wh.meta()
        section.update(
            ok=True,
            engine=wh.engine,
            tables=len(tables),
            kind=meta.get("kind", "unknown"),
            built_at=meta.get("built_at", "unknown"),
            data_window=f"{meta.get('data_start', '?')} .. {meta.get('data_end', '?')}",
        )
        if wh.path is not None:
            section["size_mb"] = round(wh.path.stat().st_size / 1e6, 1)
    except OpsKitError as exc:
        section.update(ok=False, error=str(exc))
    finally:
        wh.close()
    report["warehouse"] = section
    for name in SOURCES:
        src = settings.source(name)
        info = src.public()
        mode = src.mode
        effective = (
            "demo"
            if mode == SourceMode.DEMO or (mode == SourceMode.AUTO and not src.is_configured)
            else "live"
        )
        entry = {
            k: v
            for k, v in info.items()
            if k not in ("timeout_s", "deadline_s", "max_retries", "requests_per_second")
        }
        entry["effective"] = effective
        if mode == SourceMode.LIVE and not src.is_configured:
            entry.update(ok=False, error=f"mode is live but {name} credentials are not configured")
        elif src.is_configured and mode != SourceMode.DEMO:
            probe = check_source(name, settings, connector_factory=connector_factory)
            entry.update(ok=probe.pop("ok"), check=probe.pop("detail"), **probe)
        elif src.is_configured:
            entry["check"] = "skipped (mode is demo)"
        report[name] = entry
    return report
