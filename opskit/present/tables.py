"""Tables for people: labelled columns, values in their units, a bounded number of rows.

:func:`display_frame` turns a frame into strings (each column read with its
glossary term; datetimes as dates or instants; a ``value`` column read in the
unit its row's ``unit`` column names). :func:`table_html` and
:func:`table_text` lay that out for a page and for a terminal, showing at most
``max_rows`` rows and saying how many there are. The full frame is never
rounded: it goes to CSV or JSON as it is.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from opskit.present.glossary import term
from opskit.present.units import UNITS, fmt, fmt_change, humanize, is_missing

__all__ = [
    "MAX_ROWS",
    "TableSpec",
    "category_text",
    "display_frame",
    "table_html",
    "table_text",
    "unit_from_text",
]

#: Rows a page shows of a table by default (the full table is linked).
MAX_ROWS = 15
#: Columns whose unit is given per row by a ``unit`` column (KPIs, Pareto tables).
_ROW_UNIT_COLUMNS = ("value", "previous", "change")


@dataclass(frozen=True)
class TableSpec:
    """One table a page shows.

    Parameters
    ----------
    table
        Name of the table in ``Result.tables`` (``"frame"`` for the main table).
    title
        Caption above the table.
    columns
        Columns shown, in order (default: all but ``provenance``).
    sort_by
        Column to sort by (largest first unless ``ascending``).
    ascending
        Sort order.
    max_rows
        Rows shown (the full table goes to the run's CSV).
    query
        Optional ``DataFrame.query`` expression selecting the rows shown (and written).
    units, labels
        Units and labels of columns whose meaning the table itself declares (a
        Pareto table's ``value`` is delay days in one result and dollars in another).
    name
        Identifier of the shown table (its CSV file is named after it); default:
        ``table`` (``main`` for the main table).
    """

    table: str
    title: str
    columns: tuple[str, ...] | None = None
    sort_by: str | None = None
    ascending: bool = False
    max_rows: int = MAX_ROWS
    query: str | None = None
    units: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    name: str = ""

    @property
    def file_name(self) -> str:
        """The identifier its CSV file is named after."""
        return self.name or ("main" if self.table == "frame" else self.table.replace("_", "-"))

    def select(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows and columns of ``frame`` this spec shows (all rows, in order)."""
        out = frame.query(self.query) if self.query else frame
        if self.sort_by is not None and self.sort_by in out.columns:
            out = out.sort_values(self.sort_by, ascending=self.ascending, kind="stable")
        cols = (
            list(self.columns)
            if self.columns is not None
            else [c for c in out.columns if c != "provenance"]
        )
        missing = [c for c in cols if c not in out.columns]
        if missing:
            raise ValueError(f"table {self.table!r} has no column(s) {missing}")
        return out[cols].reset_index(drop=True)


def unit_from_text(text: str) -> str:
    """A unit from the free text of a ``unit`` column (``USD per year`` -> ``usd``).

    >>> unit_from_text("USD per 30 days"), unit_from_text("days past due"), unit_from_text("tickets")
    ('usd', 'days', 'count')
    """
    t = str(text).strip().lower()
    if t in UNITS:
        return t
    for prefix, unit in (("usd", "usd"), ("$", "usd"), ("day", "days"), ("hour", "hours"),
                         ("minute", "minutes"), ("fraction", "fraction"), ("%", "percent"),
                         ("score", "score"), ("ms", "ms")):  # fmt: skip
        if t.startswith(prefix):
            return unit
    return "count"


def category_text(value: object) -> str:
    """An identifier-like value in words (``high_rebuffering`` -> ``high rebuffering``, ``OPEN`` -> ``open``).

    >>> category_text("PERFORMANCE"), category_text("ad_free|us|0-3m")
    ('performance', 'ad free / us / 0-3m')
    """
    text = humanize(str(value))
    return text.lower() if text.isupper() else text


def _column_unit(
    col: str, series: pd.Series, context: str | None, units: Mapping[str, str] | None = None
) -> str:
    if units and col in units:
        return units[col]
    if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(series):
        if term(col, context).unit == "month":
            return "month"
        ts = pd.to_datetime(series.dropna())
        midnight = bool(len(ts)) and bool((ts == ts.dt.normalize()).all())
        return "date" if midnight else "timestamp"
    return term(col, context).unit


def display_frame(
    frame: pd.DataFrame,
    *,
    context: str | None = None,
    labels: bool = True,
    units: Mapping[str, str] | None = None,
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Every cell of ``frame`` as text in its unit; columns renamed to their labels.

    Parameters
    ----------
    frame
        The rows to show (all of them are formatted).
    context
        Dataset or result name, for identifiers whose meaning depends on it.
    labels
        Rename columns to their glossary labels.
    units, names
        Units and labels that override the glossary for some columns.

    Examples
    --------
    >>> df = pd.DataFrame({"driver": ["payment_failure"], "revenue_lost_annual_usd": [52400.4],
    ...                    "share": [0.1105]})
    >>> display_frame(df).to_dict("records")
    [{'Churn driver': 'payment failure', 'Revenue lost to cancellations': '$52k', 'Share': '11.1 %'}]
    """
    out = {}
    row_units = (
        frame["unit"].map(lambda u: u if u in UNITS else unit_from_text(u))
        if "unit" in frame.columns
        else None
    )
    for col in frame.columns:
        series = frame[col]
        t = term(col, context)
        label = (names or {}).get(col, t.label)
        if row_units is not None and col in _ROW_UNIT_COLUMNS and col not in (units or {}):
            show = fmt_change if col == "change" else fmt
            cells = [show(v, u) for v, u in zip(series, row_units, strict=True)]
        elif t.category:
            cells = ["" if is_missing(v) else category_text(v) for v in series]
        else:
            unit = _column_unit(col, series, context, units)
            cells = [fmt(v, unit) if not (unit == "text" and is_missing(v)) else "" for v in series]
        out[label if labels else col] = cells
    return pd.DataFrame(out, index=range(len(frame)))


def _numeric(
    col: str, series: pd.Series, context: str | None, units: Mapping[str, str] | None = None
) -> bool:
    unit = (units or {}).get(col, term(col, context).unit)
    return unit not in ("text", "date", "timestamp", "flag") and (
        pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    )


def table_html(
    frame: pd.DataFrame,
    *,
    title: str = "",
    name: str = "",
    max_rows: int = MAX_ROWS,
    context: str | None = None,
    full_table: str | None = None,
    units: Mapping[str, str] | None = None,
    names: Mapping[str, str] | None = None,
) -> str:
    """An HTML table (class ``opskit-table``) of at most ``max_rows`` rows, with a caption.

    Parameters
    ----------
    frame
        The rows to show, in order (only the first ``max_rows`` are rendered).
    title
        Caption.
    name
        Identifier of the table (``data-table``), used to link its CSV.
    max_rows
        Rows rendered.
    context
        See :func:`display_frame`.
    full_table
        Where the full table is (a link target).
    units, names
        See :func:`display_frame`.
    """
    n = len(frame)
    shown = frame.head(max_rows)
    text = display_frame(shown, context=context, units=units, names=names)
    numeric = [_numeric(c, frame[c], context, units) for c in frame.columns]
    head = "".join(
        f'<th class="{"num" if is_num else ""}">{html.escape(str(c))}</th>'
        for c, is_num in zip(text.columns, numeric, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if is_num else ""}">{html.escape(v)}</td>'
            for v, is_num in zip(row, numeric, strict=True)
        )
        + "</tr>"
        for row in text.itertuples(index=False)
    )
    if n == 0:
        body = f'<tr><td colspan="{max(len(frame.columns), 1)}">No rows.</td></tr>'
    counted = (
        f"Top {len(shown):,} of {n:,} rows" if n > len(shown) else f"{n:,} row{'s' * (n != 1)}"
    )
    link = (
        f'; full table: <a href="{html.escape(full_table)}">{html.escape(full_table)}</a>'
        if full_table
        else ""
    )
    foot = f'<div class="opskit-table-foot" data-table="{html.escape(name)}">{counted}{link}.</div>'
    cap = f"<caption>{html.escape(title)}</caption>" if title else ""
    return (
        f'<div class="opskit-table-wrap"><table class="opskit-table" data-table="{html.escape(name)}">'
        f"{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{foot}</div>"
    )


def table_text(
    frame: pd.DataFrame,
    *,
    max_rows: int | None = MAX_ROWS,
    context: str | None = None,
    columns: Sequence[str] | None = None,
    units: Mapping[str, str] | None = None,
    names: Mapping[str, str] | None = None,
) -> str:
    """A plain-text table for a terminal: labelled, aligned, at most ``max_rows`` rows.

    Examples
    --------
    >>> df = pd.DataFrame({"region": ["us", "brazil"], "subscribers": [61234, 20891]})
    >>> print(table_text(df))
    Region  Subscribers
    us           61,234
    brazil       20,891
    """
    data = frame[list(columns)] if columns is not None else frame
    data = data.drop(columns=["provenance"], errors="ignore")
    shown = data if max_rows is None else data.head(max_rows)
    text = display_frame(shown, context=context, units=units, names=names)
    numeric = [_numeric(c, data[c], context, units) for c in data.columns]
    widths = [max([len(str(h)), *map(len, text[h])]) for h in text.columns]
    lines = [
        "  ".join(
            (str(cell).rjust(w) if is_num else str(cell).ljust(w))
            for cell, w, is_num in zip(row, widths, numeric, strict=True)
        ).rstrip()
        for row in [list(text.columns), *text.itertuples(index=False)]
    ]
    out = "\n".join(lines) if len(text) else "(no rows)"
    if max_rows is not None and len(data) > len(shown):
        out += f"\n... top {len(shown):,} of {len(data):,} rows"
    return out
