"""Turning parsed vendor rows into validated, provenance-stamped frames."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

import pandas as pd
import pandera.pandas as pa

from opskit.provenance import Provenance, attach
from opskit.schemas import validate

__all__ = ["BucketLike", "TimeLike", "live_frame", "stamp_live", "to_utc"]

#: A point in time: datetime, pandas Timestamp or ISO text (naive = UTC).
TimeLike: TypeAlias = datetime | pd.Timestamp | str
#: A duration: timedelta, pandas Timedelta or text such as ``"5min"``.
BucketLike: TypeAlias = timedelta | pd.Timedelta | str


def to_utc(value: Any) -> pd.Timestamp:
    """A tz-aware UTC timestamp from a datetime, date string or pandas Timestamp."""
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def live_frame(
    rows: Sequence[dict[str, Any]] | pd.DataFrame,
    *,
    columns: Sequence[str],
    schema: type[pa.DataFrameModel],
    system: str,
    clock: Callable[[], float],
    detail: str = "",
) -> pd.DataFrame:
    """Build a frame from ``rows`` (dicts or a frame), stamp it ``live``, validate it.

    Columns come out in ``columns`` order followed by ``provenance``.

    Raises
    ------
    opskit.errors.SchemaViolation
        If the rows do not fit the schema.
    """
    if isinstance(rows, pd.DataFrame):
        frame = rows.loc[:, list(columns)].copy()
    else:
        frame = pd.DataFrame(list(rows), columns=list(columns))
    prov = Provenance(
        kind="live",
        systems=(system,),
        as_of=datetime.fromtimestamp(clock(), UTC),
        detail=detail,
    )
    attach(frame, prov)
    out = validate(frame, schema)
    ordered = out[[*columns, "provenance"]]  # validate() puts inherited columns first
    ordered.attrs.update(out.attrs)
    return ordered


def stamp_live(frame: pd.DataFrame, *, system: str, clock: Callable[[], float]) -> pd.DataFrame:
    """Stamp a frame that has no catalog schema (entities, transitions) as ``live``."""
    prov = Provenance(kind="live", systems=(system,), as_of=datetime.fromtimestamp(clock(), UTC))
    return attach(frame, prov)
