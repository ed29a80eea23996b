"""Run a report notebook with papermill into ``reports/<name>/<date>/<run-id>/``.

Each run folder holds the executed notebook, a code-free HTML page, a PDF of that
page (printed by the system's Chromium, :mod:`opskit.reports.pdf`), one CSV per
table the page shows (every row, full precision), ``run.log`` (what the kernel
logged: log lines never appear in the page) and ``run.json`` (parameters, status,
timings, per-cell durations, provenance, files, warnings and, on failure, the
failing cell and error). Runs are written to a temporary folder and moved into
place at the end, so readers never see half a run; a failed run never replaces a
successful one in the same slot, and ``reports/<name>/latest.json`` (and the
``latest`` symlink) only ever point at a successful run. A start record written
before anything else (:mod:`opskit.reports.journal`) lets a run killed on the way
show as abandoned in the index; every run first clears the temporary folders of
dead runs.

Kernels are started with CurveZMQ transport encryption (the kernel manager
provisions the keys), so nothing travels over TCP in plain text.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import html
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import nbformat
import papermill as pm
import zmq
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_event_loop
from traitlets import default

from opskit.config import load_settings
from opskit.errors import ConfigError, ReportError, ReportExecutionError
from opskit.present.glossary import term
from opskit.present.page import link_tables
from opskit.present.units import fmt, fmt_timestamp, humanize
from opskit.reports import export, journal, layout, params, pdf

__all__ = ["KERNEL", "ReportRun", "notebook_path", "report_names", "run_report"]

logger = logging.getLogger(__name__)

KERNEL = "opskit"
NOTEBOOK_DIR = Path("notebooks") / "analyses"


@dataclass(frozen=True)
class ReportRun:
    """Where a run went and how it ended."""

    name: str
    run_id: str
    folder: Path
    status: str
    manifest: dict[str, Any]

    @property
    def html(self) -> Path:
        return self.folder / layout.html_name(self.name)

    @property
    def pdf(self) -> Path:
        return self.folder / layout.pdf_name(self.name)

    @property
    def notebook(self) -> Path:
        return self.folder / layout.notebook_name(self.name)


class EncryptedKernelManager(AsyncKernelManager):
    """The report kernels' manager: CurveZMQ keys, and a shutdown without a stray SIGINT.

    jupyter_client interrupts a kernel before asking it to shut down; a report kernel
    is idle by then (every cell finished, or papermill already interrupted the one that
    timed out), and the interrupt only lands in whatever message the kernel is handling
    ("KeyboardInterrupt caught in kernel" on the run's output). The polite shutdown
    request, then a kill if the kernel is still up, remain.
    """

    @default("transport_encryption")
    def _default_transport_encryption(self) -> str:
        return "auto" if zmq.has("curve") else "disabled"

    async def _async_interrupt_kernel(self) -> None:
        if self.shutting_down:
            return
        await super()._async_interrupt_kernel()


def report_names(home: Path | None = None) -> list[str]:
    """Names of the report notebooks under ``notebooks/analyses/``."""
    folder = (home or load_settings().home) / NOTEBOOK_DIR
    return sorted(p.stem for p in folder.glob("*.ipynb") if not p.name.startswith("_"))


def notebook_path(name: str, home: Path | None = None) -> Path:
    """The notebook of report ``name``.

    Raises
    ------
    ConfigError
        Naming the available reports when ``name`` is unknown.
    """
    home = home or load_settings().home
    path = home / NOTEBOOK_DIR / f"{name}.ipynb"
    if not path.is_file():
        raise ConfigError(
            f"no report {name!r}; available reports: {', '.join(report_names(home)) or 'none'}"
        )
    return path


def _kernel(kernel: str) -> str:
    try:
        KernelSpecManager().get_kernel_spec(kernel)
    except NoSuchKernel:
        raise ReportError(
            f"Jupyter kernel {kernel!r} is not installed; run `make kernel` or "
            f"`python -m ipykernel install --sys-prefix --name {kernel}`"
        ) from None
    return kernel


def _run_id(parameters: dict[str, Any], now: datetime) -> str:
    digest = hashlib.sha256(
        json.dumps(parameters, sort_keys=True, default=str).encode()
    ).hexdigest()[:8]
    return f"{now:%H%M%S}-{digest}"


@contextlib.contextmanager
def _thread_event_loop() -> Iterator[None]:
    """Run in a worker thread with an event loop that is closed afterwards.

    papermill drives the kernel through jupyter_core, which makes an event loop for
    each thread it is called from and never closes it: reports run from a thread pool
    (``opskit report run --all``) would leak a loop and its sockets per run. In the
    main thread jupyter_core's one loop is reused, so nothing is done there.
    """
    if threading.current_thread() is threading.main_thread():
        yield
        return
    loop = ensure_event_loop()  # the loop papermill will use in this thread
    try:
        yield
    finally:
        if not loop.is_running():
            loop.close()
            asyncio.set_event_loop(None)


def run_report(
    name: str,
    parameters: dict[str, Any] | None = None,
    *,
    output_root: Path | None = None,
    run_id: str | None = None,
    logical_date: date | None = None,
    kernel: str = KERNEL,
    timeout_s: float | None = 1800,
    home: Path | None = None,
) -> ReportRun:
    """Validate parameters, execute the notebook, export HTML, write ``run.json``.

    Parameters
    ----------
    name
        Report name: ``notebooks/analyses/<name>.ipynb``.
    parameters
        Values for the notebook's ``parameters`` cell (text is coerced to the
        declared type); unknown names are rejected before a kernel starts.
    output_root
        Where run folders go (default ``<home>/reports``).
    run_id, logical_date
        Name the run folder (orchestrators pass their own to make retries
        idempotent); default: the current UTC time and a hash of the parameters.
    kernel
        Jupyter kernel to execute with.
    timeout_s
        Per-cell execution timeout.

    Returns
    -------
    ReportRun
        The successful run.

    Raises
    ------
    ConfigError
        Unknown report or invalid parameters.
    ReportExecutionError
        A cell raised; ``.output_path`` is the executed notebook with
        papermill's error banner and ``.cell_index`` the failing cell (0-based,
        counted in the source notebook).
    """
    settings = load_settings()
    home = home or settings.home
    source = notebook_path(name, home)
    values = params.validate(source, parameters or {})
    _kernel(kernel)
    started = datetime.now(UTC)
    day = (logical_date or started.date()).isoformat()
    run_id = run_id or _run_id(values, started)
    root = output_root or home / "reports"
    final = root / name / day / run_id
    journal.clear_stale(root)  # folders left by runs that were killed mid-way
    tmp = layout.tmp_folder(final)
    manifest: dict[str, Any] = {
        "name": name, "run_id": run_id, "logical_date": day, "parameters": values,
        "notebook": str(source.relative_to(home)) if source.is_relative_to(home) else str(source),
        "kernel": kernel, "started_at": started.isoformat(),
    }  # fmt: skip
    # The start record comes before the folder: a run killed from here on is listed as abandoned.
    with journal.StartedRun(root / name, tmp, manifest) as record:
        manifest["attempt"] = record.attempt
        return _execute(
            source,
            tmp,
            final,
            manifest,
            record,
            started=started,
            kernel=kernel,
            timeout_s=timeout_s,
        )


def _execute(
    source: Path,
    tmp: Path,
    final: Path,
    manifest: dict[str, Any],
    record: journal.StartedRun,
    *,
    started: datetime,
    kernel: str,
    timeout_s: float | None,
) -> ReportRun:
    """Execute the notebook into ``tmp``, write its outputs, move the run to ``final``."""
    name, values = manifest["name"], manifest["parameters"]
    report_dir = final.parent.parent
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    out_nb = tmp / layout.notebook_name(name)
    t0 = time.perf_counter()
    error: pm.PapermillExecutionError | None = None
    try:
        with _thread_event_loop():
            pm.execute_notebook(
                str(source), str(out_nb), parameters=values, kernel_name=kernel,
                cwd=str(source.parent), progress_bar=False, log_output=False,
                execution_timeout=timeout_s, kernel_manager_class=EncryptedKernelManager,
            )  # fmt: skip
    except pm.PapermillExecutionError as exc:
        error = exc
    except Exception as exc:  # kernel died, timeout, missing file: still keep the evidence
        manifest.update(status="failed", error={"ename": type(exc).__name__, "evalue": str(exc)})
        _finish(tmp, final, manifest, t0, record)
        raise ReportExecutionError(
            f"report {name} failed before completing: {exc}", output_path=str(final)
        ) from exc
    nb = nbformat.read(out_nb, as_version=4)  # type: ignore[no-untyped-call]
    manifest["status"] = "failed" if error else "succeeded"
    manifest["cells"] = _cell_timings(nb)
    manifest["provenance"] = export.notebook_provenance(nb)
    if error is not None:
        manifest["error"] = {
            "cell_index": _failing_cell(nb), "exec_count": error.exec_count,
            "ename": error.ename, "evalue": error.evalue,
        }  # fmt: skip
    _write_outputs(nb, tmp, name, values, started, manifest)
    folder = _finish(tmp, final, manifest, t0, record)
    run = ReportRun(name, folder.name, folder, manifest["status"], manifest)
    if error is not None:
        raise ReportExecutionError(
            f"report {name}: cell {manifest['error']['cell_index']} raised {error.ename}: {error.evalue}",
            cell_index=manifest["error"]["cell_index"],
            output_path=str(folder / layout.notebook_name(name)),
        ) from None
    _write_json(
        report_dir / layout.LATEST_JSON,
        {"run": str(folder.relative_to(report_dir.parent)), **_summary(manifest)},
    )
    layout.point_latest(report_dir, folder)
    logger.info(
        "report %s: %s in %.1f s -> %s", name, manifest["status"], manifest["duration_s"], folder
    )
    return run


def _write_outputs(
    nb: nbformat.NotebookNode,
    folder: Path,
    name: str,
    values: dict[str, Any],
    started: datetime,
    manifest: dict[str, Any],
) -> None:
    """CSV tables, the log, the HTML page and its PDF of an executed notebook, into ``folder``."""
    files: dict[str, Any] = {"notebook": layout.notebook_name(name), "html": layout.html_name(name)}
    links = {}
    for table, data in export.page_tables(nb).items():
        csv = layout.csv_name(name, table)
        (folder / csv).write_text(str(data.get("csv", "")), encoding="utf-8")
        links[table] = csv
    files["tables"] = links
    log = export.kernel_log(nb)
    (folder / layout.RUN_LOG).write_text("\n".join(log) + ("\n" if log else ""), encoding="utf-8")
    files["log"] = layout.RUN_LOG
    manifest["warnings"] = [line for line in log if _is_warning(line)]
    page_path = folder / layout.html_name(name)
    title = f"{humanize(name).capitalize()} - opskit report"
    header = _header(name, manifest, values, started, links, pdf_file=layout.pdf_name(name))
    page = link_tables(export.to_html(export.reader_view(nb), title=title, header=header), links)
    page_path.write_text(page, encoding="utf-8")
    manifest["external_references"] = export.external_references(page)
    t0 = time.perf_counter()
    if manifest["status"] != "succeeded":
        manifest["files"] = files
        return
    try:
        pdf.print_pdf(page_path, folder / layout.pdf_name(name))
        files["pdf"] = layout.pdf_name(name)
        manifest["pdf_s"] = round(time.perf_counter() - t0, 3)
    except ReportError as exc:  # the report stands without its PDF; run.json says why
        logger.warning("report %s: no PDF: %s", name, exc)
        manifest["pdf_error"] = str(exc)
        page_path.write_text(
            page.replace(_PDF_LINK.format(pdf=layout.pdf_name(name)), ""), encoding="utf-8"
        )
    manifest["files"] = files


_PDF_LINK = " · <a href='{pdf}'>PDF</a>"


def _is_warning(line: str) -> bool:
    return any(word in line for word in ("WARNING", "ERROR", "CRITICAL", "Warning:", "Error:"))


def _param_text(key: str, value: Any) -> str:
    t = term(key, "parameters")
    shown = (
        "not set"
        if value is None
        else fmt(value, t.unit)
        if t.unit != "text"
        else humanize(str(value))
    )
    return f"{t.label.lower()} {shown}"


def _header(
    name: str,
    manifest: dict[str, Any],
    values: dict[str, Any],
    started: datetime,
    links: dict[str, str],
    *,
    pdf_file: str,
) -> str:
    """The run's facts above the page: report, when, status, parameters, files."""
    status = manifest["status"]
    colour = "#1a7f37" if status == "succeeded" else "#cf222e"
    tables = ", ".join(
        f"<a href='{html.escape(f)}'>{html.escape(humanize(t))}</a>" for t, f in links.items()
    )
    given = "; ".join(_param_text(k, v) for k, v in values.items()) or "defaults"
    parts = [
        f"<b>opskit report: {html.escape(humanize(name))}</b> · ran {html.escape(fmt_timestamp(started))}"
        f" · <span style='color:{colour};font-weight:600'>{html.escape(status)}</span>"
        + (_PDF_LINK.format(pdf=html.escape(pdf_file)) if status == "succeeded" else "")
        + f" · <a href='{html.escape(layout.notebook_name(name))}'>notebook</a>",
        f"Parameters: {html.escape(given)}",
    ]
    if tables:
        parts.append(f"Tables (CSV, every row): {tables}")
    if status != "succeeded":
        data = (
            "; ".join(p["label"] for p in manifest.get("provenance", []))
            or "no provenance recorded"
        )
        parts.append(f"Data: {html.escape(data)}")
        err = manifest.get("error") or {}
        if err:
            parts.append(
                f"Failed: {html.escape(str(err.get('ename')))}: {html.escape(str(err.get('evalue')))}"
            )
    return "<br>".join(parts)


def _cell_timings(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    out = []
    for i, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("papermill", {})
        if cell.cell_type != "code":
            continue
        out.append({"index": i, "status": meta.get("status"), "duration_s": meta.get("duration"),
                    "tags": cell.get("metadata", {}).get("tags", [])})  # fmt: skip
    return out


_ADDED_BY_PAPERMILL = {"injected-parameters", "papermill-error-cell-tag"}


def _failing_cell(nb: nbformat.NotebookNode) -> int | None:
    """Index of the failing cell in the *source* notebook (papermill's own cells skipped)."""
    index = 0
    for cell in nb.cells:
        if _ADDED_BY_PAPERMILL & set(cell.get("metadata", {}).get("tags", [])):
            continue
        if cell.cell_type == "code" and any(
            o.get("output_type") == "error" for o in cell.get("outputs", [])
        ):
            return index
        index += 1
    return None


def _summary(manifest: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "run_id", "logical_date", "status", "started_at", "duration_s", "parameters")
    return {k: manifest.get(k) for k in keys}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    layout.write_atomic(path, json.dumps(data, indent=2, default=str))


def _finish(
    tmp: Path, final: Path, manifest: dict[str, Any], t0: float, record: journal.StartedRun
) -> Path:
    manifest["ended_at"] = datetime.now(UTC).isoformat()
    manifest["duration_s"] = round(time.perf_counter() - t0, 3)
    previous = final / layout.RUN_JSON
    keep_previous = (
        manifest.get("status") != "succeeded"
        and previous.is_file()
        and json.loads(previous.read_text()).get("status") == "succeeded"
    )
    target = (
        final.with_name(f"{final.name}-failed-{datetime.now(UTC):%H%M%S}")
        if keep_previous
        else final
    )
    manifest["run_id"] = target.name
    _write_json(tmp / layout.RUN_JSON, manifest)
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)
    record.finished()
    return target
