"""Run a report notebook with papermill into ``reports/<name>/<date>/<run-id>/``.

Each run folder holds the executed notebook, a code-free HTML page and
``run.json`` (parameters, status, timings, per-cell durations, provenance and,
on failure, the failing cell and error). Runs are written to a temporary
folder and moved into place at the end, so readers never see half a run; a
failed run never replaces a successful one in the same slot, and
``reports/<name>/latest.json`` (and the ``latest`` symlink) only ever point at a
successful run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import nbformat
import papermill as pm
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

from opskit.config import load_settings
from opskit.errors import ConfigError, ReportError, ReportExecutionError
from opskit.reports import export, layout, params
from opskit.viz import RENDERER_ENV

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
        return self.folder / f"{self.name}.html"

    @property
    def notebook(self) -> Path:
        return self.folder / f"{self.name}.ipynb"


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
    layout.clean_stale_tmp(root / name)  # left by a run that was killed mid-way
    tmp = layout.tmp_folder(final)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    out_nb = tmp / f"{name}.ipynb"
    manifest: dict[str, Any] = {
        "name": name, "run_id": run_id, "logical_date": day, "parameters": values,
        "notebook": str(source.relative_to(home)) if source.is_relative_to(home) else str(source),
        "kernel": kernel, "started_at": started.isoformat(),
    }  # fmt: skip
    t0 = time.perf_counter()
    error: pm.PapermillExecutionError | None = None
    try:
        with _chart_renderer("svg"):
            pm.execute_notebook(
                str(source), str(out_nb), parameters=values, kernel_name=kernel, cwd=str(source.parent),
                progress_bar=False, log_output=False, execution_timeout=timeout_s,
            )  # fmt: skip
    except pm.PapermillExecutionError as exc:
        error = exc
    except Exception as exc:  # kernel died, timeout, missing file: still keep the evidence
        manifest.update(status="failed", error={"ename": type(exc).__name__, "evalue": str(exc)})
        _finish(tmp, final, manifest, t0, name)
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
    header = {
        "status": manifest["status"], "ran": started.strftime("%Y-%m-%d %H:%M UTC"),
        "parameters": ", ".join(f"{k}={v}" for k, v in values.items()) or "defaults",
        "data": "; ".join(p["label"] for p in manifest["provenance"]) or "no provenance recorded",
    }  # fmt: skip
    page = export.to_html(nb, title=name, header=header)
    (tmp / f"{name}.html").write_text(page, encoding="utf-8")
    manifest["external_references"] = export.external_references(page)
    folder = _finish(tmp, final, manifest, t0, name)
    run = ReportRun(name, folder.name, folder, manifest["status"], manifest)
    if error is not None:
        raise ReportExecutionError(
            f"report {name}: cell {manifest['error']['cell_index']} raised {error.ename}: {error.evalue}",
            cell_index=manifest["error"]["cell_index"],
            output_path=str(folder / f"{name}.ipynb"),
        ) from None
    _write_json(
        root / name / "latest.json", {"run": str(folder.relative_to(root)), **_summary(manifest)}
    )
    layout.point_latest(root / name, folder)
    logger.info(
        "report %s: %s in %.1f s -> %s", name, manifest["status"], manifest["duration_s"], folder
    )
    return run


@contextlib.contextmanager
def _chart_renderer(mode: str) -> Iterator[None]:
    """Make the kernel (a child process) render charts as static SVG for the report."""
    old = os.environ.get(RENDERER_ENV)
    os.environ[RENDERER_ENV] = mode
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(RENDERER_ENV, None)
        else:
            os.environ[RENDERER_ENV] = old


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
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


def _finish(tmp: Path, final: Path, manifest: dict[str, Any], t0: float, name: str) -> Path:
    manifest["ended_at"] = datetime.now(UTC).isoformat()
    manifest["duration_s"] = round(time.perf_counter() - t0, 3)
    previous = final / "run.json"
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
    _write_json(tmp / "run.json", manifest)
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)
    return target
