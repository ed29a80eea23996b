"""Code-free, offline HTML from an executed notebook, and what the runner takes out of it.

nbconvert's HTML export with input cells and prompts removed; external script
tags (MathJax, require.js from a CDN) and inline scripts that import from a CDN
(nbconvert's mermaid loader) are dropped so the page opens with no network
access. Before export, :func:`reader_view` removes what a reader should not see:
cells tagged ``notebook-only`` (the notebook's own introduction) and everything the
kernel wrote to standard error (log lines go to the run's log, :func:`kernel_log`).
:func:`page_tables` collects the full tables the report pages carry (see
:mod:`opskit.present.page`), which the runner writes as CSV files.
"""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Mapping
from typing import Any

import nbformat
from nbconvert import HTMLExporter

from opskit.present.page import TABLES_MIME

__all__ = [
    "NOTEBOOK_ONLY",
    "external_references",
    "kernel_log",
    "notebook_provenance",
    "page_tables",
    "reader_view",
    "to_html",
]

#: Cells with this tag show in the notebook but not in the report.
NOTEBOOK_ONLY = "notebook-only"

_EXTERNAL_SCRIPT = re.compile(
    r"<script\b[^>]*\bsrc=\"(?:https?:)?//[^\"]*\"[^>]*>\s*</script>", re.I
)
_EMPTY_SCRIPT = re.compile(r"<script\b[^>]*\bsrc=\"\"[^>]*>\s*</script>", re.I)
_SCRIPT_FETCHING = re.compile(
    r"<script\b[^>]*>(?:(?!</script>).)*?(?:https?:)?//(?:cdnjs|cdn\.jsdelivr|unpkg)[^\s\"']*(?:(?!</script>).)*</script>",
    re.I | re.S,
)
_SCRIPT_URL = re.compile(r"<script\b[^>]*>((?:(?!</script>).)*)</script>", re.I | re.S)
_EXTERNAL_REF = re.compile(
    r"<(?:script|link|img)\b[^>]*\b(?:src|href)=\"((?:https?:)?//[^\"]+)\"", re.I
)
_PROVENANCE = re.compile(r"data-provenance=\"(demo|cache|live)\"[^>]*>([^<]*)<")
_HEADER_CSS = (
    "<style>.opskit-report-header{font-family:system-ui,'DejaVu Sans',Arial,sans-serif;"
    "margin:12px 2em 0;padding:6px 12px;border:1px solid #d0d7de;border-radius:6px;font-size:13px;"
    "color:#57606a;max-width:1100px}.opskit-report-header b{color:#1f2328}"
    ".opskit-report-header a{color:#0969da}"
    "@page{size:A4;margin:12mm}@media print{.jp-Cell,.jp-OutputArea,.jp-OutputArea-child{break-inside:auto}"
    ".opskit-report-header a{color:#1f2328;text-decoration:none}}</style>"
)


def external_references(page: str) -> list[str]:
    """URLs of scripts, stylesheets or images the page would fetch from the network.

    Also reports CDN URLs that inline scripts would import at run time.
    """
    found = set(_EXTERNAL_REF.findall(page))
    for body in _SCRIPT_URL.findall(page):
        found.update(re.findall(r"https?://(?:cdnjs|cdn\.jsdelivr|unpkg)[^\s\"']+", body))
    return sorted(found)


def _outputs(nb: nbformat.NotebookNode) -> list[Any]:
    return [out for cell in nb.cells for out in cell.get("outputs", [])]


def notebook_provenance(nb: nbformat.NotebookNode) -> list[dict[str, str]]:
    """Provenance banners (``class="opskit-provenance"``) found in the notebook's outputs."""
    found: dict[tuple[str, str], None] = {}
    for out in _outputs(nb):
        text = out.get("data", {}).get("text/html", "")
        if isinstance(text, list):
            text = "".join(text)
        for kind, label in _PROVENANCE.findall(text):
            found[(kind, html.unescape(label.strip()))] = None
    return [{"kind": k, "label": label} for k, label in found]


def page_tables(nb: nbformat.NotebookNode) -> dict[str, dict[str, Any]]:
    """The full tables of the report pages in the notebook: name -> ``{title, rows, csv}``."""
    tables: dict[str, dict[str, Any]] = {}
    for out in _outputs(nb):
        bundle = out.get("data", {}).get(TABLES_MIME)
        if isinstance(bundle, Mapping):
            tables.update(bundle.get("tables", {}))
    return tables


def kernel_log(nb: nbformat.NotebookNode) -> list[str]:
    """Every line the kernel wrote to standard error (logging, warnings), in order."""
    lines: list[str] = []
    for out in _outputs(nb):
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            text = out.get("text", "")
            lines += ("".join(text) if isinstance(text, list) else text).splitlines()
    return [line for line in lines if line.strip()]


def reader_view(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy without ``notebook-only`` cells and standard-error output (log lines)."""
    out = copy.deepcopy(nb)
    out.cells = [c for c in out.cells if NOTEBOOK_ONLY not in c.get("metadata", {}).get("tags", [])]
    for cell in out.cells:
        if "outputs" in cell:
            cell.outputs = [
                o
                for o in cell.outputs
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
            for o in cell.outputs:  # the full tables travel in the notebook, not in the page
                o.get("data", {}).pop(TABLES_MIME, None)
    return out


def to_html(nb: nbformat.NotebookNode, *, title: str, header: str) -> str:
    """Export ``nb`` to a standalone, code-free HTML page that renders offline.

    ``header`` is HTML placed at the top of the body (the run's facts and links).
    """
    exporter = HTMLExporter(  # type: ignore[no-untyped-call]
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        mathjax_url="",
        require_js_url="",
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    body = _SCRIPT_FETCHING.sub("", _EMPTY_SCRIPT.sub("", _EXTERNAL_SCRIPT.sub("", body)))
    block = f"{_HEADER_CSS}<div class='opskit-report-header'>{header}</div>"
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + block, body, count=1)
