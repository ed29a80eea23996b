"""Reading what a vendor said: wait hints in headers and messages in error bodies."""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["parse_reset_header", "parse_retry_after", "vendor_message"]


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def parse_reset_header(value: str | None, *, now: float) -> float | None:
    """Seconds until a vendor ``X-RateLimit-Reset`` time.

    Accepts ISO-8601 (Jira, e.g. ``2024-05-28T16:05Z``) and epoch numbers in
    microseconds (Dynatrace), milliseconds or seconds, told apart by magnitude.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        number = float(value)
        if number > 1e14:  # microseconds since epoch (Dynatrace)
            epoch = number / 1e6
        elif number > 1e11:  # milliseconds
            epoch = number / 1e3
        elif number > 1e9:  # seconds
            epoch = number
        else:  # a small number is a delta in seconds
            return number
        return max(0.0, epoch - now)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def vendor_message(payload: Any) -> str:
    """The human message inside a vendor error body (Jira, Dynatrace, NerdGraph, Confluence...)."""
    parts: list[str] = []
    if isinstance(payload, list):
        for item in payload[:3]:
            parts.append(vendor_message(item))
        return "; ".join(p for p in parts if p)
    if not isinstance(payload, Mapping):
        return ""
    error = payload.get("error")
    if isinstance(error, Mapping):  # Dynatrace envelope
        parts.append(str(error.get("message", "")))
        for v in error.get("constraintViolations") or []:
            if isinstance(v, Mapping):
                parts.append(f"{v.get('path', '')}: {v.get('message', '')}")
    for msg in payload.get("errorMessages") or []:  # Jira
        parts.append(str(msg))
    errors = payload.get("errors")
    if isinstance(errors, Mapping):  # Jira field errors
        parts.extend(f"{k}: {v}" for k, v in errors.items())
    elif isinstance(errors, list):  # GraphQL / Confluence v2
        for e in errors[:3]:
            if isinstance(e, Mapping):
                parts.append(str(e.get("message") or e.get("title") or e.get("detail") or ""))
    if isinstance(payload.get("message"), str):  # Conviva / Confluence v1
        parts.append(payload["message"])
    return "; ".join(p for p in parts if p)[:300]
