"""One KPI, one value: the dashboard, the executive summary report, the MCP answer and the catalog.

For the default filters and three combinations, every KPI the dashboard shows has the
same value (full precision where the surface carries it, and the same text where it
is displayed) on the Voila page read from the browser, in the executive summary
report's HTML, in the MCP ``executive_summary`` tool's answer, and in
``ok.load("kpi_summary")``.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from opskit.catalog import load
from opskit.dashboards.builders import OVERVIEW_KPIS as DASHBOARD_KPIS
from opskit.dashboards.data import DashboardData
from opskit.present import fmt

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "mcp"))
from mcp_support import run_session  # noqa: E402

pytestmark = pytest.mark.slow

#: (days, region, plan): the default and three combinations.
COMBOS: list[tuple[int, str | None, str | None]] = [
    (30, None, None),
    (30, "brazil", None),
    (7, None, "ad_supported"),
    (90, "india", "annual"),
]
_TILE = re.compile(
    r'<div class="opskit-kpi" data-kpi="([^"]+)" data-value="([^"]*)"[^>]*>'
    r'<div class="lbl">[^<]*</div><div class="val">([^<]*)</div>'
)


def _dashboard(
    page: Any, url: str, days: int, region: str | None, plan: str | None
) -> dict[str, tuple[float, str]]:
    page.goto(url, wait_until="commit")
    page.locator(".opskit-kpi:visible").first.wait_for(timeout=60_000)
    page.locator(".opskit-snapshot").first.wait_for(state="hidden", timeout=60_000)
    changes = 0
    for css, label in ((".opskit-filter-dates select", f"Last {days} days" if days != 30 else None),
                       (".opskit-filter-region select", region), (".opskit-filter-plan select", plan)):  # fmt: skip
        if label is None:
            continue
        page.locator(css).select_option(label=label)
        changes += 1
        page.locator(f'.opskit-status[data-version="{changes}"]').wait_for(
            state="attached", timeout=60_000
        )
    out = {}
    for kpi in DASHBOARD_KPIS:
        card = page.locator(f'.opskit-kpi[data-kpi="{kpi}"]:visible')
        out[kpi] = (
            float(card.get_attribute("data-value")),
            card.locator(".val").inner_text().strip(),
        )
    return out


@pytest.fixture(scope="module")
def reports(
    demo_env: dict[str, str], opskit_kernel: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple, Path]:
    """The executive summary report for every combination, as ``opskit report run``, two at a time."""
    home = tmp_path_factory.mktemp("kpi_home")
    (home / "notebooks").symlink_to(ROOT / "notebooks", target_is_directory=True)
    env = {**os.environ, **demo_env, "OPSKIT_HOME": str(home)}
    opskit = str(Path(sys.executable).parent / "opskit")
    out: dict[tuple, Path] = {}
    for pair in (COMBOS[:2], COMBOS[2:]):
        procs = []
        for i, (days, region, plan) in enumerate(pair):
            folder = tmp_path_factory.mktemp(f"kpi_report_{i}")
            args = [opskit, "report", "run", "executive_summary", "-p", f"days={days}",
                    "-p", f"region={region or 'None'}", "-p", f"plan={plan or 'None'}",
                    "--output", str(folder)]  # fmt: skip
            procs.append(((days, region, plan), folder, subprocess.Popen(args, env=env)))
        for combo, folder, proc in procs:
            assert proc.wait(timeout=600) == 0, combo
            out[combo] = folder / "executive_summary" / "latest" / "executive_summary.html"
    return out


@pytest.fixture(scope="module")
def answers(demo_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[tuple, Any]:
    """The MCP server's answers to executive_summary for every combination, in one session."""
    home = tmp_path_factory.mktemp("kpi_mcp_home")
    calls = [("executive_summary", _args(*c)) for c in COMBOS]
    transcript = run_session({**demo_env, "OPSKIT_HOME": str(home)}, calls=calls)
    return {c: transcript.call("executive_summary", _args(*c)) for c in COMBOS}


def _args(days: int, region: str | None, plan: str | None) -> dict[str, Any]:
    return {k: v for k, v in (("days", days), ("region", region), ("plan", plan)) if v is not None}


@pytest.mark.parametrize("combo", COMBOS, ids=lambda c: "-".join(str(x) for x in c if x))
def test_each_kpi_has_one_value_on_every_surface(
    answers: dict[tuple, Any],  # first: the MCP client's event loop runs before the browser's
    reports: dict[tuple, Path],
    combo: tuple[int, str | None, str | None],
    page: Any,
    voila: dict[str, str],
) -> None:
    days, region, plan = combo
    as_of = DashboardData().as_of
    start = (as_of - pd.Timedelta(days=days)).isoformat()
    filters = {k: v for k, v in (("region", region), ("plan", plan)) if v is not None}
    catalog = load("kpi_summary", start=start, **filters).set_index("kpi")

    shown = _dashboard(page, voila["ops_overview"], days, region, plan)
    report = {
        k: (float(v), html.unescape(t)) for k, v, t in _TILE.findall(reports[combo].read_text())
    }
    answer = answers[combo]
    structured = answer.structured_content["kpis"]
    mcp_values = {r[structured["columns"].index("kpi")]: r[structured["columns"].index("value")]
                  for r in structured["rows"]}  # fmt: skip
    mcp_text = answer.content[0].text

    for kpi in DASHBOARD_KPIS:
        value, unit, label = (
            float(catalog.at[kpi, "value"]),
            str(catalog.at[kpi, "unit"]),
            catalog.at[kpi, "label"],
        )
        text = fmt(value, unit)
        assert shown[kpi][0] == pytest.approx(value, rel=1e-9), ("dashboard", kpi)
        assert report[kpi][0] == pytest.approx(value, rel=1e-9), ("report", kpi)
        assert mcp_values[kpi] == pytest.approx(value, rel=1e-9), ("mcp", kpi)
        assert shown[kpi][1] == report[kpi][1] == text, (kpi, shown[kpi][1], report[kpi][1], text)
        assert f"- {label}: {text}" in mcp_text, (kpi, text)
