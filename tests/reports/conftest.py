"""Report fixtures: a project home with tiny report notebooks, and the opskit kernel."""

from __future__ import annotations

from pathlib import Path

import nbformat as nbf
import pytest

OK_CELLS = [
    (
        'days: int = 7  # lookback window\nlabel: str = "weekly"  # shown in the title\nrate: float = 0.5\nverbose: bool = False',
        ["parameters"],
    ),
    (
        "from datetime import UTC, datetime\nfrom IPython.display import HTML\nfrom opskit.present.page import provenance_banner\nfrom opskit.provenance import Provenance\nHTML(provenance_banner(Provenance('demo', ('warehouse',), datetime(2026, 11, 1, tzinfo=UTC), detail='seed 7')))",
        [],
    ),
    (
        "import altair as alt, pandas as pd\nalt.renderers.enable('svg')\nalt.Chart(pd.DataFrame({'day': list(range(days)), 'v': [rate * i for i in range(days)]})).mark_line().encode(x='day', y='v')",
        [],
    ),
    ("print(f'{label}: {days} days, verbose={verbose}')  # SECRET_SOURCE_MARKER", []),
]
BROKEN_CELLS = [
    ("fail: bool = True", ["parameters"]),
    ("x = 1", []),
    ("if fail:\n    raise RuntimeError('planted failure')", []),
    ("print('never')", []),
]


def _write(path: Path, cells: list[tuple[str, list[str]]]) -> None:
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "opskit",
        "display_name": "Python (opskit)",
        "language": "python",
    }
    nb.cells = [nbf.v4.new_code_cell(src, metadata={"tags": tags}) for src, tags in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbf.write(nb, path)


@pytest.fixture()
def report_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opskit_kernel: str) -> Path:
    monkeypatch.setenv("OPSKIT_HOME", str(tmp_path))
    _write(tmp_path / "notebooks" / "analyses" / "weekly.ipynb", OK_CELLS)
    _write(tmp_path / "notebooks" / "analyses" / "broken.ipynb", BROKEN_CELLS)
    return tmp_path
