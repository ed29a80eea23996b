"""Child process of the scheduler: run one report and print its outcome as JSON.

``python -m opskit.reports._job '<json spec>'`` runs
:func:`opskit.reports.runner.run_report` and prints one JSON line (``status``,
``folder``, ``error``, ``retryable``). Exit codes follow ``opskit report run``:
0 succeeded, 1 a cell failed, 2 bad parameters or unknown report, 3 kernel
failure or timeout.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Any

from opskit.errors import ConfigError, ReportError, ReportExecutionError
from opskit.reports.runner import run_report


def _folder(output_path: str | None) -> str | None:
    if not output_path:
        return None
    path = Path(output_path)
    return str(path.parent if path.suffix == ".ipynb" else path)


def main(argv: list[str]) -> int:
    """Run the report described by ``argv[0]`` (JSON) and print the outcome."""
    spec: dict[str, Any] = json.loads(argv[0])
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    out: dict[str, Any]
    try:
        run = run_report(
            spec["name"],
            spec.get("parameters") or {},
            run_id=spec["run_id"],
            logical_date=date.fromisoformat(spec["logical_date"]),
            timeout_s=spec.get("cell_timeout_s"),
            home=Path(spec["home"]),
        )
        out, code = {"status": "succeeded", "folder": str(run.folder)}, 0
    except ConfigError as exc:
        out, code = {"status": "failed", "error": str(exc), "retryable": False}, 2
    except ReportExecutionError as exc:
        code = 1 if exc.cell_index is not None else 3
        out = {"status": "failed", "error": str(exc), "folder": _folder(exc.output_path)}
    except ReportError as exc:
        out, code = {"status": "failed", "error": str(exc)}, 3
    print(json.dumps(out), flush=True)
    return code


if __name__ == "__main__":  # pragma: no cover - exercised through the scheduler
    raise SystemExit(main(sys.argv[1:]))
