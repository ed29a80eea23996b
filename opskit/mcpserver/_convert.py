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
from opskit.present.page import page_text
from opskit.present.units import fmt, fmt_timestamp, humanize

__all__ = [
    "docstring_params",
    "docstring_summary",
    "dumps",
    "finding_dict",
    "frame_table",
    "jsonable",
    "payload_text",
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
    ``tool``, ``answer`` (the result's page as text, through the presentation layer:
    what the tool's text content says), ``parameters`` (as applied, defaults
    included), ``summary`` (the key numbers, full precision), ``kpis`` (KPI rows, when
    the result has them), ``findings`` (top ``top_findings``; ``findings_total``
    says how many there were), ``table`` (top ``top_rows`` rows of the main table),
    ``tables`` (row counts of the further tables) and ``report`` (the latest full
    report run, or ``None``).
    """
    return {
        **provenance_header(result.provenance),
        "tool": tool,
        "answer": page_text(result, max_rows=top_rows),
        "parameters": jsonable(dict(parameters)),
        "summary": jsonable(result.summary),
        **(
            {"kpis": frame_table(result.kpis, limit=len(result.kpis))}
            if result.kpis is not None
            else {}
        ),
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
    from opskit.reports.layout import LATEST_JSON, html_name

    root = home / "reports"
    latest = root / report / LATEST_JSON
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
        html = folder / html_name(report)
        out["folder"] = str(folder)
        if html.is_file():
            out["html"] = str(html)
    for key in ("status", "started_at", "parameters"):
        if key in info:
            out[key] = jsonable(info[key])
    return out


def payload_text(payload: Mapping[str, Any]) -> str:
    """What a tool's text content says: its ``answer``, or its summary in words.

    Machine-readable numbers stay in the structured content; this is the text a person
    (or an assistant quoting the numbers) reads, every figure through the presentation
    layer.
    """
    if isinstance(payload.get("answer"), str):
        text = str(payload["answer"])
    else:
        lines = [f"# {humanize(str(payload.get('tool', 'result'))).capitalize()}"]
        for k, v in (payload.get("summary") or {}).items():
            lines.append(f"- {humanize(str(k)).capitalize()}: {_value_text(v)}")
        text = "\n".join(lines)
    if "data_label" in payload and "Data:" not in text:
        text += f"\nData: {payload['data_label']}"
    report = payload.get("report")
    if isinstance(report, Mapping) and report.get("html"):
        text += f"\nFull report: {report['html']}"
    return text


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return fmt(value, "count" if float(value).is_integer() else "number")
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}T", value):
        return fmt_timestamp(value)
    if isinstance(value, Mapping):
        return "; ".join(f"{humanize(str(k))} {_value_text(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list):
        return ", ".join(_value_text(v) for v in value) or "none"
    return (
        humanize(str(value))
        if isinstance(value, str) and "_" in value and " " not in value
        else str(value)
    )


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
