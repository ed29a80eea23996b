"""``reports/index.html``: every run, failures included, newest first, with its files.

Each row of a finished run links the run's page (HTML), its PDF, its tables (CSV)
and the executed notebook, as the run's ``run.json`` lists them. A run that started
and never finished (killed, crashed) is listed from its start record
(:mod:`opskit.reports.journal`) as ``abandoned``, with its start time and
parameters and no links; one still going is listed as ``running``. Building the
index first removes the temporary folders of dead runs.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from opskit.present.units import fmt, fmt_timestamp, humanize
from opskit.reports import journal, layout

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


#: Run statuses, in the order the summary counts them.
_STATUSES = ("succeeded", "failed", journal.ABANDONED, journal.RUNNING)
_STYLE = (
    "body{font-family:system-ui,'DejaVu Sans',sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}"
    ".status{font-weight:bold;color:#a40000}.status.succeeded{color:#1f5f1f}"
    ".status.abandoned{color:#6b4500;background:#fff1c2}.status.running{color:#0b4f8a}"
)


def _parameters(run: dict[str, Any]) -> str:
    given = run.get("parameters") or {}
    return ", ".join(f"{k}={v}" for k, v in given.items()) or "defaults"


def _unfinished_note(run: dict[str, Any]) -> str:
    """Why a run has no folder: who ran it and when it was last heard from."""
    heard = run.get("heartbeat_at") or run.get("started_at")
    who = f"process {run.get('pid', '?')} on {run.get('host', '?')}"
    when = f"last heard from {fmt_timestamp(heard)}" if heard else "never heard from"
    if run["status"] == journal.RUNNING:
        return f"still running ({who}, {when})"
    why = _error(run)
    return f"stopped before it finished ({who}, {when}){f': {why}' if why else ''}"


def _error(run: dict[str, Any]) -> str:
    """``ename: evalue`` of the run's error, or nothing."""
    error = run.get("error") or {}
    return f"{error.get('ename', '')}: {error.get('evalue', '')}" if error else ""


def _row(run: dict[str, Any]) -> str:
    status = str(run.get("status", "unknown"))
    name = run.get("name", "?")
    started = run.get("started_at")
    if "folder" in run:  # a finished run
        prov = "; ".join(sorted({p.get("kind", "?") for p in run.get("provenance", [])})) or "-"
        duration, files = f"{run.get('duration_s', 0):.1f} s", _links(run)
        note = _error(run)
    else:  # a start record: no folder, so nothing to link
        prov, duration = "-", "-"
        files = "no files" if status == journal.ABANDONED else "being written"
        note = _unfinished_note(run)
    return (
        "<tr>"
        f"<td>{html.escape(humanize(name))}</td><td>{html.escape(str(run.get('logical_date', '')))}</td>"
        f"<td>{html.escape(fmt_timestamp(started) if started else '')}</td>"
        f"<td class='status {html.escape(status)}'>{html.escape(status)}</td>"
        f"<td>{duration}</td><td>{html.escape(prov)}</td>"
        f"<td>{html.escape(_parameters(run))}</td><td>{files}</td>"
        f"<td>{html.escape(note)[:200]}</td></tr>"
    )


def _summary(runs: list[dict[str, Any]]) -> str:
    counts = {s: sum(1 for r in runs if r.get("status") == s) for s in _STATUSES}
    parts = [f"{fmt(n, 'count')} {s}" for s, n in counts.items() if n or s == "failed"]
    return f"{fmt(len(runs), 'count')} runs: {', '.join(parts)}."


def build_index(root: Path) -> Path:
    """Write ``root/index.html`` listing every run and return its path.

    Finished runs come from their ``run.json``, runs that never finished from their
    start records (``abandoned``, or ``running``). The temporary folders of dead
    runs are removed first (:func:`opskit.reports.journal.clear_stale`); a live
    run's folder is left alone.
    """
    journal.clear_stale(root)
    finished = collect_runs(root)
    attempts = {str(r["attempt"]) for r in finished if r.get("attempt")}
    runs = [*finished, *journal.unfinished_runs(root, finished=attempts)]
    runs.sort(key=lambda r: str(r.get("started_at", "")), reverse=True)
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>opskit reports</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>opskit reports</h1><p>{html.escape(_summary(runs))}</p>"
        "<table><tr><th>report</th><th>date</th><th>started</th><th>status</th><th>duration</th>"
        "<th>data</th><th>parameters</th><th>files</th><th>error</th></tr>"
        + "".join(_row(r) for r in runs)
        + "</table></body></html>"
    )
    root.mkdir(parents=True, exist_ok=True)
    out = root / "index.html"
    # runs finishing at once (an orchestrator's parallel tasks) each rebuild the index
    return layout.write_atomic(out, page)
