"""The presentation layer: the only place numbers become text for people.

Reports, dashboards, findings, MCP text answers and the CLI's table format read
numbers through here, with the unit the data declares (:mod:`.units`) and the
label the glossary gives each identifier (:mod:`.glossary`); :mod:`.tables`
lays out tables and :mod:`.page` the page of an analysis. Machine formats (CSV,
JSON, ``run.json``, MCP structured content) keep full precision and never pass
through this layer.
"""

from __future__ import annotations

from opskit.present.glossary import TERMS, Term, has_term, label, term
from opskit.present.tables import MAX_ROWS, TableSpec, display_frame, table_html, table_text
from opskit.present.units import (
    NOT_AVAILABLE,
    UNITS,
    Unit,
    change_unit,
    fmt,
    fmt_change,
    fmt_date,
    fmt_timestamp,
    fmt_window,
    humanize,
    is_missing,
)

__all__ = [
    "MAX_ROWS",
    "NOT_AVAILABLE",
    "TERMS",
    "UNITS",
    "TableSpec",
    "Term",
    "Unit",
    "change_unit",
    "display_frame",
    "fmt",
    "fmt_change",
    "fmt_date",
    "fmt_timestamp",
    "fmt_window",
    "has_term",
    "humanize",
    "is_missing",
    "label",
    "table_html",
    "table_text",
    "term",
]
