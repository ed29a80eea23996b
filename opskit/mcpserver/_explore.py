"""``detect_anomalies`` and ``pareto``: the analytics over any column of any dataset."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import pandas as pd
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult
from pydantic import Field

from opskit import provenance as prov
from opskit.analytics import anomaly
from opskit.analytics.pareto import pareto as pareto_analysis
from opskit.mcpserver._convert import frame_table, jsonable, provenance_header, result_payload
from opskit.mcpserver._runtime import Runtime
from opskit.mcpserver._tooling import (
    DatasetName,
    Filters,
    as_tool_result,
    guarded,
    load_dataset,
    make_tool,
)
from opskit.present.tables import table_text
from opskit.present.units import fmt, fmt_timestamp

__all__ = ["MAX_KEY_VALUES", "MAX_SERIES", "Method", "detect_anomalies_tool", "pareto_tool"]

#: Series one ``detect_anomalies`` call may test.
MAX_SERIES = 200
#: A text column with at most this many values is a grouping key by default.
MAX_KEY_VALUES = 50


Method = Literal[
    "auto",
    "zscore",
    "mad",
    "iqr",
    "seasonal",
    "level_shift",
    "variance_change",
    "range",
    "ensemble",
]


def _is_text(s: pd.Series) -> bool:
    return bool(
        pd.api.types.is_string_dtype(s)
        or isinstance(s.dtype, pd.CategoricalDtype)
        or s.dtype == object
    )


def _is_time(s: pd.Series) -> bool:
    return bool(pd.api.types.is_datetime64_any_dtype(s))


def _is_number(s: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s))


def _pick(frame: pd.DataFrame, asked: str | None, kind: str, default: str | None) -> str:
    """A column of ``frame`` of ``kind`` (``time`` or ``numeric``), checked."""
    check = _is_time if kind == "time" else _is_number
    valid = [str(c) for c in frame.columns if check(frame[c])]
    name = asked or (
        default if default in valid else (valid[0] if kind == "time" and valid else None)
    )
    dataset = frame.attrs.get("dataset", "the dataset")
    if name is None or name not in valid:
        what = "a time column" if kind == "time" else "a numeric column"
        got = f"{name!r} is not {what}" if name else f"choose {what}"
        raise ValueError(f"{dataset}: {got}; valid: {', '.join(valid) or 'none'}")
    return name


def _select(frame: pd.DataFrame, series: Mapping[str, str | list[str]]) -> pd.DataFrame:
    for col, want in series.items():
        if col not in frame.columns:
            raise ValueError(f"no column {col!r}; columns: {', '.join(map(str, frame.columns))}")
        values = [want] if isinstance(want, str) else list(want)
        kept = frame[frame[col].astype(str).isin(values)]
        if kept.empty:
            have = sorted(frame[col].dropna().astype(str).unique())[:20]
            raise ValueError(f"no rows with {col} in {values}; values include: {', '.join(have)}")
        frame = kept
    return frame


def detect_anomalies_tool(runtime: Runtime) -> Tool:
    """The ``detect_anomalies`` tool: any numeric column of any dataset, over time."""

    def detect_anomalies(
        dataset: DatasetName,
        column: Annotated[
            str | None,
            Field(description="numeric column to test (default: 'value' where there is one)"),
        ] = None,
        time_column: Annotated[
            str | None, Field(description="time column (default: 'timestamp' or the first one)")
        ] = None,
        series: Annotated[
            dict[str, str | list[str]] | None,
            Field(
                description="keep only rows whose columns have these values, e.g. "
                '{"entity": "playback-api", "metric": "error_rate"}'
            ),
        ] = None,
        by: Annotated[
            list[str] | None,
            Field(
                description="columns whose values define one series each (default: the text "
                f"columns with at most {MAX_KEY_VALUES} values; [] for a single series)"
            ),
        ] = None,
        filters: Filters = None,
        method: Annotated[
            Method, Field(description="detector; auto = the calibrated ensemble")
        ] = "auto",
        limit: Annotated[int, Field(ge=1, le=1000, description="anomalies listed")] = 50,
    ) -> CallToolResult:
        """Find anomalies in a numeric column of a dataset, one series per group, over time."""
        arguments = {"dataset": dataset, "column": column, "time_column": time_column,
                     "series": series, "by": by, "filters": filters, "method": method,
                     "limit": limit}  # fmt: skip

        def compute() -> dict[str, Any]:
            frame = load_dataset(runtime, dataset, filters)
            p = prov.of(frame)
            value = _pick(frame, column, "numeric", "value")
            when = _pick(frame, time_column, "time", "timestamp")
            frame = _select(frame, series or {})
            skip = {value, when, prov.COLUMN, "fetched_at"}
            keys = (
                [
                    c
                    for c in frame.columns
                    if c not in skip and _is_text(frame[c]) and frame[c].nunique() <= MAX_KEY_VALUES
                ]
                if by is None
                else list(by)
            )
            missing = [k for k in keys if k not in frame.columns]
            if missing:
                raise ValueError(f"no column {missing[0]!r}; columns: {', '.join(frame.columns)}")
            n_series = int(frame.groupby(keys, observed=True).ngroups) if keys else 1
            if n_series > MAX_SERIES:
                raise ValueError(
                    f"{n_series} series (by {keys}) are more than {MAX_SERIES}; narrow them with "
                    "'series' or 'filters', or group by fewer columns with 'by'"
                )
            long = frame[[*keys, when, value]].rename(columns={when: "timestamp", value: "value"})
            long.attrs = dict(frame.attrs)
            out = anomaly.detect(long, method, by=keys)
            flagged = out[out["is_anomaly"].fillna(False).astype(bool)]
            flagged = flagged.sort_values(["score", "timestamp"], ascending=[False, True])
            per_series = (
                flagged.groupby(keys, observed=True).size().sort_values(ascending=False)
                if keys
                else pd.Series(dtype=int)
            )
            summary = {
                "dataset": dataset,
                "column": value,
                "method": method,
                "series": n_series,
                "points": len(out),
                "anomalies": len(flagged),
                "anomalies by severity": {
                    str(k): int(v) for k, v in flagged["severity"].value_counts().items() if v
                },
                "series with anomalies": int((per_series > 0).sum())
                if keys
                else int(bool(len(flagged))),
                "from": out["timestamp"].min(),
                "to": out["timestamp"].max(),
            }
            top = [
                {
                    **dict(zip(keys, k if isinstance(k, tuple) else (k,), strict=True)),
                    "anomalies": int(n),
                }
                for k, n in per_series.head(20).items()
            ]
            answer = [
                f"# Anomalies in {dataset} / {value}",
                f"{fmt(len(flagged), 'count')} anomalous points in {fmt(n_series, 'count')} series "
                f"of {fmt(len(out), 'count')} points, {fmt_timestamp(out['timestamp'].min())} - "
                f"{fmt_timestamp(out['timestamp'].max())} ({method} detector).",
            ]
            if summary["anomalies by severity"]:
                answer.append(
                    "By severity: "
                    + ", ".join(
                        f"{k} {fmt(v, 'count')}"
                        for k, v in summary["anomalies by severity"].items()
                    )
                )
            if top:
                answer.append(
                    "Series with most anomalies: "
                    + "; ".join(
                        " / ".join(str(t[k]) for k in keys) + f" ({fmt(t['anomalies'], 'count')})"
                        for t in top[:5]
                    )
                )
            if len(flagged):
                shown = flagged[
                    [*keys, "timestamp", "value", "expected", "score", "severity"]
                ].head(10)
                answer += ["", "## The most anomalous points", table_text(shown, max_rows=10)]
            return {
                **provenance_header(p),
                "tool": "detect_anomalies",
                "answer": "\n".join(answer),
                "parameters": jsonable(arguments),
                "summary": jsonable(summary),
                "findings": [],
                "series_with_most_anomalies": jsonable(top),
                "table": frame_table(flagged, limit=limit),
                "report": None,
            }

        return as_tool_result(
            runtime.memoised("detect_anomalies", arguments, lambda: guarded(compute))
        )

    return make_tool(
        detect_anomalies,
        name="detect_anomalies",
        description=(
            "Find anomalies in a numeric column of any opskit dataset over time (one series per "
            "group, causal detectors: spikes, level shifts, seasonal breaks, variance changes). "
            "Returns compact JSON: data (live/cache/demo) and provenance, counts by severity, the "
            "series with most anomalies and the top anomalous points (value, expected band, "
            "score, severity). Datasets with a time column: apm_health, streaming_qoe, problems, "
            "production_issues, subscriber_months, ..."
        ),
    )


# -- pareto ---------------------------------------------------------------------------------------
def pareto_tool(runtime: Runtime) -> Tool:
    """The ``pareto`` tool: the vital few of any dataset column, by any columns."""

    def pareto(
        dataset: DatasetName,
        value: Annotated[
            str | None, Field(description="numeric column to sum per item; null counts rows")
        ],
        by: Annotated[
            list[str],
            Field(
                min_length=1, description="column(s) defining an item; several give a drill-down"
            ),
        ],
        target: Annotated[
            float, Field(gt=0, le=1, description="cumulative share the vital few must reach")
        ] = 0.8,
        filters: Filters = None,
        limit: Annotated[int, Field(ge=1, le=1000, description="items listed")] = 20,
    ) -> CallToolResult:
        """Rank the items of a dataset by a value and find the vital few (Pareto, ABC, Gini)."""
        arguments = {"dataset": dataset, "value": value, "by": by, "target": target,
                     "filters": filters, "limit": limit}  # fmt: skip

        def compute() -> dict[str, Any]:
            frame = load_dataset(runtime, dataset, filters)
            missing = [c for c in [*by, *([value] if value else [])] if c not in frame.columns]
            if missing:
                raise ValueError(
                    f"{dataset} has no column {missing[0]!r}; columns: {', '.join(frame.columns)}"
                )
            result = pareto_analysis(frame, value, by=by, target=target)
            payload = result_payload("pareto", result, parameters=arguments, top_rows=limit)
            payload["vital_few"] = len(result.vital_few)
            return payload

        return as_tool_result(runtime.memoised("pareto", arguments, lambda: guarded(compute)))

    return make_tool(
        pareto,
        name="pareto",
        description=(
            "Pareto analysis of any opskit dataset: sum a numeric column per item (or count rows), "
            "rank items, find the vital few reaching the target share, ABC classes, Gini and "
            "concentration statement. Returns compact JSON: data (live/cache/demo) and "
            "provenance, summary, findings and the ranked items."
        ),
    )
