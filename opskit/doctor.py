"""Health checks behind ``opskit doctor``: settings, warehouse, sources.

Everything returned is safe to print: secrets appear only as "set (hidden)".
"""

from __future__ import annotations

from typing import Any

from opskit.config import SOURCES, SourceMode, load_settings
from opskit.errors import OpsKitError
from opskit.warehouse import open_warehouse

__all__ = ["run_checks"]


def run_checks() -> dict[str, dict[str, Any]]:
    """Check settings, the warehouse and each source system.

    Returns
    -------
    dict
        Sections ``settings``, ``warehouse`` and one per source, each a flat
        dict; a section with ``ok: False`` failed.
    """
    report: dict[str, dict[str, Any]] = {}
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
    }
    wh = open_warehouse(settings)
    section: dict[str, Any] = {"url": wh.url.split("@")[-1] if "@" in wh.url else wh.url}
    try:
        tables = wh.tables()
        meta = wh.meta()
        section.update(
            ok=True,
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
            if k not in ("timeout_s", "max_retries", "requests_per_second")
        }
        entry["effective"] = effective
        if mode == SourceMode.LIVE and not src.is_configured:
            entry.update(ok=False, error=f"mode is live but {name} credentials are not configured")
        report[name] = entry
    return report
