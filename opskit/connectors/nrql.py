r"""Build NRQL safely: values are quoted, escaped string literals.

>>> print(nrql_quote("it's"))
'it\'s'
>>> in_list("appName", ["a", "b"])
"appName IN ('a', 'b')"
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

__all__ = [
    "bucket_clause",
    "facet_value",
    "in_list",
    "nrql_identifier",
    "nrql_number",
    "nrql_quote",
]


def nrql_quote(value: str) -> str:
    """``value`` as a single-quoted NRQL string literal (backslash and quote escaped).

    Raises
    ------
    TypeError
        If ``value`` is not a string.
    ValueError
        If ``value`` contains control characters (newlines, NUL...).
    """
    if not isinstance(value, str):
        raise TypeError(f"NRQL values must be str, got {type(value).__name__}")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("NRQL values may not contain control characters")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def nrql_identifier(name: str) -> str:
    """An attribute name for NRQL, backtick-quoted when it is not a plain dotted name.

    Raises
    ------
    ValueError
        If ``name`` is empty or contains a backtick or control character.
    """
    if not name or "`" in name or any(ord(c) < 32 for c in name):
        raise ValueError(f"invalid NRQL attribute name {name!r}")
    plain = name.replace(".", "").replace("_", "").isalnum() and not name[0].isdigit()
    return name if plain else f"`{name}`"


def in_list(attribute: str, values: Sequence[str]) -> str:
    """``attr IN ('a', 'b')`` with every value quoted."""
    return f"{nrql_identifier(attribute)} IN ({', '.join(nrql_quote(v) for v in values)})"


def bucket_clause(bucket: pd.Timedelta) -> str:
    """A TIMESERIES bucket such as ``5 minutes`` or ``30 seconds``."""
    seconds = int(bucket.total_seconds())
    if seconds < 1 or seconds != bucket.total_seconds():
        raise ValueError("bucket must be a whole number of seconds >= 1")
    return f"{seconds // 60} minutes" if seconds % 60 == 0 else f"{seconds} seconds"


def nrql_number(value: Any) -> float:
    """A float from a NRQL value: number, ``None``, or a one-value object."""
    if isinstance(value, Mapping):
        for key in ("score", "value", "50", "95", "result"):
            if key in value:
                return nrql_number(value[key])
        numbers = [v for v in value.values() if isinstance(v, int | float)]
        return float(numbers[0]) if len(numbers) == 1 else math.nan
    if isinstance(value, bool) or value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def facet_value(row: Mapping[str, Any], attribute: str) -> str:
    """The facet of a result row (string, or first element of a multi-facet list)."""
    facet = row.get("facet")
    if isinstance(facet, list):
        facet = facet[0] if facet else None
    return str(facet if facet is not None else row.get(attribute, "unknown"))
