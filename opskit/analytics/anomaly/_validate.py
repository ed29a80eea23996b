"""The one place detector input is checked and normalised.

:func:`as_series` accepts a numeric ``pd.Series`` on a ``DatetimeIndex`` or a frame with
``timestamp`` and ``value`` columns and returns a float64 Series on a sorted
DatetimeIndex. It **raises** ``TypeError`` (not a Series/frame) or
:class:`~opskit.errors.ParameterError` (a ``ValueError``: the data is unusable) on:

* anything that is not a Series/DataFrame, a Series without a DatetimeIndex, a frame
  without ``timestamp``/``value`` columns;
* non-numeric values (strings, objects, booleans) - they are never silently coerced;
* missing (NaT) or unsorted timestamps (the message names the first culprit);
* repeated timestamps, unless the caller allows them (``allow_repeated=True``, as every
  detector does: repeated rows are kept, in input order, and each is scored).

It **fixes** nothing else: NaN values stay NaN (they are scored NaN / ``<NA>``), nullable
integer/float dtypes become float64 with NaN for ``<NA>``.

Gaps (missing timestamps) and irregular spacing are allowed. Rolling windows count
*valid observations*, not clock time, so the points on either side of a gap are
neighbours; only the seasonal detector uses clock time (it reads its baseline from a
regular grid at the fitted sampling step, see :mod:`~opskit.analytics.anomaly.seasonal`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from opskit.errors import ParameterError

__all__ = ["TIME", "VALUE", "as_series", "check_window"]

TIME = "timestamp"
VALUE = "value"


def check_window(name: str, value: Any, *, minimum: int = 1, allow_none: bool = False) -> None:
    """Raise a clear error unless ``value`` is an int >= ``minimum`` (or None if allowed)."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def _numeric(values: pd.Series) -> pd.Series:
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        sample = values.dropna().head(3).tolist()
        raise ParameterError(
            f"detector input must be numeric; got dtype {dtype} (first values {sample!r}). "
            "Convert it with pd.to_numeric first."
        )
    return values.astype("float64")


def _check_index(index: pd.DatetimeIndex, *, allow_repeated: bool) -> None:
    if index.hasnans:
        raise ParameterError("timestamps must not be missing (NaT found)")
    if not allow_repeated and not index.is_unique:
        dup = index[index.duplicated()][0]
        raise ParameterError(f"timestamps must be unique; {dup} appears more than once")
    if not index.is_monotonic_increasing:
        pos = int(np.flatnonzero(np.diff(index.asi8) < 0)[0]) + 1
        raise ParameterError(
            f"timestamps must be sorted ascending; {index[pos]} (row {pos}) comes after "
            f"{index[pos - 1]}. Sort with .sort_index() / .sort_values('timestamp') first "
            "(a stable sort keeps repeated timestamps in their order), or localise local "
            "wall-clock times, e.g. .tz_localize(tz, ambiguous='infer')."
        )


def _to_datetime(times: pd.Series) -> pd.DatetimeIndex:
    try:
        return pd.DatetimeIndex(pd.to_datetime(times))
    except (ValueError, TypeError, OverflowError) as exc:
        raise ParameterError(
            f"the timestamp column could not be read as dates ({exc}); convert it with "
            "pd.to_datetime(..., format=...) first"
        ) from None


def as_series(data: pd.Series | pd.DataFrame, *, allow_repeated: bool = False) -> pd.Series:
    """Validate detector input and return a float64 Series on a DatetimeIndex.

    Parameters
    ----------
    data
        A numeric Series indexed by timestamps, or a frame with ``timestamp`` and
        ``value`` columns.
    allow_repeated
        Accept rows that repeat the previous row's timestamp (they are kept, in order).

    Returns
    -------
    pd.Series
        float64 values named ``value`` on a sorted (unique unless ``allow_repeated``)
        ``DatetimeIndex`` named ``timestamp``; ``attrs`` (provenance) are carried over.

    Raises
    ------
    TypeError
        If ``data`` is not a Series/DataFrame or a Series lacks a DatetimeIndex.
    ParameterError
        (a ``ValueError``) on non-numeric values, missing columns, unreadable, NaT,
        unsorted or (unless allowed) repeated timestamps.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DatetimeIndex(["2024-10-27 01:30", "2024-10-27 01:30", "2024-10-27 02:00"])
    >>> as_series(pd.Series([1, 2, 3], index=t), allow_repeated=True).tolist()
    [1.0, 2.0, 3.0]
    >>> as_series(pd.Series([1, 2, 3], index=t))
    Traceback (most recent call last):
    ...
    opskit.errors.ParameterError: timestamps must be unique; 2024-10-27 01:30:00 appears more than once
    """
    if isinstance(data, pd.DataFrame):
        missing = [c for c in (TIME, VALUE) if c not in data.columns]
        if missing:
            raise ParameterError(
                f"a frame passed to a detector needs columns {TIME!r} and {VALUE!r}; "
                f"missing {missing}, have {list(data.columns)}"
            )
        times = data[TIME]
        # to_datetime on a column that already holds datetimes costs a Python-level scan.
        is_dt = pd.api.types.is_datetime64_any_dtype(times.dtype)
        index = pd.DatetimeIndex(times if is_dt else _to_datetime(times))
        series = pd.Series(data[VALUE].to_numpy(), index=index)
        series = series.astype(data[VALUE].dtype)
    elif isinstance(data, pd.Series):
        if not isinstance(data.index, pd.DatetimeIndex):
            raise TypeError(
                "a Series passed to a detector needs a DatetimeIndex, got "
                f"{type(data.index).__name__}; use series.set_axis(pd.to_datetime(...))"
            )
        series = data
        index = data.index
    else:
        raise TypeError(
            f"detector input must be a pandas Series or DataFrame, got {type(data).__name__}"
        )
    _check_index(index, allow_repeated=allow_repeated)
    out = _numeric(series)
    out = pd.Series(out.to_numpy(dtype=float, na_value=np.nan), index=index.rename(TIME))
    out.name = VALUE
    out.attrs = dict(data.attrs)
    return out
