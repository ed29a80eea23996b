"""``reports/index.html``: every run, failures included, newest first, with its files.

Each row links the run's page (HTML), its PDF, its tables (CSV) and the executed
notebook, as the run's ``run.json`` lists them.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

from opskit.present.units import fmt_timestamp, humanize
from opskit.reports import layout

__all__ = ["build_index", "collect_runs"]


def collect_runs(root: Path) -> list[dict[str, Any]]:
    """Every ``run.json`` under ``root`` (newest first), with its folder."""
    runs = []
    for manifest in root.glob(f"*/*/*/{layout.RUN_JSON}"):
        if any(part.startswith(".") for part in manifest.relative_to(root).parts):
            continue  # a run still being written (.<run-id>.tmp-<pid>), or scheduler state
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue  # a run being written right now, or a damaged one: skip it
        data["folder"] = manifest.parent.relative_to(root).as_posix()
        runs.append(data)
    runs.sort(key=lambda r: str(r.get("started_at", "")), reverse=True)
    return runs


def _links(run: dict[str, Any]) -> str:
    folder, name = run["folder"], str(run.get("name", "?"))
    files = run.get("files") or {}

    def a(href: str, text: str) -> str:
        return f"<a href='{html.escape(folder)}/{html.escape(href)}'>{html.escape(text)}</a>"

    out = [a(files.get("html", layout.html_name(name)), "report")]
    if files.get("pdf"):
        out.append(a(files["pdf"], "PDF"))
    out += [a(f, f"{humanize(t)} (CSV)") for t, f in (files.get("tables") or {}).items()]
    out.append(a(files.get("notebook", layout.notebook_name(name)), "notebook"))
    return " · ".join(out)


def build_index(root: Path) -> Path:
    """Write ``root/index.html`` listing every run and return its path."""
    runs = collect_runs(root)
    rows = []
    for r in runs:
        status = r.get("status", "unknown")
        colour = "#1f5f1f" if status == "succeeded" else "#a40000"
        prov = "; ".join(sorted({p.get("kind", "?") for p in r.get("provenance", [])})) or "-"
        name = r.get("name", "?")
        error = r.get("error") or {}
        err = f"{error.get('ename', '')}: {error.get('evalue', '')}" if error else ""
        started = r.get("started_at")
        rows.append(
            "<tr>"
            f"<td>{html.escape(humanize(name))}</td><td>{html.escape(str(r.get('logical_date', '')))}</td>"
            f"<td>{html.escape(fmt_timestamp(started) if started else '')}</td>"
            f"<td style='color:{colour};font-weight:bold'>{html.escape(status)}</td>"
            f"<td>{r.get('duration_s', 0):.1f} s</td><td>{html.escape(prov)}</td>"
            f"<td>{html.escape(', '.join(f'{k}={v}' for k, v in (r.get('parameters') or {}).items()) or 'defaults')}</td>"
            f"<td>{_links(r)}</td>"
            f"<td>{html.escape(err)[:200]}</td></tr>"
        )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>opskit reports</title>"
        "<style>body{font-family:system-ui,'DejaVu Sans',sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}</style></head><body>"
        f"<h1>opskit reports</h1><p>{len(runs)} runs, "
        f"{sum(1 for r in runs if r.get('status') != 'succeeded')} failed.</p>"
        "<table><tr><th>report</th><th>date</th><th>started</th><th>status</th><th>duration</th>"
        "<th>data</th><th>parameters</th><th>files</th><th>error</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )
    root.mkdir(parents=True, exist_ok=True)
    out = root / "index.html"
    tmp = out.with_name(".index.html.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, out)
    return out
