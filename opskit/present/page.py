"""The page of an analysis: what a notebook cell, a report and an MCP text answer show.

Layout, top to bottom:

1. the title and the answer in one sentence (``Result.headline``), with the
   provenance banner;
2. KPI tiles: the KPI rows (value and change vs the previous window) and the
   summary figures, each with its label and unit;
3. notes a reader must know (plain words, never log lines);
4. the ranked findings, each once: at stake (natively and on the money basis),
   evidence, likely cause, action;
5. charts as static SVG with alt text written for them (the chart's
   ``description``) and units in the axis titles;
6. compact tables: labelled columns, values in their units, at most 15 rows, and
   where the full table is.

:func:`page_bundle` also carries the full tables (CSV text, every row) in a MIME
type of its own, which no HTML export shows: the report runner writes each one
as a CSV beside the report and links it (:func:`link_tables`). :func:`page_text`
is the same page as plain text (MCP answers).
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from opskit.metrics import MONEY_BASIS, SUBSCRIPTION_VALUE_MONTHS
from opskit.present.glossary import term
from opskit.present.tables import TableSpec, table_html, table_text
from opskit.present.units import fmt, fmt_change, humanize, is_missing
from opskit.provenance import Provenance

if TYPE_CHECKING:
    from opskit.analytics._result import Finding, Result

__all__ = [
    "TABLES_MIME",
    "chart_svg",
    "figure_html",
    "finding_html",
    "kpi_tile",
    "link_tables",
    "page_bundle",
    "page_html",
    "page_text",
    "provenance_banner",
    "result_tables",
    "result_tiles",
]

#: MIME type of the full tables in a page's display bundle (not rendered by any front-end).
TABLES_MIME = "application/vnd.opskit.tables+json"
#: Summary tiles shown when a result does not choose them.
MAX_TILES = 6
_TILE_UNITS = {"usd", "count", "fraction", "percent", "pp", "ratio", "days", "hours", "score", "number",
               "minutes", "ms"}  # fmt: skip
_COLOURS = {
    "demo": ("#8a4b00", "#fff3e0"),
    "cache": ("#5a5a00", "#fdfde0"),
    "live": ("#1f5f1f", "#e8f5e9"),
}

CSS = """<style>
.opskit-page{font-family:system-ui,"DejaVu Sans",Arial,sans-serif;color:#1f2328;max-width:1100px;line-height:1.4}
.opskit-page h1{font-size:26px;margin:4px 0 6px}.opskit-page h2{font-size:18px;margin:22px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:3px}
.opskit-answer{font-size:17px;margin:4px 0 10px}
.opskit-tiles{display:flex;gap:10px;flex-wrap:wrap;margin:10px 0}
.opskit-kpi{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;min-width:150px;max-width:240px;background:#fff;break-inside:avoid}
.opskit-kpi .lbl{font-size:85%;color:#57606a}.opskit-kpi .val{font-size:170%;font-weight:600}
.opskit-kpi .chg{font-size:80%;color:#57606a}.opskit-kpi .good{color:#1a7f37}.opskit-kpi .bad{color:#cf222e}
.opskit-notes{border-left:4px solid #9a6700;background:#fff8c5;padding:6px 10px;margin:8px 0}
.opskit-notes p{margin:2px 0}
.opskit-findings{padding-left:22px}.opskit-finding{margin:0 0 12px;break-inside:avoid}
.opskit-finding .ttl{font-weight:600}.opskit-finding .where{color:#57606a}
.opskit-finding dl{display:grid;grid-template-columns:max-content 1fr;gap:1px 12px;margin:4px 0 0}
.opskit-finding dt{color:#57606a;white-space:nowrap;font-weight:normal;float:none;width:auto}.opskit-finding dd{margin:0}
.opskit-figure{margin:10px 0 18px;break-inside:avoid}.opskit-figure img{max-width:100%}
.opskit-figure figcaption{font-size:85%;color:#57606a}
.opskit-table-wrap{margin:8px 0 18px;break-inside:avoid}
.opskit-table{border-collapse:collapse;font-size:13px}.opskit-table caption{text-align:left;font-weight:600;padding:4px 0}
.opskit-page table.opskit-table th,.opskit-page table.opskit-table td{border-bottom:1px solid #eaeef2;padding:3px 8px;text-align:left;vertical-align:top;max-width:360px}
.opskit-page table.opskit-table th{background:#f6f8fa}.opskit-page table.opskit-table .num{text-align:right;white-space:nowrap}
.opskit-table-foot{font-size:85%;color:#57606a}.opskit-basis{font-size:85%;color:#57606a}
</style>"""


def provenance_banner(prov: Provenance) -> str:
    """An HTML banner (class ``opskit-provenance``) saying where the numbers came from."""
    colour, background = _COLOURS[prov.kind]
    return (
        f'<div class="opskit-provenance" data-provenance="{prov.kind}" '
        f'style="border-left:4px solid {colour};background:{background};padding:4px 8px;'
        f'margin:4px 0;font-size:90%">{html.escape(prov.label())}</div>'
    )


def kpi_tile(
    key: str,
    label: str,
    value: Any,
    unit: str,
    *,
    change: float | None = None,
    higher_is_better: bool | None = True,
    note: str = "",
    help_text: str = "",
) -> str:
    """One KPI tile (class ``opskit-kpi``, ``data-kpi``, the raw number in ``data-value``).

    Examples
    --------
    >>> tile = kpi_tile("churn_rate", "Monthly churn rate", 0.0345, "fraction", change=-0.006,
    ...                 higher_is_better=False)
    >>> "3.5 %" in tile and "-0.6 pp" in tile and 'class="chg good"' in tile
    True
    """
    delta = ""
    if change is not None and not is_missing(change):
        shown = fmt_change(change, unit)
        flat = shown == "no change"  # too small to show at the figure's precision
        arrow = "=" if flat else "▲" if change > 0 else "▼"
        good = (
            ""
            if higher_is_better is None or flat
            else (" good" if (change > 0) == higher_is_better else " bad")
        )
        delta = f'<div class="chg{good}">{arrow} {html.escape(shown)} vs previous</div>'
    extra = f'<div class="chg">{html.escape(note)}</div>' if note else ""
    raw = "" if is_missing(value) or isinstance(value, str) else repr(float(value))
    tip = f' title="{html.escape(help_text)}"' if help_text else ""
    return (
        f'<div class="opskit-kpi" data-kpi="{html.escape(key)}" data-value="{raw}"{tip}>'
        f'<div class="lbl">{html.escape(label)}</div><div class="val">{html.escape(fmt(value, unit))}</div>'
        f"{delta}{extra}</div>"
    )


def result_tiles(result: Result) -> list[str]:
    """The tiles of a result: its KPI rows, then its chosen (or numeric) summary figures."""
    tiles = []
    if result.kpis is not None:
        for r in result.kpis.itertuples():
            ignored = getattr(r, "filters_ignored", "") or ""
            note = f"not filtered by {ignored}" if ignored else ""
            tiles.append(
                kpi_tile(str(r.kpi), str(r.label), r.value, str(r.unit), change=r.change,
                         higher_is_better=bool(r.higher_is_better), note=note)
            )  # fmt: skip
    keys = result.tiles
    if keys is None:
        keys = tuple(
            k for k, v in result.summary.items()
            if term(k, result.name).unit in _TILE_UNITS and isinstance(v, int | float) and not isinstance(v, bool)
        )[:MAX_TILES]  # fmt: skip
    for k in keys:
        t = term(k, result.name)
        tiles.append(kpi_tile(k, t.label, result.summary.get(k), t.unit, change=None))
    return tiles


def finding_html(f: Finding) -> str:
    """One finding as a list item: title, scope, at stake, evidence, likely cause, action."""
    rows = []
    stake = f.stake_text()
    if stake:
        rows.append(("At stake", stake))
    if f.evidence:
        rows.append(("Evidence", f.evidence_text()))
    if f.root_cause:
        rows.append(("Likely cause", f.root_cause))
    rows.append(("Action", f.action))
    rows.append(
        (
            "Confidence",
            f.confidence + ("" if f.provenance.kind == "live" else f"; {f.provenance.kind} data"),
        )
    )
    items = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in rows)
    return (
        f'<li class="opskit-finding" data-source="{html.escape(f.source)}">'
        f'<span class="ttl">{html.escape(f.title)}</span> <span class="where">({html.escape(f.where)})</span>'
        f"<dl>{items}</dl></li>"
    )


def chart_svg(chart: Any) -> tuple[str, str]:
    """``(svg, alt text)`` of an Altair chart or Vega-Lite spec, rendered offline."""
    import vl_convert as vlc

    spec = chart if isinstance(chart, dict) else chart.to_dict(validate=False)
    alt = str(spec.get("description") or "")
    if not alt:
        title = spec.get("title")
        text = title.get("text") if isinstance(title, dict) else title
        alt = f"Chart: {text}" if text else "Chart"
    return vlc.vegalite_to_svg(spec), alt


def figure_html(chart: Any, name: str = "") -> str:
    """A chart as an image (static SVG) with its alt text, in a ``figure``."""
    svg, alt = chart_svg(chart)
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (
        f'<figure class="opskit-figure opskit-chart-{html.escape(name)}">'
        f'<img alt="{html.escape(alt)}" src="data:image/svg+xml;base64,{data}"/>'
        f"<figcaption>{html.escape(alt)}</figcaption></figure>"
    )


def _title(result: Result) -> str:
    if result.title:
        return result.title
    words = humanize(result.name)
    return words[:1].upper() + words[1:]


def result_tables(result: Result) -> list[tuple[str, TableSpec, pd.DataFrame]]:
    """``(name, spec, rows)`` of every table the page shows (all rows, every column)."""
    specs = result.shown if result.shown is not None else (TableSpec("frame", _title(result)),)
    out = []
    for spec in specs:
        frame = result.table(spec.table)
        rows = frame.query(spec.query) if spec.query else frame
        if spec.sort_by is not None and spec.sort_by in rows.columns:
            rows = rows.sort_values(spec.sort_by, ascending=spec.ascending, kind="stable")
        out.append((spec.file_name, spec, rows.reset_index(drop=True)))
    return out


def page_html(result: Result, *, charts: bool = True) -> str:
    """The whole page of ``result`` as one HTML fragment (class ``opskit-page``)."""
    parts = [CSS, f'<article class="opskit-page" data-result="{html.escape(result.name)}">']
    parts.append(f"<h1>{html.escape(_title(result))}</h1>")
    if result.headline:
        parts.append(f'<p class="opskit-answer">{html.escape(result.headline)}</p>')
    parts.append(provenance_banner(result.provenance))
    tiles = result_tiles(result)
    if tiles:
        parts.append('<div class="opskit-tiles">' + "".join(tiles) + "</div>")
    if result.notes:
        parts.append(
            '<div class="opskit-notes">'
            + "".join(f"<p>{html.escape(n)}</p>" for n in result.notes)
            + "</div>"
        )
    if result.findings:
        parts.append("<h2>What to act on</h2>")
        parts.append(
            '<ol class="opskit-findings">'
            + "".join(finding_html(f) for f in result.findings)
            + "</ol>"
        )
        if any(f.impact_usd is not None for f in result.findings):
            parts.append(
                f'<p class="opskit-basis">Findings are ranked by money at stake in {MONEY_BASIS}; a '
                f"subscription lost or saved counts as {SUBSCRIPTION_VALUE_MONTHS} months of its price.</p>"
            )
    if charts:
        figures = [figure_html(c, n) for n, c in result.all_charts().items()]
        if figures:
            parts.append("<h2>Charts</h2>" + "".join(figures))
    tables = result_tables(result)
    if tables:
        parts.append("<h2>Details</h2>")
        for name, spec, rows in tables:
            shown = (
                spec.select(rows)
                if spec.columns is not None
                else rows.drop(columns=["provenance"], errors="ignore")
            )
            parts.append(table_html(shown, title=spec.title, name=name, max_rows=spec.max_rows,
                                    context=result.name, units=spec.units, names=spec.labels))  # fmt: skip
    parts.append("</article>")
    return "".join(parts)


def page_bundle(result: Result) -> dict[str, Any]:
    """The display bundle of a result: the page as HTML, plain text, and the full tables."""
    tables = {
        name: {"title": spec.title, "rows": len(rows), "csv": rows.to_csv(index=False)}
        for name, spec, rows in result_tables(result)
    }
    return {
        "text/html": page_html(result),
        "text/plain": page_text(result, tables=False),
        TABLES_MIME: {"result": result.name, "tables": tables},
    }


_FOOT = re.compile(r'(<div class="opskit-table-foot" data-table="([^"]*)">)([^<]*?)(\.</div>)')


def link_tables(page: str, links: Mapping[str, str]) -> str:
    """Add "full table: <link>" to the footer of every table whose name is in ``links``."""

    def sub(m: re.Match[str]) -> str:
        href = links.get(html.unescape(m.group(2)))
        if href is None:
            return m.group(0)
        esc = html.escape(href)
        return f'{m.group(1)}{m.group(3)}; full table: <a href="{esc}">{esc}</a>{m.group(4)}'

    return _FOOT.sub(sub, page)


def page_text(
    result: Result, *, tables: bool = True, max_findings: int = 10, max_rows: int = 10
) -> str:
    """The page as plain text (Markdown-like), for MCP answers and terminals."""
    lines = [f"# {_title(result)}"]
    if result.headline:
        lines.append(result.headline)
    lines.append(f"Data: {result.provenance.label()}")
    figures = []
    if result.kpis is not None:
        for r in result.kpis.itertuples():
            change = (
                ""
                if is_missing(r.change)
                else f" ({fmt_change(r.change, str(r.unit))} vs previous)"
            )
            figures.append(f"- {r.label}: {fmt(r.value, str(r.unit))}{change}")
    for k, v in result.summary.items():
        t = term(k, result.name)
        text = humanize(str(v)) if t.category and isinstance(v, str) else fmt(v, t.unit)
        figures.append(f"- {t.label}: {text}")
    if figures:
        lines += ["", "## Key figures", *figures]
    if result.notes:
        lines += ["", "## Notes", *(f"- {n}" for n in result.notes)]
    if result.findings:
        lines += ["", "## What to act on"]
        lines += [f"{i}. {f.text()}" for i, f in enumerate(result.findings[:max_findings], 1)]
        if len(result.findings) > max_findings:
            lines.append(f"({len(result.findings) - max_findings} more findings)")
    if tables:
        for _, spec, rows in result_tables(result):
            shown = spec.select(rows) if spec.columns is not None else rows
            table = table_text(
                shown, max_rows=max_rows, context=result.name, units=spec.units, names=spec.labels
            )
            lines += ["", f"## {spec.title}", table]
    return "\n".join(lines)
