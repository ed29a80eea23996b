"""Publish a finished report run to Confluence (optional, opt-in twice).

A page is written only when the job asks for it (``publish = true`` in
``schedule.toml``), Confluence is configured (``OPSKIT_CONFLUENCE__*``) *and*
``OPSKIT_ALLOW_WRITES`` is true. The page body is Confluence storage format
(strict XHTML) built from the executed notebook: the report header (status,
parameters, data provenance), then every text, table and HTML output reduced to
a safe tag subset. Charts are images that storage format cannot inline; the page
says where the full HTML report is. Secrets never reach logs or ``run.json``:
errors are recorded with the connector's redacted message.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat

from opskit.errors import OpsKitError
from opskit.reports import layout

__all__ = ["publish_run", "storage_body"]

logger = logging.getLogger(__name__)

_KEEP = {
    "p", "b", "strong", "i", "em", "u", "ul", "ol", "li", "table", "thead", "tbody",
    "tr", "th", "td", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "code", "blockquote",
}  # fmt: skip
_VOID = {"br", "hr"}
_DROP_CONTENT = {"script", "style", "svg", "head", "title"}
_PAPERMILL_TAGS = {"injected-parameters", "papermill-error-cell-tag"}


class _Sanitizer(HTMLParser):
    """Reduce arbitrary HTML to well-formed XHTML with a small tag set and no attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_CONTENT:
            self.skip += 1
        elif self.skip:
            return
        elif tag in _VOID:
            self.out.append(f"<{tag}/>")
        elif tag in _KEEP:
            self.out.append(f"<{tag}>")
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.skip and tag in _VOID:
            self.out.append(f"<{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_CONTENT:
            self.skip = max(self.skip - 1, 0)
        elif not self.skip and tag in self.open:
            while self.open:
                top = self.open.pop()
                self.out.append(f"</{top}>")
                if top == tag:
                    break

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(html.escape(data, quote=False))

    def result(self) -> str:
        self.close()
        return "".join(self.out) + "".join(f"</{t}>" for t in reversed(self.open))


def _xhtml(fragment: str) -> str:
    parser = _Sanitizer()
    parser.feed(fragment)
    return parser.result()


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def storage_body(notebook: Path, manifest: dict[str, Any], *, html_report: str = "") -> str:
    """Confluence storage-format body for an executed report notebook.

    Parameters
    ----------
    notebook
        The executed notebook of the run.
    manifest
        Its ``run.json``.
    html_report
        Where the full HTML report is (shown on the page).

    Returns
    -------
    str
        Well-formed XHTML using only tags Confluence storage format accepts.
    """
    nb = nbformat.read(notebook, as_version=4)  # type: ignore[no-untyped-call]
    params = manifest.get("parameters") or {}
    rows = {
        "status": manifest.get("status", "?"),
        "ran (UTC)": str(manifest.get("started_at", ""))[:19].replace("T", " "),
        "parameters": ", ".join(f"{k}={v}" for k, v in params.items()) or "defaults",
        "data": "; ".join(p.get("label", "") for p in manifest.get("provenance", [])) or "-",
    }
    parts = [
        "<table><tbody>"
        + "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
            for k, v in rows.items()
        )
        + "</tbody></table>"
    ]
    for cell in nb.cells:
        if cell.cell_type != "code" or _PAPERMILL_TAGS & set(cell.metadata.get("tags", [])):
            continue
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            data = out.get("data", {})
            if kind == "stream" and out.get("name") == "stdout":
                parts.append(f"<pre>{html.escape(_text(out.get('text', '')), quote=False)}</pre>")
            elif kind in ("display_data", "execute_result"):
                if any(m.startswith("image/") for m in data) or (
                    "<svg" in _text(data.get("text/html", ""))
                ):
                    parts.append("<p><em>[chart: see the HTML report]</em></p>")
                elif "text/html" in data:
                    parts.append(_xhtml(_text(data["text/html"])))
                elif "text/markdown" in data or "text/plain" in data:
                    body = _text(data.get("text/markdown", data.get("text/plain", "")))
                    parts.append(f"<pre>{html.escape(body, quote=False)}</pre>")
    if html_report:
        parts.append(f"<p>Full report with charts: <code>{html.escape(html_report)}</code></p>")
    return "".join(parts)


def publish_run(
    folder: Path,
    *,
    title: str,
    settings: Any,
    connector_factory: Callable[[], Any] | None = None,
) -> dict[str, Any]:
    """Publish the run in ``folder`` to Confluence, if allowed; record the outcome in run.json.

    Parameters
    ----------
    folder
        A successful run folder (``run.json``, ``<name>.ipynb``, ``<name>.html``).
    title
        Confluence page title.
    settings
        :class:`opskit.config.Settings` (``allow_writes``, ``confluence``).
    connector_factory
        Builds the connector (default: from ``settings``); tests pass one with a
        fake transport.

    Returns
    -------
    dict
        ``status`` (``published`` | ``skipped`` | ``failed``) and ``action``, ``url``
        or ``reason``/``error``; also stored under ``publish`` in ``run.json``.
        A failure never raises: it is logged and recorded.
    """
    manifest_path = folder / layout.RUN_JSON
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    result: dict[str, Any]
    if not settings.allow_writes:
        result = {"status": "skipped", "reason": "allow_writes is false (OPSKIT_ALLOW_WRITES)"}
    elif connector_factory is None and not settings.confluence.is_configured:
        result = {"status": "skipped", "reason": "Confluence is not configured"}
    else:
        name = manifest.get("name", folder.name)
        try:
            from opskit.connectors import connector_from_settings

            body = storage_body(
                folder / layout.notebook_name(name),
                manifest,
                html_report=str(folder / layout.html_name(name)),
            )
            factory: Callable[[], Any] = connector_factory or (
                lambda: connector_from_settings("confluence", settings)
            )
            with factory() as conf:
                page = conf.publish_page(
                    title=title, body=body, message=f"opskit run {folder.name}"
                )
            result = {"status": "published", "title": title, **{
                k: page.get(k) for k in ("action", "id", "version", "url")
            }}  # fmt: skip
            logger.info("published %s to Confluence (%s)", title, result.get("action"))
        except (OpsKitError, OSError, ValueError) as exc:
            result = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
            logger.warning("publishing %s to Confluence failed: %s", title, result["error"])
    manifest["publish"] = result
    layout.write_atomic(manifest_path, json.dumps(manifest, indent=2, default=str))
    return result
