"""Build JQL from values safely: every value is a quoted, escaped string literal.

>>> jql_quote('OPS" OR project = "SECRET')
'"OPS\\\\" OR project = \\\\"SECRET"'
>>> build_jql(projects=["OPS"], since="2024-05-01")
'project in ("OPS") AND updated >= "2024-05-01 00:00" ORDER BY updated ASC'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

import pandas as pd

__all__ = ["build_jql", "jql_date", "jql_field", "jql_list", "jql_quote"]

_PLAIN_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_CUSTOM_FIELD = re.compile(r"customfield_(\d+)")
_ORDER = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*)(\s+(ASC|DESC))?\s*", re.IGNORECASE)


def jql_quote(value: str) -> str:
    """``value`` as a double-quoted JQL string with ``\\`` and ``"`` escaped.

    Raises
    ------
    TypeError
        If ``value`` is not a string.
    ValueError
        If ``value`` contains control characters (newline, NUL...).
    """
    if not isinstance(value, str):
        raise TypeError(f"JQL values must be str, got {type(value).__name__}")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("JQL values may not contain control characters")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def jql_list(values: Sequence[str]) -> str:
    """``("a", "b")`` for an ``in`` clause; each value quoted.

    Raises
    ------
    ValueError
        If ``values`` is empty.
    """
    if isinstance(values, str):
        values = [values]
    items = list(dict.fromkeys(values))
    if not items:
        raise ValueError("an 'in' list needs at least one value")
    return "(" + ", ".join(jql_quote(v) for v in items) + ")"


def jql_field(name: str) -> str:
    """A field reference: plain names as-is, ``customfield_N`` as ``cf[N]``, others quoted."""
    match = _CUSTOM_FIELD.fullmatch(name)
    if match:
        return f"cf[{match.group(1)}]"
    return name if _PLAIN_FIELD.fullmatch(name) else jql_quote(name)


def jql_date(value: datetime | pd.Timestamp | str) -> str:
    """A quoted ``"yyyy-MM-dd HH:mm"`` literal (UTC)."""
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return jql_quote(ts.strftime("%Y-%m-%d %H:%M"))


def build_jql(
    *,
    projects: Sequence[str] | None = None,
    since: datetime | pd.Timestamp | str | None = None,
    until: datetime | pd.Timestamp | str | None = None,
    statuses: Sequence[str] | None = None,
    issue_types: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
    date_field: str = "updated",
    order_by: str = "updated ASC",
) -> str:
    """A bounded JQL query from filter values (all quoted).

    Parameters
    ----------
    projects, statuses, issue_types, labels
        ``in`` filters; any text is allowed and is quoted.
    since, until
        Bounds on ``date_field`` (``>=`` / ``<``), in UTC.
    order_by
        ``"<field> [ASC|DESC]"``.

    Raises
    ------
    ValueError
        If the query would be unbounded (no project and no ``since``), which
        Jira Cloud rejects, or ``order_by`` is not a field and direction.
    """
    if not projects and since is None:
        raise ValueError("JQL must be bounded: give projects or since")
    clauses: list[str] = []
    if projects:
        clauses.append(f"project in {jql_list(projects)}")
    if issue_types:
        clauses.append(f"issuetype in {jql_list(issue_types)}")
    if statuses:
        clauses.append(f"status in {jql_list(statuses)}")
    if labels:
        clauses.append(f"labels in {jql_list(labels)}")
    if since is not None:
        clauses.append(f"{jql_field(date_field)} >= {jql_date(since)}")
    if until is not None:
        clauses.append(f"{jql_field(date_field)} < {jql_date(until)}")
    match = _ORDER.fullmatch(order_by)
    if not match:
        raise ValueError(f"order_by must be '<field> [ASC|DESC]', got {order_by!r}")
    direction = (match.group(3) or "ASC").upper()
    return " AND ".join(clauses) + f" ORDER BY {match.group(1)} {direction}"
