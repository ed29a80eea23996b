"""Numbers, dates and changes as text, by their unit.

Every figure a person reads goes through :func:`fmt` (or :func:`fmt_change`,
:func:`fmt_date`, :func:`fmt_window`) with the unit the data declares: a KPI's
``unit`` column, a glossary term's unit (:mod:`opskit.present.glossary`), a
finding's evidence. Nothing here guesses a unit from a value. There is no
scientific notation anywhere: very large numbers keep their thousands
separators, very small ones their significant digits.

==============  ==========================================  =====================
unit            meaning of the value                         reads as
==============  ==========================================  =====================
``usd``         US dollars                                   ``$26.0M``, ``-$1.7M``, ``$166k``, ``$11.99``
``count``       things counted (whole numbers)               ``194,983``
``number``      any other real number                        ``1.76``, ``12,400``
``fraction``    a share or rate as a fraction (0.034)        ``3.4 %``
``percent``     a share or change already x100 (3.4)         ``3.4 %``
``pp``          a difference of two fractions                ``-0.6 pp``
``ratio``       a multiplier (relative risk, lift)           ``2.1x``
``months``      a duration in months                         ``7.0 months``
``days``        a duration in days                           ``4.2 days``
``hours``       a duration in hours                          ``3.4 h``
``minutes``     a duration in minutes                        ``95 min``
``ms``          a duration in milliseconds                   ``850 ms``
``kbps``        a bitrate                                    ``4,200 kbps``
``score``       a 0-100 score                                ``73.6``
``p_value``     a p-value                                    ``<0.001``, ``0.034``
``date``        a calendar day                               ``1 Nov 2026``
``month``       a calendar month                             ``Nov 2026``
``timestamp``   an instant (UTC)                             ``1 Nov 2026 14:05 UTC``
``text``        words (lists are joined)                     as given
``flag``        yes / no                                     ``yes``
==============  ==========================================  =====================
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

__all__ = [
    "NOT_AVAILABLE",
    "UNITS",
    "Unit",
    "change_unit",
    "fmt",
    "fmt_change",
    "fmt_date",
    "fmt_timestamp",
    "fmt_window",
    "humanize",
    "is_missing",
]

Unit = Literal[
    "usd", "count", "number", "fraction", "percent", "pp", "ratio", "months", "days", "hours", "minutes",
    "seconds", "ms", "kbps", "score", "p_value", "date", "month", "timestamp", "text", "flag",
]  # fmt: skip
#: Every unit :func:`fmt` knows.
UNITS: tuple[str, ...] = get_args(Unit)
#: What a missing value reads as.
NOT_AVAILABLE = "n/a"
_SUFFIX = {
    "months": " months",
    "days": " days",
    "hours": " h",
    "minutes": " min",
    "seconds": " s",
    "ms": " ms",
    "kbps": " kbps",
}


def is_missing(value: Any) -> bool:
    """True for ``None``, NaN, NaT and ``pd.NA`` (and infinities, which no report shows)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return not math.isfinite(float(value))
    return False


def _check(unit: str) -> None:
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}; units: {', '.join(UNITS)}")


def _digits(value: float, significant: int = 3) -> str:
    """``value`` with about ``significant`` significant digits, thousands separators, no exponent."""
    a = abs(value)
    if a == 0:
        return "0"
    if a >= 10 ** (significant - 1):
        return f"{value:,.0f}"
    decimals = significant - 1 - math.floor(math.log10(a))
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _money(value: float) -> str:
    a, sign = abs(value), "-" if value < 0 else ""
    if a >= 1e9:
        return f"{sign}${a / 1e9:,.1f}B"
    if a >= 1e6:
        return f"{sign}${a / 1e6:.1f}M"
    if a >= 1e4:
        return f"{sign}${a / 1e3:.0f}k"
    if a >= 1e3:
        return f"{sign}${a / 1e3:.1f}k"
    if a >= 100 or a == round(a):
        return f"{sign}${a:,.0f}"
    return f"{sign}${a:,.2f}"


def _percent(points: float) -> str:
    """``points`` (already x100) with one decimal, or two significant digits below 1."""
    if abs(points) >= 1 or points == 0:
        return f"{points:,.1f} %"
    return f"{_digits(points, 2)} %"


def fmt(value: Any, unit: str = "number") -> str:
    """``value`` as text in ``unit`` (see the module table).

    Parameters
    ----------
    value
        A number, date, text, list of texts or flag; missing values read ``n/a``.
    unit
        One of :data:`UNITS`.

    Raises
    ------
    ValueError
        On an unknown unit.

    Examples
    --------
    >>> fmt(26_026_226.97, "usd"), fmt(165_744, "usd"), fmt(-1_712_000, "usd")
    ('$26.0M', '$166k', '-$1.7M')
    >>> fmt(4_212.5, "usd"), fmt(11.99, "usd"), fmt(0, "usd")
    ('$4.2k', '$11.99', '$0')
    >>> fmt(194_983.0, "count"), fmt(1095.30406, "count")
    ('194,983', '1,095')
    >>> fmt(0.0344, "fraction"), fmt(0.0045, "fraction"), fmt(12.5, "percent")
    ('3.4 %', '0.45 %', '12.5 %')
    >>> fmt(-0.006, "pp"), fmt(2.13, "ratio"), fmt(4.21, "days"), fmt(90, "days")
    ('-0.6 pp', '2.1x', '4.2 days', '90 days')
    >>> fmt(300, "seconds"), fmt(12.34, "seconds")
    ('300 s', '12.3 s')
    >>> fmt(2e-9, "p_value"), fmt(0.0342, "p_value"), fmt(True, "flag")
    ('<0.001', '0.034', 'yes')
    >>> fmt(1e30, "number"), fmt(0.000123456, "number"), fmt(float("nan"), "usd")
    ('1,000,000,000,000,000,019,884,624,838,656', '0.000123', 'n/a')
    >>> fmt(pd.Timestamp("2026-11-01T14:05Z"), "date"), fmt(["a", "b"], "text")
    ('1 Nov 2026', 'a, b')
    """
    _check(unit)
    if unit == "text":
        if isinstance(value, str):
            return value
        if isinstance(value, Iterable):
            return ", ".join(fmt(v, "text") for v in value) or "none"
        return NOT_AVAILABLE if is_missing(value) else str(value)
    if is_missing(value):
        return NOT_AVAILABLE
    if unit == "flag":
        return "yes" if bool(value) else "no"
    if unit == "date":
        return fmt_date(value)
    if unit == "month":
        return f"{_ts(value):%b %Y}"
    if unit == "timestamp":
        return fmt_timestamp(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(fmt(v, unit) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{humanize(str(k))} {fmt(v, unit)}" for k, v in value.items())
    v = float(value)
    if unit == "usd":
        return _money(v)
    if unit == "count":
        return f"{round(v):,}"
    if unit == "fraction":
        return _percent(v * 100)
    if unit == "percent":
        return _percent(v)
    if unit == "pp":
        return f"{v * 100:.1f} pp" if abs(v) >= 0.001 or v == 0 else f"{_digits(v * 100, 1)} pp"
    if unit == "ratio":
        return f"{_digits(v, 2)}x" if abs(v) < 10 else f"{v:,.0f}x"
    if unit == "p_value":
        return "<0.001" if v < 0.001 else f"{v:.3f}"
    if unit == "score":
        return f"{v:.1f}"
    if unit in ("months", "days", "hours", "seconds"):
        whole = abs(v) >= 100 or v == round(v)
        return (f"{v:,.0f}" if whole else f"{v:.1f}") + _SUFFIX[unit]
    if unit in _SUFFIX:
        return f"{v:,.0f}{_SUFFIX[unit]}"
    return _digits(v)


def change_unit(unit: str) -> str:
    """The unit a difference of two ``unit`` values is read in (fractions change in pp)."""
    return "pp" if unit == "fraction" else unit


def fmt_change(change: Any, unit: str = "number") -> str:
    """A signed difference: ``+1,739``, ``-$48k``, ``-0.6 pp`` (fractions change in pp).

    Examples
    --------
    >>> fmt_change(1739, "count"), fmt_change(-48_090, "usd"), fmt_change(-0.0058, "fraction")
    ('+1,739', '-$48k', '-0.6 pp')
    >>> fmt_change(0.0, "count"), fmt_change(float("nan"), "usd")
    ('no change', 'n/a')
    """
    if is_missing(change):
        return NOT_AVAILABLE
    unit = change_unit(unit)
    text = fmt(change, unit)
    if not re.sub(r"[^0-9]", "", text).strip("0"):
        return "no change"
    return text if text.startswith("-") else f"+{text}"


def _ts(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_convert("UTC") if ts.tzinfo is not None else ts


def fmt_date(value: date | datetime | pd.Timestamp | str) -> str:
    """A calendar day, ``1 Nov 2026`` (instants are read in UTC).

    >>> fmt_date("2026-11-01T23:00:00+00:00")
    '1 Nov 2026'
    """
    if is_missing(value):
        return NOT_AVAILABLE
    ts = _ts(value)
    return f"{ts.day} {ts:%b %Y}"


def fmt_timestamp(value: date | datetime | pd.Timestamp | str) -> str:
    """An instant in UTC, ``1 Nov 2026 14:05 UTC`` (midnight reads as the day alone).

    >>> fmt_timestamp("2026-11-01T14:05:09Z"), fmt_timestamp("2026-11-01")
    ('1 Nov 2026 14:05 UTC', '1 Nov 2026')
    """
    if is_missing(value):
        return NOT_AVAILABLE
    ts = _ts(value)
    if (ts.hour, ts.minute, ts.second) == (0, 0, 0):
        return fmt_date(ts)
    return f"{fmt_date(ts)} {ts:%H:%M} UTC"


def fmt_window(start: Any, end: Any, *, end_exclusive: bool = True) -> str:
    """A window of days: ``2 Oct - 31 Oct 2026`` (``end`` is the first instant excluded).

    Examples
    --------
    >>> fmt_window("2026-10-02", "2026-11-01")
    '2 Oct - 31 Oct 2026'
    >>> fmt_window("2025-12-15", "2026-01-15"), fmt_window("2026-10-25", "2026-10-26")
    ('15 Dec 2025 - 14 Jan 2026', '25 Oct 2026')
    """
    lo, hi = _ts(start), _ts(end)
    if end_exclusive and (hi.hour, hi.minute, hi.second) == (0, 0, 0):
        hi = hi - pd.Timedelta(days=1)
    if lo.normalize() >= hi.normalize():
        return fmt_date(lo)
    if lo.year == hi.year:
        return f"{lo.day} {lo:%b} - {fmt_date(hi)}"
    return f"{fmt_date(lo)} - {fmt_date(hi)}"


def humanize(key: str) -> str:
    """An identifier in words: ``high_rebuffering`` -> ``high rebuffering``.

    >>> humanize("payment_failure"), humanize("ad_free|us|0-3m")
    ('payment failure', 'ad free / us / 0-3m')
    """
    return key.replace("_", " ").replace("|", " / ").strip()
