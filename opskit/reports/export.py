"""Code-free, offline HTML from an executed notebook.

nbconvert's HTML export with input cells and prompts removed; external script
tags (MathJax, require.js from a CDN) and inline scripts that import from a CDN
(nbconvert's mermaid loader) are dropped so the page opens with no
network access, and a header states the report, its parameters, when it ran
and where its numbers came from.
"""

from __future__ import annotations

import html
import re
from typing import Any

import nbformat
from nbconvert import HTMLExporter

__all__ = ["external_references", "notebook_provenance", "to_html"]

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


def external_references(page: str) -> list[str]:
    """URLs of scripts, stylesheets or images the page would fetch from the network.

    Also reports CDN URLs that inline scripts would import at run time.
    """
    found = set(_EXTERNAL_REF.findall(page))
    for body in _SCRIPT_URL.findall(page):
        found.update(re.findall(r"https?://(?:cdnjs|cdn\.jsdelivr|unpkg)[^\s\"']+", body))
    return sorted(found)


def notebook_provenance(nb: nbformat.NotebookNode) -> list[dict[str, str]]:
    """Provenance banners (``class="opskit-provenance"``) found in the notebook's outputs."""
    found: dict[tuple[str, str], None] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/html", "")
            if isinstance(text, list):
                text = "".join(text)
            for kind, label in _PROVENANCE.findall(text):
                found[(kind, html.unescape(label.strip()))] = None
    return [{"kind": k, "label": label} for k, label in found]


def to_html(nb: nbformat.NotebookNode, *, title: str, header: dict[str, Any]) -> str:
    """Export ``nb`` to a standalone, code-free HTML page that renders offline."""
    exporter = HTMLExporter(  # type: ignore[no-untyped-call]
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        mathjax_url="",
        require_js_url="",
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    body = _SCRIPT_FETCHING.sub("", _EMPTY_SCRIPT.sub("", _EXTERNAL_SCRIPT.sub("", body)))
    rows = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(str(k))}</th>"
        f"<td>{html.escape(str(v))}</td></tr>"
        for k, v in header.items()
    )
    banner = (
        "<div class='opskit-report-header' style='font-family:sans-serif;margin:1em 2em;"
        "padding:0.5em 1em;border:1px solid #ccc;border-radius:4px'>"
        f"<h2 style='margin:0.2em 0'>{html.escape(title)}</h2><table>{rows}</table></div>"
    )
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + banner, body, count=1)
