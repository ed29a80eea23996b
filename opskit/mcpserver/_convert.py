"""JSON for MCP responses: frames as compact tables, results as compact payloads.

Everything here is pure (no I/O except :func:`report_info`, which reads a small
JSON file): a frame or :class:`~opskit.analytics._result.Result` goes in, plain
JSON-ready ``dict`` s come out. Floats are passed through unchanged (never
rounded), so a client sees exactly the numbers opskit computed; NaN and
infinities become ``null``; timestamps become ISO 8601 strings.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from opskit import provenance as prov
from opskit.analytics._result import Finding, Result

__all__ = [
    "docstring_params",
    "docstring_summary",
    "dumps",
    "finding_dict",
    "frame_table",
    "jsonable",
    "plain_text",
    "provenance_header",
    "report_info",
    "result_payload",
]

#: Rows of a result's main table included in a tool response.
TOP_ROWS = 20
#: Findings included in a tool response (ranked, largest impact first).
TOP_FINDINGS = 10


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types: NaN/NA -> ``None``, timestamps -> ISO text.

    Containers are converted recursively; anything unknown becomes its ``str``.
    """
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, pd.Timestamp):
        return None if value is pd.NaT else value.isoformat()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, pd.Timedelta | timedelta):
        return None if value is pd.NaT else str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray | pd.Index | pd.Series):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def dumps(payload: Any) -> str:
    """Compact JSON text (no spaces, no NaN); ``payload`` must already be :func:`jsonable`."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _column(series: pd.Series) -> list[Any]:
    if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(series):
        return [None if ts is pd.NaT else ts.isoformat() for ts in series]
    if pd.api.types.is_float_dtype(series) and not isinstance(series.dtype, pd.ArrowDtype):
        return [v if math.isfinite(v) else None for v in series.to_numpy(dtype=float).tolist()]
    return [jsonable(v) for v in series.astype(object).tolist()]


def frame_table(
    frame: pd.DataFrame,
    *,
    limit: int,
    offset: int = 0,
    drop_uniform_provenance: bool = True,
) -> dict[str, Any]:
    """A slice of ``frame`` as ``{"columns", "rows", "row_count", "returned", "truncated"}``.

    ``rows`` is row-major (one list per row, in ``columns`` order). The
    per-row ``provenance`` column is left out when every row has the same
    kind (the response header already says it).
    """
    part = frame.iloc[offset : offset + limit]
    if (
        drop_uniform_provenance
        and prov.COLUMN in part.columns
        and frame[prov.COLUMN].astype(str).nunique(dropna=False) <= 1
    ):
        part = part.drop(columns=[prov.COLUMN])
    columns = [str(c) for c in part.columns]
    values = [_column(part[c]) for c in part.columns]
    rows = (
        [list(r) for r in zip(*values, strict=True)] if values else [[] for _ in range(len(part))]
    )
    total = len(frame)
    return {
        "columns": columns,
        "rows": rows,
        "row_count": total,
        "offset": offset,
        "returned": len(rows),
        "truncated": offset + len(rows) < total,
    }


def provenance_header(p: prov.Provenance) -> dict[str, Any]:
    """The first keys of every response: ``data`` (live/cache/demo), its label, details."""
    d = p.to_dict()
    return {"data": p.kind, "data_label": d.pop("label"), "provenance": jsonable(d)}


def finding_dict(f: Finding) -> dict[str, Any]:
    """A finding without its (repeated) provenance record: the kind stays as ``data``."""
    d = f.to_dict()
    d.pop("provenance", None)
    d["data"] = f.provenance.kind
    return jsonable({k: v for k, v in d.items() if v is not None})  # type: ignore[no-any-return]


def result_payload(
    tool: str,
    result: Result,
    *,
    parameters: Mapping[str, Any],
    report: dict[str, Any] | None = None,
    top_rows: int = TOP_ROWS,
    top_findings: int = TOP_FINDINGS,
) -> dict[str, Any]:
    """The compact response of an analysis tool.

    Keys: ``data``/``data_label``/``provenance`` (where the numbers came from),
    ``tool``, ``parameters`` (as applied, defaults included), ``summary`` (the
    key numbers), ``findings`` (top ``top_findings``; ``findings_total`` says how
    many there were), ``table`` (top ``top_rows`` rows of the main table),
    ``tables`` (row counts of the further tables) and ``report`` (the latest
    full report run, or ``None``).
    """
    return {
        **provenance_header(result.provenance),
        "tool": tool,
        "parameters": jsonable(dict(parameters)),
        "summary": jsonable(result.summary),
        "findings": [finding_dict(f) for f in result.findings[:top_findings]],
        "findings_total": len(result.findings),
        "table": frame_table(result.frame, limit=top_rows),
        "tables": {name: len(t) for name, t in result.tables.items()},
        "report": report,
    }


def report_info(home: Path, report: str) -> dict[str, Any] | None:
    """The latest successful full report run of ``report``, or ``None``.

    Read from ``<home>/reports/<report>/latest.json`` (written by the report
    runner only after a successful run).
    """
    root = home / "reports"
    latest = root / report / "latest.json"
    try:
        info = json.loads(latest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict):
        return None
    out: dict[str, Any] = {"latest": str(latest)}
    run = info.get("run")
    if isinstance(run, str):
        folder = root / run
        html = folder / f"{report}.html"
        out["folder"] = str(folder)
        if html.is_file():
            out["html"] = str(html)
    for key in ("status", "started_at", "parameters"):
        if key in info:
            out[key] = jsonable(info[key])
    return out


# -- NumPy docstrings ---------------------------------------------------------------------------
_SECTION = re.compile(r"^\s*-{3,}\s*$")


def plain_text(text: str) -> str:
    """reST markup an assistant does not need: ``x`` and :func:`x` become `x`."""
    return re.sub(r":\w+:`~?([^`]+)`", r"`\1`", text.replace("``", "`"))


def docstring_summary(doc: str | None) -> str:
    """The first paragraph of a docstring, on one line."""
    text = (doc or "").strip().split("\n\n", 1)[0]
    return plain_text(" ".join(line.strip() for line in text.splitlines()))


def docstring_params(doc: str | None) -> dict[str, str]:
    """Parameter descriptions from the ``Parameters`` section of a NumPy docstring.

    ``region, plan`` style entries give both names the same description.
    """
    lines = (doc or "").expandtabs().splitlines()
    out: dict[str, str] = {}
    i = 0
    while i < len(lines) - 1:
        if lines[i].strip() == "Parameters" and _SECTION.match(lines[i + 1]):
            break
        i += 1
    else:
        return out
    i += 2
    names: list[str] = []
    desc: list[str] = []
    base = None

    def flush() -> None:
        for n in names:
            out[n] = plain_text(" ".join(desc).strip())

    while i < len(lines):
        line = lines[i]
        if i + 1 < len(lines) and line.strip() and _SECTION.match(lines[i + 1]):
            break  # next section
        indent = len(line) - len(line.lstrip())
        if line.strip() and (base is None or indent <= base):
            flush()
            base = indent
            names = [n.strip().split(":")[0].strip() for n in line.split(",")]
            desc = []
        elif line.strip():
            desc.append(line.strip())
        i += 1
    flush()
    return out
