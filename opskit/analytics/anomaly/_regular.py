"""Repeated timestamps and irregular sampling: the policy, and the record of what was done.

Real monitoring series are not on a clean grid. A collector that writes local wall-clock
time repeats an hour when daylight saving ends; rows go missing; timestamps jitter by a
few seconds around the nominal step. Every detector scores such a series row by row:

* **Time order** is required (timestamps must not decrease; a stable sort keeps tied rows
  in their order). A timestamp earlier than the previous row's still raises.
* **Repeated timestamps** are handled by the ``duplicates`` policy of
  :func:`~opskit.analytics.anomaly.detect`: ``"keep"`` (the default) scores every row as
  its own observation, in input order; a reducer in :data:`REDUCERS` combines the rows of
  one timestamp into one observation (NaN ignored), scores it, and gives each of those rows
  that score (each row keeps its own ``value``).
* **Irregular sampling** (gaps, jitter): rolling detectors count observations, not clock
  time, and need nothing. The seasonal detector reads its baseline from a regular grid at
  the series' sampling step: rows sharing a step are averaged, empty steps skipped or,
  for a row with no observed step at its phase, interpolated across short runs (see
  :mod:`~opskit.analytics.anomaly.seasonal`), and every row is scored against it.
* **NaN** values get a NaN score and ``<NA>`` label; **+/-inf** values get score 1
  (``critical``). Neither enters the history later rows are judged against.

The result says what was done in ``attrs["regularised"]`` (:data:`ATTR`), a plain dict:

=======================  ======================================================================
key                      meaning
=======================  ======================================================================
``duplicates``           the policy applied to repeated timestamps
``repeated_timestamps``  rows whose timestamp repeats the previous row's
``missing_values``       rows scored NaN because their value is NaN
``infinite_values``      rows scored 1 because their value is +/-inf
``grid``                 the step of the grid a detector read its baseline from (``"5min"``),
                         None when no detector used one
``shared_steps``         grid steps holding more than one row (averaged)
``empty_steps``          grid steps inside the series with no row
``filled_steps``         of those, steps in runs short enough to be interpolated (the
                         rest are gaps a baseline skips)
=======================  ======================================================================

For a long frame the counts are summed over its series; ``grid`` is the step all of them
used, or, when they did not all use the same one, a mapping from each series that used a
grid (``"key1/key2"``) to its step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "ATTR",
    "DUPLICATE_POLICIES",
    "REDUCERS",
    "GridUse",
    "check_duplicates",
    "combine_repeated",
    "expand",
    "merge_records",
    "record",
    "step_label",
]

ATTR = "regularised"
#: Reducers that combine the rows of one timestamp into one observation.
REDUCERS = ("mean", "median", "max", "min", "sum", "first", "last")
#: Valid ``duplicates`` policies: keep every row, or combine them with a reducer.
DUPLICATE_POLICIES = ("keep", *REDUCERS)
_COUNTS = (
    "repeated_timestamps",
    "missing_values",
    "infinite_values",
    "shared_steps",
    "empty_steps",
    "filled_steps",
)


@dataclass(frozen=True)
class GridUse:
    """How a detector's regular grid covered the observations it scored."""

    step_ns: int
    shared_steps: int
    empty_steps: int
    filled_steps: int


def check_duplicates(duplicates: object) -> str:
    """Return ``duplicates`` if it is a valid policy, else raise ``ValueError``."""
    if not isinstance(duplicates, str) or duplicates not in DUPLICATE_POLICIES:
        raise ValueError(
            f"duplicates must be one of {list(DUPLICATE_POLICIES)}, got {duplicates!r}"
        )
    return duplicates


def step_label(step_ns: int) -> str:
    """A grid step as a pandas frequency string: ``"5min"``, ``"1h"``, ``"1D"``.

    Examples
    --------
    >>> step_label(300 * 10**9), step_label(3600 * 10**9), step_label(1500 * 10**6)
    ('5min', '1h', '1500ms')
    """
    text = pd.tseries.frequencies.to_offset(pd.Timedelta(int(step_ns), unit="ns")).freqstr
    return text if text[:1].isdigit() else f"1{text}"


def _runs(index: pd.DatetimeIndex) -> np.ndarray:
    """Run id of each row (rows with equal consecutive timestamps share one)."""
    ns = index.asi8
    return np.cumsum(np.r_[True, ns[1:] != ns[:-1]]) - 1 if len(ns) else np.zeros(0, np.int64)


def combine_repeated(series: pd.Series, how: str) -> tuple[pd.Series, np.ndarray]:
    """Rows sharing a timestamp combined by ``how``; also each input row's combined position.

    ``series`` is sorted (as :func:`~opskit.analytics.anomaly._validate.as_series`
    returns it), so equal timestamps are adjacent. NaN values are ignored; a timestamp
    whose rows are all NaN stays NaN.
    """
    rows = _runs(pd.DatetimeIndex(series.index))
    groups = pd.Series(series.to_numpy(dtype=float)).groupby(rows, sort=False)
    combined = groups.sum(min_count=1) if how == "sum" else groups.agg(how)
    first = np.r_[True, rows[1:] != rows[:-1]] if len(rows) else np.zeros(0, bool)
    out = pd.Series(combined.to_numpy(dtype=float), index=series.index[first], name=series.name)
    out.attrs = dict(series.attrs)
    return out, rows


def expand(frame: pd.DataFrame, rows: np.ndarray, series: pd.Series) -> pd.DataFrame:
    """The rows of a frame scored on combined timestamps, one per input row, input values."""
    out = frame.take(rows).reset_index(drop=True)
    out["value"] = series.to_numpy(dtype=float)
    out.attrs = dict(frame.attrs)
    return out


def record(
    index: pd.DatetimeIndex,
    values: np.ndarray,
    grid: GridUse | None,
    duplicates: str = "keep",
) -> dict[str, Any]:
    """The ``attrs["regularised"]`` entry for one scored series.

    ``values`` are the values the rows were scored on (after any reducer).
    """
    values = np.asarray(values, dtype=float)
    return {
        "duplicates": duplicates,
        "repeated_timestamps": int(len(index) - (int(_runs(index)[-1]) + 1 if len(index) else 0)),
        "missing_values": int(np.isnan(values).sum()),
        "infinite_values": int(np.isinf(values).sum()),
        "grid": step_label(grid.step_ns) if grid is not None else None,
        "shared_steps": grid.shared_steps if grid is not None else 0,
        "empty_steps": grid.empty_steps if grid is not None else 0,
        "filled_steps": grid.filled_steps if grid is not None else 0,
    }


def merge_records(records: Sequence[dict[str, Any]], labels: Sequence[str]) -> dict[str, Any]:
    """One entry for a long frame: counts summed, ``grid`` shared or mapped per series."""
    if not records:
        return record(pd.DatetimeIndex([]), np.zeros(0), None)
    out: dict[str, Any] = {"duplicates": records[0]["duplicates"]}
    for key in _COUNTS:
        out[key] = int(sum(r[key] for r in records))
    grids = {lab: r["grid"] for lab, r in zip(labels, records, strict=True) if r["grid"]}
    distinct = set(grids.values())
    if not distinct:
        out["grid"] = None
    elif len(distinct) == 1 and len(grids) == len(records):
        out["grid"] = distinct.pop()
    else:
        out["grid"] = grids
    return {k: out[k] for k in record(pd.DatetimeIndex([]), np.zeros(0), None)}
