"""Portable expression helpers: the only place datasets turn booleans and time spans into numbers.

The rule (see :mod:`opskit.warehouse`) is that a dataset's expressions mean the same on every
engine. Two idioms did not:

- ``flag.cast("float64").mean()``: PostgreSQL has no cast from boolean to double precision.
  :func:`share` uses Ibis's boolean mean, which every backend compiles through an integer.
- ``a.epoch_seconds() - b.epoch_seconds()``: DuckDB subtracts two doubles near 1.8e9
  (about 1e-7 s of rounding), PostgreSQL two exact numerics, and an interval fetched as such
  loses its fraction of a second on PostgreSQL. :func:`seconds_between` and
  :func:`days_between` count whole microseconds (``delta(..., unit="microsecond")``), exact on
  both, and divide once.

``tests/catalog/test_portable_expressions.py`` keeps the old idioms out of ``opskit/datasets``.
"""

from __future__ import annotations

import ibis.expr.types as ir

__all__ = ["SECONDS_PER_DAY", "days_between", "seconds_between", "share"]

MICROSECONDS_PER_SECOND = 1_000_000.0
SECONDS_PER_DAY = 86_400.0


def share(flag: ir.BooleanValue) -> ir.FloatingScalar:
    """The share of rows where ``flag`` is true (nulls ignored, as in ``AVG``)."""
    return flag.mean()


def seconds_between(later: ir.TimestampValue, earlier: ir.TimestampValue) -> ir.FloatingValue:
    """Seconds from ``earlier`` to ``later``, exact to the microsecond on every backend."""
    micros: ir.IntegerValue = later.delta(earlier, unit="microsecond")
    return micros / MICROSECONDS_PER_SECOND


def days_between(later: ir.TimestampValue, earlier: ir.TimestampValue) -> ir.FloatingValue:
    """Fractional days from ``earlier`` to ``later`` (a day is 86,400 s; the warehouse is UTC)."""
    return seconds_between(later, earlier) / SECONDS_PER_DAY
