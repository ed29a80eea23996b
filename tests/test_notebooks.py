"""Report notebooks: thin, clean, typed parameters, and they run under opskit report run."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import nbformat
import pytest

from opskit.analyses import ANALYSES
from opskit.reports import run_report
from opskit.reports.params import inspect

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks" / "analyses").glob("*.ipynb"))
NON_DEFAULT = {
    "executive_summary": {"days": "14", "region": "brazil"},
    "service_health": {"days": "2", "include_qoe": "false"},
    "churn_root_cause": {"window_days": "60", "include_recommendations": "true"},
    "complaint_themes": {"days_back": "45", "fixable_only": "false"},
    "production_risk": {"severity": "high", "by": "team"},
    "revenue_forecast": {"months": "6", "scenario": "aggressive", "budget": "300000"},
    "retention_campaign": {"budget": "2000", "timeline_days": "30"},
}


def test_there_is_one_notebook_per_analysis() -> None:
    assert sorted(p.stem for p in NOTEBOOKS) == sorted(ANALYSES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean_and_thin(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "opskit"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), (
        "strip outputs before committing"
    )
    assert sum("parameters" in c.metadata.get("tags", []) for c in code) == 1
    for cell in code:
        assert not re.search(r"^\s*(def|class|for|while|with)\b", cell.source, re.M), cell.source
        assert "httpx" not in cell.source and "requests" not in cell.source
    params = inspect(path)
    assert params and all(p["type"] not in ("None", "") for p in params.values()), params


@pytest.fixture(scope="module")
def runs(
    demo_env: dict[str, str], opskit_kernel: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Every report with non-default parameters, two kernels at a time (as ``--jobs 2``)."""
    out = tmp_path_factory.mktemp("non_default")

    def one(name: str) -> Any:
        return run_report(
            name, NON_DEFAULT[name], output_root=out, home=ROOT, logical_date=date(2026, 11, 1)
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(sorted(NON_DEFAULT), pool.map(one, sorted(NON_DEFAULT)), strict=True))


@pytest.mark.parametrize("name", sorted(NON_DEFAULT))
def test_notebook_runs_under_opskit_report_run_with_non_default_parameters(
    name: str, runs: dict[str, Any]
) -> None:
    run = runs[name]
    manifest = json.loads((run.folder / "run.json").read_text())
    assert manifest["status"] == "succeeded"
    assert [p["kind"] for p in manifest["provenance"]] and {
        p["kind"] for p in manifest["provenance"]
    } == {"demo"}
    page = run.html.read_text()
    assert manifest["external_references"] == []
    assert "data:image/svg+xml" in page  # the chart, as an SVG that needs no JavaScript
    assert "analyses." not in page  # no code in the report
