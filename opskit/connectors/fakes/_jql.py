"""A strict little JQL reader for the Jira fake: ``field op value`` clauses joined by AND.

Anything else (OR, NOT, grouping, a stray quote) is a JQL error, so an injection
that escapes its string literal makes the fake answer 400 instead of widening
the search.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

__all__ = ["Clause", "JqlError", "parse_jql"]

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>>=|<=|!=|=|<|>|~)|(?P<punct>[(),])'
    r"|(?P<word>[A-Za-z0-9_\-\[\]./:]+))"
)
FIELDS = frozenset({"project", "updated", "created", "status", "issuetype", "labels", "key"})


class JqlError(ValueError):
    """The JQL could not be parsed (the real API answers 400 ``Error in the JQL Query``)."""


@dataclass(frozen=True)
class Clause:
    """``field op values`` (``in`` has several values)."""

    field: str
    op: str
    values: tuple[str, ...]


def _tokens(jql: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while jql[pos:].strip():
        m = _TOKEN.match(jql, pos)
        if not m:
            raise JqlError(
                f"Error in the JQL Query: The character at position {pos} is unexpected."
            )
        kind = m.lastgroup or ""
        text = m.group(kind)
        if kind == "str":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        out.append((kind, text))
        pos = m.end()
    return out


def parse_jql(jql: str) -> tuple[list[Clause], tuple[str, str] | None]:
    """Clauses and ``(order_field, direction)``; raises :class:`JqlError`."""
    toks = _tokens(jql)
    clauses: list[Clause] = []
    order: tuple[str, str] | None = None
    i = 0

    def take(kind: str | None = None) -> tuple[str, str]:
        nonlocal i
        if i >= len(toks) or (kind and toks[i][0] != kind):
            raise JqlError("Error in the JQL Query: Expecting more input.")
        i += 1
        return toks[i - 1]

    while i < len(toks):
        kind, text = take()
        if kind == "word" and text.upper() == "ORDER":
            if take("word")[1].upper() != "BY":
                raise JqlError("Error in the JQL Query: Expecting 'BY'.")
            fld = take("word")[1]
            direction = take("word")[1].upper() if i < len(toks) else "ASC"
            if direction not in ("ASC", "DESC") or i != len(toks):
                raise JqlError("Error in the JQL Query: bad ORDER BY.")
            order = (fld, direction)
            break
        if clauses:
            if kind != "word" or text.upper() != "AND":
                raise JqlError(f"Error in the JQL Query: Expecting 'AND' but got '{text}'.")
            kind, text = take("word")
        if kind != "word":
            raise JqlError(f"Error in the JQL Query: Expecting a field name but got '{text}'.")
        fld = text if text.lower() not in FIELDS else text.lower()
        kind, op = take()
        if kind == "word" and op.lower() == "in":
            if take("punct")[1] != "(":
                raise JqlError("Error in the JQL Query: Expecting '('.")
            values = []
            while True:
                vkind, value = take()
                if vkind not in ("str", "word"):
                    raise JqlError("Error in the JQL Query: Expecting a value.")
                values.append(value)
                sep = take("punct")[1]
                if sep == ")":
                    break
                if sep != ",":
                    raise JqlError("Error in the JQL Query: Expecting ',' or ')'.")
            clauses.append(Clause(fld, "in", tuple(values)))
        elif kind == "op":
            vkind, value = take()
            if vkind not in ("str", "word"):
                raise JqlError("Error in the JQL Query: Expecting a value.")
            clauses.append(Clause(fld, op, (value,)))
        else:
            raise JqlError(f"Error in the JQL Query: Expecting an operator but got '{op}'.")
    return clauses, order


def jql_time(value: str, *, now: datetime, zone: tzinfo = UTC) -> datetime:
    """A JQL date literal (absolute or ``-30d``) as an aware datetime.

    Absolute literals are wall-clock times in ``zone``, the searching account's
    time zone (as in Jira); relative ones count back from ``now``.
    """
    m = re.fullmatch(r"-(\d+)([mhdw])", value)
    if m:
        unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[m.group(2)]
        return now - timedelta(**{unit: int(m.group(1))})
    for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=zone)
        except ValueError:
            continue
    raise JqlError(f"Error in the JQL Query: Date value '{value}' for field is invalid.")
