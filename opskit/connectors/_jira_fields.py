"""Which Jira fields carry opskit's columns: resolving ids or display names via ``/field``.

``GET /rest/api/{2|3}/field`` lists every field the account can see, system and
custom: ``{"id": "customfield_10042", "name": "Cost overrun", "custom": true,
"clauseNames": ["cf[10042]", "Cost overrun"], "schema": {"type": "number", ...}}``
(Cloud also sends ``key`` and ``untranslatedName``). Display names are not
unique in Jira, so a name that matches several fields is refused.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opskit.config import JIRA_FIELD_ROLES
from opskit.errors import ConfigError

__all__ = [
    "ROLES",
    "ROLE_COLUMNS",
    "JiraField",
    "describe_custom_fields",
    "describe_mapping",
    "parse_fields",
    "resolve_field",
    "setting_name",
]

#: Field roles, as in ``OPSKIT_JIRA__FIELDS__<ROLE>`` and ``JiraConnector(<role>_field=...)``.
ROLES = JIRA_FIELD_ROLES
#: What happens to the ``ProductionIssues`` column of each role while it is not mapped.
ROLE_COLUMNS = {
    "cost": "cost_overrun_usd empty",
    "budget": "cost_overrun_usd is the cost field minus this",
    "delay": "delay_days from the due date",
    "show": "show empty",
    "severity": "severity from the priority",
    "team": "team empty",
    "root_cause": "root_cause empty",
}
_CUSTOM_ID = re.compile(r"customfield_\d+")
_CLAUSE_ID = re.compile(r"cf\[(\d+)\]", re.IGNORECASE)


@dataclass(frozen=True)
class JiraField:
    """One field of a Jira instance, as listed by the fields API."""

    id: str
    name: str
    custom: bool
    type: str = ""
    clause_names: tuple[str, ...] = ()


def setting_name(role: str) -> str:
    """The environment variable that maps ``role``.

    >>> setting_name("root_cause")
    'OPSKIT_JIRA__FIELDS__ROOT_CAUSE'
    """
    return f"OPSKIT_JIRA__FIELDS__{role.upper()}"


def _clean(text: Any) -> str:
    return " ".join(str(text or "").split())


def parse_fields(payload: Any) -> list[JiraField] | None:
    """The fields in a ``/field`` response, or ``None`` if it is not a list of fields."""
    if not isinstance(payload, list):
        return None
    out = []
    for item in payload:
        if not isinstance(item, Mapping) or not item.get("id"):
            continue
        raw_schema, raw_clauses = item.get("schema"), item.get("clauseNames")
        schema: Mapping[str, Any] = raw_schema if isinstance(raw_schema, Mapping) else {}
        clauses: list[Any] = raw_clauses if isinstance(raw_clauses, list) else []
        out.append(
            JiraField(
                id=str(item["id"]),
                name=_clean(item.get("name") or item["id"]),
                custom=bool(item.get("custom")),
                type=_clean(schema.get("type")),
                clause_names=tuple(_clean(c) for c in clauses),
            )
        )
    return out


def resolve_field(role: str, value: str, fields: Sequence[JiraField]) -> JiraField:
    """The field ``value`` (an id such as ``customfield_10042``, ``cf[10042]`` or a name) means.

    Names match case-insensitively against the display name and the JQL clause names.

    Raises
    ------
    ConfigError
        If nothing or more than one field matches; the message names the setting,
        the ids of ambiguous matches and close names.

    Examples
    --------
    >>> fields = [JiraField("customfield_10042", "Cost overrun", True, "number")]
    >>> resolve_field("cost", "cost OVERRUN", fields).id
    'customfield_10042'
    """
    wanted = _clean(value)
    by_id = {f.id: f for f in fields}
    clause = _CLAUSE_ID.fullmatch(wanted)
    if clause:
        wanted = f"customfield_{clause.group(1)}"
    if wanted in by_id:
        return by_id[wanted]
    key = wanted.casefold()
    matches = {
        f.id: f
        for f in fields
        if key == f.name.casefold() or key in (c.casefold() for c in f.clause_names)
    }
    where = f"{setting_name(role)} ({role}_field)"
    if len(matches) == 1:
        return next(iter(matches.values()))
    if matches:
        ids = ", ".join(sorted(matches))
        raise ConfigError(
            f"jira: {where}={value!r} matches {len(matches)} fields ({ids}); "
            "set the field id instead"
        )
    names = sorted({f.name for f in fields if f.custom})
    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    what = "no field has the id" if _CUSTOM_ID.fullmatch(wanted) else "no field is named"
    raise ConfigError(
        f"jira: {where}={value!r}: {what} {wanted!r} on this Jira (or this account cannot "
        f"see it){hint} `opskit doctor` lists the custom fields with their ids"
    )


def describe_custom_fields(
    fields: Sequence[JiraField], mapped: Mapping[str, JiraField] | None = None
) -> str:
    """The custom fields, one per line (name, id, type, the role mapped to it), for doctor."""
    custom = sorted((f for f in fields if f.custom), key=lambda f: (f.name.casefold(), f.id))
    head = (
        f"{len(custom)} custom fields; map one with OPSKIT_JIRA__FIELDS__<ROLE>=<id or name>, "
        f"roles: {', '.join(ROLES)}"
    )
    if not custom:
        return head
    role_of = {f.id: role for role, f in (mapped or {}).items()}
    width = min(40, max(len(f.name) for f in custom))
    lines = [head]
    for f in custom:
        tag = f"  <- {role_of[f.id]}" if f.id in role_of else ""
        lines.append(f"    {f.name:<{width}}  {f.id:<18}  {f.type or '?'}{tag}")
    return "\n".join(lines)


def describe_mapping(mapped: Mapping[str, JiraField]) -> str:
    """Which role reads which field, and which columns stay empty, for doctor."""
    parts = [f"{role} -> {f.id} ({f.name})" for role, f in mapped.items()]
    unmapped = [r for r in ROLES if r not in mapped]
    if unmapped:
        columns = dict.fromkeys(ROLE_COLUMNS[r] for r in unmapped if r != "budget")
        parts.append(f"not mapped: {', '.join(unmapped)} (so: {', '.join(columns)})")
    return "; ".join(parts)
