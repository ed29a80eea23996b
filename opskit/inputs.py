"""Input rules: the one place numbers, true/false values and dates people type are checked.

Dataset filters (``opskit.load``, ``opskit show -f``), analysis parameters and
report parameters (``opskit report run -p``) all go through these rules, so one
value means the same everywhere and a bad one gets the same clear message:

- **numbers** are finite (``nan``, ``inf`` and overflowing text such as
  ``1e400`` are refused) and inside their declared range; ``True``/``False`` are
  not numbers;
- **true/false** is a real boolean or the words ``true/false``, ``yes/no``,
  ``1/0``; a number is not a boolean;
- **dates** are ISO 8601 (``2026-10-01``, ``2026-10-01T12:00``,
  ``2026-10-01T12:00:00Z``, ``2026-10-01 12:00+02:00``) or date/time objects;
  day-first or month-first text such as ``01/10/2026`` is ambiguous and refused,
  with the accepted forms in the message; times without a zone are UTC; years
  outside 1900-2199 are refused.

Each rule raises the error class its caller names (``DatasetError`` for filters,
``ParameterError`` for parameters), with ``where`` naming the input.

Examples
--------
>>> number("250", where="min_subscribers", integer=True, minimum=0)
250
>>> number("nan", where="risk_threshold")
Traceback (most recent call last):
...
opskit.errors.ParameterError: risk_threshold: expected a finite number, got 'nan'
>>> timestamp("2026-10-01", where="start")
Timestamp('2026-10-01 00:00:00+0000', tz='UTC')
>>> try:
...     timestamp("01/10/2026", where="start")
... except ParameterError as exc:
...     print(exc)
start: '01/10/2026' is not an ISO 8601 date; use YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] (UTC) or with a zone (Z, +02:00)
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from typing import Any

import numpy as np
import pandas as pd

from opskit.errors import OpsKitError, ParameterError
from opskit.provenance import utc_timestamp

__all__ = ["DATE_FORMS", "boolean", "number", "timestamp"]

#: The date forms accepted from text, shown in every date error.
DATE_FORMS = "YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] (UTC) or with a zone (Z, +02:00)"
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}"  # date
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?"  # optional time
    r"(?:Z|[+-]\d{2}:?\d{2})?)?"  # optional zone
)
_FIRST_YEAR, _LAST_YEAR = 1900, 2199
_TRUE, _FALSE = ("true", "yes", "1"), ("false", "no", "0")


def number(
    value: Any,
    *,
    where: str,
    integer: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    error: type[OpsKitError] = ParameterError,
) -> Any:
    """A finite number (an ``int`` when ``integer``) inside ``[minimum, maximum]``.

    Parameters
    ----------
    value
        A number or its text (``"250"``, ``"0.8"``, ``"1e6"``).
    where
        Names the input in the message.
    integer
        Require a whole number (``"7.0"`` is accepted as 7, ``7.5`` is not).
    minimum, maximum
        Inclusive bounds (``None``: unbounded on that side).
    error
        The opskit error raised on a bad value.

    Raises
    ------
    OpsKitError
        ``error``: not a number, a boolean, NaN or infinite, not whole, or out of range.

    Examples
    --------
    >>> number(7.0, where="days", integer=True)
    7
    >>> number(True, where="days")
    Traceback (most recent call last):
    ...
    opskit.errors.ParameterError: days: expected a number, got True (true/false is not a number)
    >>> number("31", where="days", integer=True, minimum=1, maximum=30)
    Traceback (most recent call last):
    ...
    opskit.errors.ParameterError: days: 31 is out of range (1 to 30)
    """
    if isinstance(value, bool | np.bool_):
        raise error(f"{where}: expected a number, got {value!r} (true/false is not a number)")
    num = _as_float(value)
    if num is None:
        raise error(f"{where}: expected a number, got {value!r}")
    if not math.isfinite(num):
        raise error(f"{where}: expected a finite number, got {value!r}")
    out: float | int = num
    if integer:
        if not num.is_integer():
            raise error(f"{where}: expected a whole number, got {value!r}")
        out = int(num)
    if (minimum is not None and out < minimum) or (maximum is not None and out > maximum):
        raise error(f"{where}: {_plain(out)} is out of range ({_range(minimum, maximum)})")
    return out


def _as_float(value: Any) -> float | None:
    if isinstance(value, str):
        value = value.strip().replace("_", "")
    elif not isinstance(value, numbers.Real):
        return None
    try:
        return float(value)
    except (ValueError, TypeError, OverflowError):
        return None


def _plain(num: float) -> str:
    return str(int(num)) if float(num).is_integer() and abs(num) < 1e15 else repr(num)


def _range(minimum: float | None, maximum: float | None) -> str:
    if minimum is None:
        return f"at most {_plain(maximum or 0)}"
    if maximum is None:
        return f"at least {_plain(minimum)}"
    return f"{_plain(minimum)} to {_plain(maximum)}"


def boolean(value: Any, *, where: str, error: type[OpsKitError] = ParameterError) -> bool:
    """``True``/``False``, or the words true/false, yes/no, 1/0 (any case).

    Raises
    ------
    OpsKitError
        ``error``, for anything else (a number such as ``1`` included).

    Examples
    --------
    >>> boolean("Yes", where="at_risk_only")
    True
    >>> boolean(1, where="at_risk_only")
    Traceback (most recent call last):
    ...
    opskit.errors.ParameterError: at_risk_only: expected true or false, got 1
    """
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise error(f"{where}: expected true or false, got {value!r}")


def timestamp(value: Any, *, where: str, error: type[OpsKitError] = ParameterError) -> pd.Timestamp:
    """A UTC timestamp from ISO 8601 text or a date/time object.

    Raises
    ------
    OpsKitError
        ``error``: text that is not ISO 8601 (the message lists the accepted
        forms), an impossible date (``2026-02-30``), a missing value, or a year
        outside 1900-2199.

    Examples
    --------
    >>> timestamp("2026-10-01T12:00+02:00", where="start")
    Timestamp('2026-10-01 10:00:00+0000', tz='UTC')
    >>> timestamp("1677-09-22", where="end")
    Traceback (most recent call last):
    ...
    opskit.errors.ParameterError: end: 1677-09-22 is outside the years 1900 to 2199
    """
    if isinstance(value, str):
        text = value.strip()
        if not _ISO.fullmatch(text):
            raise error(f"{where}: {value!r} is not an ISO 8601 date; use {DATE_FORMS}")
        year = int(text[:4])
    elif isinstance(value, dt.date | np.datetime64) and not _is_missing(value):
        year = pd.Timestamp(value).year if isinstance(value, np.datetime64) else value.year
    else:
        raise error(f"{where}: expected a date/time ({DATE_FORMS}), got {value!r}")
    if not _FIRST_YEAR <= year <= _LAST_YEAR:
        shown = value.strip() if isinstance(value, str) else value
        raise error(f"{where}: {shown} is outside the years {_FIRST_YEAR} to {_LAST_YEAR}")
    try:
        return utc_timestamp(value)
    except (ValueError, TypeError, OverflowError):
        raise error(f"{where}: {value!r} is not a valid date/time") from None


def _is_missing(value: Any) -> bool:
    return value is pd.NaT or (isinstance(value, np.datetime64) and bool(np.isnat(value)))
