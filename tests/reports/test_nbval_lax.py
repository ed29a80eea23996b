"""``pytest --nbval-lax`` over the fixture report notebooks.

nbval executes every cell as a test item (lax: outputs are not compared unless
a cell is marked ``# NBVAL_CHECK_OUTPUT``). The good notebook passes, the
planted failure is caught at its cell. ``notebooks/analyses/`` gets the same
treatment from the notebook test suite; papermill runs (test_report_runs.py,
test_scheduler_cli.py) cover parameter injection, which nbval does not do.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def test_nbval_lax_runs_the_report_notebooks_and_catches_the_planted_failure(
    report_home: Path,
) -> None:
    pytest.importorskip("nbval")
    folder = report_home / "notebooks" / "analyses"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q",
         "--rootdir", str(report_home), "--nbval-cell-timeout", "120",
         str(folder / "weekly.ipynb"), str(folder / "broken.ipynb")],
        cwd=report_home, env=env, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "1 failed, 7 passed" in out
    assert "broken.ipynb::Cell 2" in out and "planted failure" in out
