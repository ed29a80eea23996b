"""Map Jira issue payloads (Cloud v3 or Data Center v2) to ``ProductionIssues`` rows."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

__all__ = ["COLUMNS", "FieldMap", "issue_row", "parse_time", "status_changes"]

logger = logging.getLogger(__name__)

COLUMNS = [
    "key",
    "project",
    "summary",
    "issue_type",
    "priority",
    "severity",
    "status",
    "component",
    "show",
    "team",
    "root_cause",
    "created",
    "resolved",
    "due",
    "cycle_time_days",
    "delay_days",
    "cost_overrun_usd",
    "reopen_count",
    "system",
]
PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")
PRIORITY_ALIASES = {
    "blocker": "Highest",
    "critical": "Highest",
    "p0": "Highest",
    "p1": "Highest",
    "major": "High",
    "p2": "High",
    "normal": "Medium",
    "p3": "Medium",
    "minor": "Low",
    "p4": "Low",
    "trivial": "Lowest",
    "p5": "Lowest",
}
SEVERITY_ALIASES = {
    "critical": "critical",
    "blocker": "critical",
    "sev1": "critical",
    "sev-1": "critical",
    "s1": "critical",
    "high": "high",
    "major": "high",
    "sev2": "high",
    "sev-2": "high",
    "s2": "high",
    "medium": "medium",
    "moderate": "medium",
    "sev3": "medium",
    "sev-3": "medium",
    "s3": "medium",
    "low": "low",
    "minor": "low",
    "trivial": "low",
    "sev4": "low",
    "sev-4": "low",
    "s4": "low",
}
SEVERITY_FROM_PRIORITY = {
    "Highest": "critical",
    "High": "high",
    "Medium": "medium",
    "Low": "low",
    "Lowest": "low",
}
CATEGORY_STATUS = {"new": "open", "indeterminate": "in_progress", "done": "done"}
DONE_NAMES = frozenset({"done", "closed", "resolved", "won't do", "cancelled", "canceled"})


@dataclass(frozen=True)
class FieldMap:
    """Which (custom) fields carry opskit columns, and how names map to categories."""

    cost_field: str | None = None
    budget_field: str | None = None
    delay_field: str | None = None
    show_field: str | None = None
    severity_field: str | None = None
    team_field: str | None = None
    root_cause_field: str | None = None
    status_map: Mapping[str, str] = field(default_factory=dict)
    priority_map: Mapping[str, str] = field(default_factory=dict)

    def custom_fields(self) -> list[str]:
        """Every configured field id, for the search ``fields`` list."""
        ids = (
            self.cost_field,
            self.budget_field,
            self.delay_field,
            self.show_field,
            self.severity_field,
            self.team_field,
            self.root_cause_field,
        )
        return [f for f in ids if f]


def parse_time(value: Any) -> pd.Timestamp | None:
    """Jira time (``2024-05-27T08:14:03.512+0000``) or date (``2024-06-01``) as UTC."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)  # 3.11+: accepts "+0000" offsets
    except ValueError:
        try:
            parsed = pd.Timestamp(value).to_pydatetime()
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return pd.Timestamp(parsed).tz_convert("UTC")


def _text(value: Any) -> str | None:
    """A display string from a Jira field value (option, user, list, plain)."""
    if value is None:
        return None
    if isinstance(value, list):
        return _text(value[0]) if value else None
    if isinstance(value, Mapping):
        for key in ("value", "name", "displayName", "key"):
            if value.get(key):
                return str(value[key])
        return None
    text = str(value).strip()
    return text or None


def _number(value: Any) -> float:
    if isinstance(value, Mapping):
        value = value.get("value")
    if isinstance(value, bool) or value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _status(fields: Mapping[str, Any], fmap: FieldMap) -> str:
    status = fields.get("status") or {}
    name = str(status.get("name") or "").lower()
    if name in fmap.status_map:
        return fmap.status_map[name]
    if "block" in name or "impeded" in name or "on hold" in name:
        return "blocked"
    if "review" in name:
        return "in_review"
    category = str((status.get("statusCategory") or {}).get("key") or "").lower()
    if category in CATEGORY_STATUS:
        return CATEGORY_STATUS[category]
    return "done" if name in DONE_NAMES else "open"


def _priority(fields: Mapping[str, Any], fmap: FieldMap) -> str:
    name = _text(fields.get("priority")) or "Medium"
    if name in fmap.priority_map:
        return fmap.priority_map[name]
    if name in PRIORITIES:
        return name
    mapped = PRIORITY_ALIASES.get(name.lower())
    if mapped is None:
        logger.debug("jira: unknown priority %r mapped to Medium", name)
        return "Medium"
    return mapped


def status_changes(
    histories: Iterable[Mapping[str, Any]],
) -> list[tuple[pd.Timestamp | None, str, str]]:
    """``(when, from, to)`` status transitions from changelog histories, oldest first."""
    out = []
    for h in histories:
        when = parse_time(h.get("created"))
        for item in h.get("items") or []:
            if item.get("fieldId", item.get("field")) == "status" or item.get("field") == "status":
                out.append(
                    (when, str(item.get("fromString") or ""), str(item.get("toString") or ""))
                )
    out.sort(key=lambda t: (t[0] is None, t[0] or pd.Timestamp(0, tz="UTC")))
    return out


def _reopens(changes: list[tuple[pd.Timestamp | None, str, str]], done_names: set[str]) -> int:
    return sum(
        1 for _, src, dst in changes if src.lower() in done_names and dst.lower() not in done_names
    )


def issue_row(
    issue: Mapping[str, Any],
    *,
    fmap: FieldMap,
    as_of: pd.Timestamp,
    histories: Sequence[Mapping[str, Any]] | None,
    done_names: set[str],
    system: str = "jira",
) -> dict[str, Any] | None:
    """One ``ProductionIssues`` row, or ``None`` when the issue lacks a key or created time."""
    fields = issue.get("fields") or {}
    key = issue.get("key")
    created = parse_time(fields.get("created"))
    if not key or created is None:
        logger.warning("jira: skipping issue %s without key or created time", issue.get("id"))
        return None
    resolved = parse_time(fields.get("resolutiondate"))
    due = parse_time(fields.get("duedate"))
    priority = _priority(fields, fmap)
    severity_raw = (_text(fields.get(fmap.severity_field)) if fmap.severity_field else None) or ""
    severity = SEVERITY_ALIASES.get(severity_raw.lower(), SEVERITY_FROM_PRIORITY[priority])
    cycle = (resolved - created).total_seconds() / 86400 if resolved is not None else math.nan
    if fmap.delay_field:
        delay = _number(fields.get(fmap.delay_field))
    elif due is not None:
        delay = ((resolved or as_of) - due).total_seconds() / 86400
    else:
        delay = math.nan
    cost = _number(fields.get(fmap.cost_field)) if fmap.cost_field else math.nan
    if fmap.budget_field and not math.isnan(cost):
        cost = cost - _number(fields.get(fmap.budget_field))
    project = _text((fields.get("project") or {}).get("key")) or str(key).split("-", 1)[0]
    return {
        "key": str(key),
        "project": project,
        "summary": str(fields.get("summary") or ""),
        "issue_type": _text(fields.get("issuetype")) or "Unknown",
        "priority": priority,
        "severity": severity,
        "status": _status(fields, fmap),
        "component": _text(fields.get("components")),
        "show": _text(fields.get(fmap.show_field)) if fmap.show_field else None,
        "team": _text(fields.get(fmap.team_field)) if fmap.team_field else None,
        "root_cause": _text(fields.get(fmap.root_cause_field)) if fmap.root_cause_field else None,
        "created": created,
        "resolved": resolved if resolved is not None else pd.NaT,
        "due": due if due is not None else pd.NaT,
        "cycle_time_days": max(cycle, 0.0) if not math.isnan(cycle) else math.nan,
        "delay_days": max(delay, 0.0) if not math.isnan(delay) else math.nan,
        "cost_overrun_usd": max(cost, 0.0) if not math.isnan(cost) else math.nan,
        "reopen_count": _reopens(status_changes(histories or []), done_names),
        "system": system,
    }
