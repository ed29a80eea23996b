"""The dataset registry: named, documented, filterable, schema-checked frames.

A :class:`Dataset` couples a builder (``Context -> DataFrame``, doing its heavy
lifting as Ibis expressions in the warehouse), a pandera schema and a set of
declared :class:`Filter` s. Every filter value is validated *before* any query
runs, so a typo gets a :class:`~opskit.errors.DatasetError` naming the valid
choices instead of a traceback from deep inside a query engine.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import ibis
import pandas as pd
import pandera.pandas as pa

from opskit import inputs
from opskit.errors import DatasetError
from opskit.warehouse import Warehouse

__all__ = ["Context", "Dataset", "Filter", "dataset"]

FilterKind = Literal["timestamp", "choice", "choices", "int", "float", "bool", "str"]


@dataclass(frozen=True)
class Filter:
    """A declared filter of a dataset.

    Parameters
    ----------
    name
        Keyword used in ``opskit.load(dataset, name=value)``.
    kind
        ``timestamp`` (ISO 8601 text or a date/time, UTC; see :mod:`opskit.inputs`
        for the rules every number, boolean and date follows), ``choice`` (one
        value of a known set), ``choices`` (one or several), ``int``, ``float``,
        ``bool`` or ``str``.
    doc
        What it does, shown by ``opskit datasets`` and ``opskit show --help``.
    options
        For choice kinds: a fixed tuple, or ``(table, column)`` whose distinct
        values in the warehouse are the valid choices.
    minimum, maximum
        Bounds for numeric kinds.
    """

    name: str
    kind: FilterKind
    doc: str
    options: tuple[str, ...] | tuple[str, str] | None = None
    dynamic: bool = False
    minimum: float | None = None
    maximum: float | None = None

    def parse(self, value: Any, ctx: Context, dataset: str) -> Any:
        """Validate and normalise one value; raise :class:`DatasetError` if it is bad."""
        where = f"filter {self.name!r} of dataset {dataset!r}"
        if self.kind == "timestamp":
            return inputs.timestamp(value, where=where, error=DatasetError)
        if self.kind in ("choice", "choices"):
            values = [value] if isinstance(value, str) or not _is_seq(value) else list(value)
            if self.kind == "choice" and len(values) != 1:
                raise DatasetError(f"{where} takes one value, got {value!r}")
            valid = self.valid_options(ctx)
            bad = [v for v in values if not isinstance(v, str) or v not in valid]
            if bad:
                hint = difflib.get_close_matches(str(bad[0]), valid, n=1)
                tip = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise DatasetError(
                    f"{where}: unknown value {bad[0]!r}{tip}; valid values: {', '.join(valid)}"
                )
            return values[0] if self.kind == "choice" else values
        if self.kind == "bool":
            return inputs.boolean(value, where=where, error=DatasetError)
        if self.kind in ("int", "float"):
            return inputs.number(
                value, where=where, integer=self.kind == "int", minimum=self.minimum,
                maximum=self.maximum, error=DatasetError,
            )  # fmt: skip
        if not isinstance(value, str):
            raise DatasetError(f"{where}: expected text, got {value!r}")
        return value

    def valid_options(self, ctx: Context) -> list[str]:
        if self.options is None:
            return []
        if self.dynamic:
            table, column = self.options
            return ctx.distinct(table, column)
        return list(self.options)


def _is_seq(value: Any) -> bool:
    return isinstance(value, list | tuple | set | frozenset)


@dataclass
class Context:
    """What a dataset builder gets: the warehouse, validated filters and the as-of time."""

    warehouse: Warehouse
    filters: dict[str, Any]
    as_of: pd.Timestamp
    _distinct: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    #: The ``[start, end)`` the builder asked for with :meth:`window` (recorded in the
    #: frame's ``attrs["window"]``, so every figure says which window it covers).
    used_window: tuple[pd.Timestamp, pd.Timestamp] | None = None

    def table(self, name: str) -> ibis.Table:
        return self.warehouse.table(name)

    def get(self, name: str, default: Any = None) -> Any:
        return self.filters.get(name, default)

    def window(
        self, default_days: float, *, start: str = "start", end: str = "end"
    ) -> tuple[pd.Timestamp, pd.Timestamp]:
        """``[start, end)`` from the filters, defaulting to the last ``default_days`` before as-of.

        Raises
        ------
        DatasetError
            If ``start`` is not before ``end``.
        """
        hi = self.filters.get(end, self.as_of)
        lo = self.filters.get(start, hi - pd.Timedelta(days=default_days))
        if lo >= hi:
            raise DatasetError(f"start ({lo}) must be before end ({hi})")
        if self.used_window is None:
            self.used_window = (lo, hi)
        return lo, hi

    def distinct(self, table: str, column: str) -> list[str]:
        key = (table, column)
        if key not in self._distinct:
            t = self.table(table)
            vals = t.select(t[column]).distinct().to_pandas()[column].dropna()
            self._distinct[key] = sorted(map(str, vals))
        return self._distinct[key]


Builder = Callable[[Context], pd.DataFrame]


@dataclass(frozen=True)
class Dataset:
    """A named dataset of the catalog."""

    name: str
    doc: str
    schema: type[pa.DataFrameModel]
    build: Builder
    filters: tuple[Filter, ...] = ()
    systems: tuple[str, ...] = ("warehouse",)
    live_source: str | None = None
    default_window: str = ""

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0]

    def __call__(self, ctx: Context) -> pd.DataFrame:
        """Run the builder (no validation, no provenance: use ``opskit.load``)."""
        return self.build(ctx)

    def filter(self, name: str) -> Filter:
        for f in self.filters:
            if f.name == name:
                return f
        raise KeyError(name)

    def parse_filters(self, raw: Mapping[str, Any], ctx: Context) -> dict[str, Any]:
        names = [f.name for f in self.filters]
        unknown = [k for k in raw if k not in names]
        if unknown:
            hint = difflib.get_close_matches(unknown[0], names, n=1)
            tip = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise DatasetError(
                f"dataset {self.name!r} has no filter {unknown[0]!r}{tip}; "
                f"valid filters: {', '.join(names) or 'none'}"
            )
        return {k: self.filter(k).parse(v, ctx, self.name) for k, v in raw.items() if v is not None}


def dataset(
    name: str,
    schema: type[pa.DataFrameModel],
    *filters: Filter,
    systems: tuple[str, ...] = ("warehouse",),
    live_source: str | None = None,
    default_window: str = "",
) -> Callable[[Builder], Dataset]:
    """Decorator turning a builder into a :class:`Dataset` (its docstring is the doc)."""

    def deco(fn: Builder) -> Dataset:
        return Dataset(
            name=name, doc=fn.__doc__ or name, schema=schema, build=fn, filters=filters,
            systems=systems, live_source=live_source, default_window=default_window,
        )  # fmt: skip

    return deco


# Shared filter declarations ---------------------------------------------------
START = Filter("start", "timestamp", "first instant included (UTC)")
END = Filter("end", "timestamp", "first instant excluded (UTC); default: the data's as-of time")
