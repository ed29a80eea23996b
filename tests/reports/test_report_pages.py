"""Every report, run as a scheduled run is, read the way a person reads it.

One ``opskit report run --all`` on the test warehouse (default parameters), then each
page opened in headless Debian Chromium: the visible text, the text inside the charts,
the tables, the alt text, the CSV files the page links, the PDF beside it. The run
itself must be quiet: no warning lines from the project or its kernel plumbing.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from opskit.present.lint import PLACEHOLDER_ALT, text_problems
from opskit.reports import report_names

ROOT = Path(__file__).resolve().parents[2]
REPORTS = report_names(ROOT)
ARTIFACTS = Path(os.environ.get("OPSKIT_ARTIFACTS", Path(__file__).parent / "artifacts"))
QUIET = (
    "WARNING",
    "Kernel is running over TCP",
    "Alternative text is missing",
    "Traceback",
    "ERROR",
)


@pytest.fixture(scope="module")
def site(
    browser: Any,
    demo_env: dict[str, str],
    opskit_kernel: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """Every report run once into a fresh folder; its stdout/stderr and run folders."""
    home = tmp_path_factory.mktemp("report-home")
    (home / "notebooks").symlink_to(ROOT / "notebooks", target_is_directory=True)
    out = tmp_path_factory.mktemp("reports")
    env = {**os.environ, **demo_env, "OPSKIT_HOME": str(home)}
    opskit = Path(sys.executable).parent / "opskit"
    proc = subprocess.run(
        [str(opskit), "report", "run", "--all", "--jobs", "2", "--output", str(out)],
        env=env, capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    folders = {name: (out / name / "latest").resolve() for name in REPORTS}
    return {"proc": proc, "root": out, "folders": folders}


def test_a_run_of_every_report_is_quiet(site: dict[str, Any]) -> None:
    proc = site["proc"]
    noisy = [
        line for line in (proc.stdout + proc.stderr).splitlines() if any(w in line for w in QUIET)
    ]
    assert not noisy, noisy
    assert all(f"{n}: succeeded" in proc.stdout for n in REPORTS)


def _svg_texts(src: str) -> list[str]:
    svg = base64.b64decode(src.split(",", 1)[1]).decode("utf-8")
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<text\b[^>]*>(.*?)</text>", svg, re.S)]


@pytest.mark.parametrize("name", REPORTS)
def test_the_page_reads_as_words_and_numbers_for_people(
    name: str, site: dict[str, Any], browser: Any
) -> None:
    folder: Path = site["folders"][name]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto((folder / f"{name}.html").as_uri(), wait_until="load")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"report_{name}.png"), full_page=True)
        text = page.evaluate(
            "() => { const b = document.body.cloneNode(true);"
            " b.querySelectorAll('.opskit-notes').forEach(n => n.remove()); return b.innerText; }"
        )
        images = page.eval_on_selector_all(
            "img", "els => els.map(e => ({alt: e.alt, src: e.src, w: e.naturalWidth}))"
        )
        rows = page.eval_on_selector_all(
            "table", "ts => ts.map(t => t.querySelectorAll('tbody tr').length)"
        )
        links = page.eval_on_selector_all(
            ".opskit-table-foot a[href$='.csv']", "as => as.map(a => a.getAttribute('href'))"
        )
        feet = page.eval_on_selector_all(
            ".opskit-table-foot", "fs => fs.map(f => [f.dataset.table, f.innerText])"
        )
        title = page.inner_text("h1")
    finally:
        page.close()
    assert text_problems(text) == []
    assert images, "a report without a chart"
    for img in images:
        assert img["w"] > 0, "an image that did not load"
        assert len(img["alt"]) > 40 and PLACEHOLDER_ALT not in img["alt"], img["alt"]
        if img["src"].startswith("data:image/svg+xml"):
            assert text_problems(" | ".join(_svg_texts(img["src"]))) == []
    assert rows and max(rows) <= 20, rows
    # every table shown links its CSV, which holds every row the footer counts
    assert len(links) == len(feet) and links
    for (table, foot), link in zip(feet, links, strict=True):
        counted = re.search(r"(?:of )?([\d,]+) rows?", foot)
        assert counted is not None, foot
        csv = pd.read_csv(folder / link)
        assert len(csv) == int(counted.group(1).replace(",", "")), (table, foot)
    assert title and "_" not in title


@pytest.mark.parametrize("name", REPORTS)
def test_each_run_has_a_pdf_with_the_page_text_and_its_print_time(
    name: str, site: dict[str, Any], system_command: Any
) -> None:
    pdftotext = system_command("pdftotext", "poppler-utils")
    folder: Path = site["folders"][name]
    manifest = json.loads((folder / "run.json").read_text())
    assert manifest["files"]["pdf"] == f"{name}.pdf"
    assert manifest["pdf_s"] > 0  # recorded; benchmarks/ measures it against a target
    text = subprocess.run(
        [pdftotext, str(folder / f"{name}.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "opskit report" in text and "DEMO DATA" in text
    assert text_problems(text.replace("\n", " ")) == []
    # library warnings go to the run's log and run.json, never into the page
    log = (folder / "run.log").read_text()
    for line in manifest["warnings"]:
        assert line in log and line not in text


def test_the_index_links_every_page_pdf_and_table(site: dict[str, Any]) -> None:
    index = (site["root"] / "index.html").read_text()
    for name, folder in site["folders"].items():
        rel = folder.relative_to(site["root"]).as_posix()
        assert f"{rel}/{name}.html" in index and f"{rel}/{name}.pdf" in index
        for csv in json.loads((folder / "run.json").read_text())["files"]["tables"].values():
            assert f"{rel}/{csv}" in index
