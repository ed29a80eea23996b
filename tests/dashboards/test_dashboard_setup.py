"""Dashboard plumbing without a browser: notebooks, Voila config, filters, precomputed data."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from opskit.catalog import load
from opskit.dashboards.builders import kpi_card
from opskit.dashboards.data import DashboardData, stored_frame
from opskit.dashboards.filters import Filters
from opskit.dashboards.serving.files import DASHBOARDS, dashboard_dir
from opskit.dashboards.serving.process import voila_command

FOLDER = Path(__file__).resolve().parents[2] / "notebooks" / "dashboards"


@pytest.mark.parametrize("name", DASHBOARDS)
def test_dashboard_notebooks_are_thin_output_free_and_use_the_opskit_kernel(name: str) -> None:
    nb = nbformat.read(FOLDER / f"{name}.ipynb", as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "opskit"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert not any(kw in c.source for c in code for kw in ("def ", "class ", "for ", "http"))
    assert any("parameters" in c.metadata.get("tags", []) for c in code)


def test_voila_config_preheats_every_dashboard_and_hides_sources_and_tracebacks() -> None:
    config = json.loads((FOLDER / "voila.json").read_text())
    voila = config["VoilaConfiguration"]
    assert voila["preheat_kernel"] is True
    assert voila["strip_sources"] is True
    assert voila["show_tracebacks"] is False
    pools = config["VoilaKernelManager"]["kernel_pools_config"]
    assert {f"{n}.ipynb" for n in DASHBOARDS} <= set(pools)
    template = FOLDER / "share" / "voila" / "templates" / voila["template"] / "index.html.j2"
    assert "cdn.jsdelivr" not in template.read_text()
    assert "--Voila.ip=127.0.0.1" in voila_command(8866)


def test_filters_pass_each_dataset_only_the_fields_it_takes() -> None:
    f = Filters(days=7, region="brazil", device="tv", plan="annual")
    as_of = pd.Timestamp("2026-11-01", tz="UTC")
    assert f.for_dataset("kpi_summary", as_of) == {
        "start": "2026-10-25T00:00:00+00:00", "plan": "annual", "region": "brazil", "device": "tv",
    }  # fmt: skip
    assert f.for_dataset("production_issues", as_of) == {"start": "2026-10-25T00:00:00+00:00"}
    assert "region brazil" in f.label()


def test_dashboard_view_numbers_are_opskit_catalog_numbers(demo_env: dict[str, str]) -> None:
    data = DashboardData()
    region = data.options["region"][-1]
    view = data.view(Filters(region=region))
    start = (data.as_of - pd.Timedelta(days=30)).isoformat()
    expected = load("kpi_summary", region=region, start=start)
    pd.testing.assert_frame_equal(view["kpis"], expected)
    assert dashboard_dir().name == "dashboards"


def test_precomputed_health_tables_are_stored_per_warehouse_build(demo_env: dict[str, str]) -> None:
    alerts = stored_frame("health_alerts")
    anomalies = stored_frame("health_anomalies")
    assert alerts is not None and anomalies is not None
    assert {"entity", "metric", "is_alert", "lower", "upper"} <= set(anomalies.columns)
    assert anomalies.attrs["provenance"]["kind"] == "demo"


def test_kpi_card_carries_the_page_contract() -> None:
    html = kpi_card("churn_rate", "Monthly churn rate", 0.0421, "fraction", change=-0.002,
                    higher_is_better=False)  # fmt: skip
    assert 'class="opskit-kpi"' in html and 'data-kpi="churn_rate"' in html
    assert 'data-value="0.0421"' in html and "4.2 %" in html and "-0.2 pp" in html
    assert 'class="chg good"' in html  # churn went down


# Each dashboards module may import only the ones below it (serving sits beside the rest).
LAYERS = {
    "filters": set(),
    "store": {"filters"},
    "charts": set(),
    "data": {"filters", "store"},
    "builders": {"filters", "store", "data", "charts"},
    "views": {"filters", "store", "data", "builders"},
    "widgets": {"filters", "store", "data", "charts", "views", "serving.files"},
    "serving": set(),
    "serving.files": set(),
    "serving.warm": {"filters", "store", "data", "views", "serving.files"},
    "serving.process": {"serving.files"},
    "serving.app": {"serving.files"},
}


def _dashboard_imports(path: Path) -> set[str]:
    """The ``opskit.dashboards`` modules ``path`` imports (at any depth), without the prefix."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "opskit.dashboards":
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "opskit.dashboards."
        ):
            found.add(node.module.removeprefix("opskit.dashboards."))
    return found


def test_dashboard_modules_import_one_way_and_only_the_cli_imports_them() -> None:
    package = Path(__file__).resolve().parents[2] / "opskit"
    seen = set()
    for path in package.rglob("*.py"):
        name = ".".join(path.relative_to(package).with_suffix("").parts).removesuffix(".__init__")
        imported = _dashboard_imports(path)
        if not name.startswith("dashboards"):
            assert not imported or name == "cli", f"opskit.{name} imports {imported}"
        elif name != "dashboards":
            own = name.removeprefix("dashboards.")
            assert imported <= LAYERS[own], f"{own} imports {imported - LAYERS[own]}"
            seen.add(own)
    assert seen == set(LAYERS)
