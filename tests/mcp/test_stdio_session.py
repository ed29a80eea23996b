"""``opskit mcp`` over stdio: resources, tools, validation and numbers equal to in-process opskit.

One server subprocess serves the whole module (see ``conftest.run_session``).
"""

from __future__ import annotations

import inspect
import json
import math
from pathlib import Path
from typing import Any, get_type_hints

import pandas as pd
import pytest
from mcp_support import Transcript, run_session

from opskit import analyses
from opskit.analytics.anomaly import detect
from opskit.analytics.pareto import pareto
from opskit.catalog import load
from opskit.datasets import SEED_RESOURCES

SEEDS = [ds.name for ds in SEED_RESOURCES]
TOOLS = {
    "analyze_churn_root_cause": "churn_root_cause",
    "analyze_complaint_themes": "complaint_themes",
    "analyze_production_risk": "production_risk",
    "forecast_revenue_with_constraints": "revenue_forecast",
    "generate_retention_campaign": "retention_campaign",
    "executive_summary": "executive_summary",
    "service_health": "service_health",
}
FILTERED = {
    "churn_signals": "?region=brazil,india&at_risk_only=true&limit=5",
    "complaints_topics": "?min_tickets=2",
    "production_issues": "?status=open,blocked&severity=critical,high&limit=3",
    "content_catalog": "?limit=7&offset=3",
    "international_markets": "?start=2026-09-01&end=2026-10-01",
    "revenue_impact": "?plan=ad_free",
    "retention_campaigns": "?status=completed",
    "operational_efficiency": "?limit=2",
    "pareto_analysis": "?dimension=complaints_by_theme&target=0.7",
}
BAD_READS = {
    "opskit://datasets/production_issues?status=opn": "valid values: open, in_progress",
    "opskit://datasets/production_issues?statuz=open": "has no filter 'statuz' (did you mean 'status'?)",
    "opskit://datasets/churn_signals?limit=0": "limit must be between 1 and 5000",
    "opskit://datasets/churn_signals?start=yesterday-ish": "is not an ISO 8601 date",
    "opskit://datasets/apm_health": "unknown dataset resource 'apm_health'",
}
VALID_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("analyze_churn_root_cause", {}),
    ("analyze_complaint_themes", {"days_back": 60, "max_themes": 6}),
    ("analyze_production_risk", {"by": "team", "target": 0.7}),
    ("forecast_revenue_with_constraints", {"budget": 500000, "months": 6}),
    ("generate_retention_campaign", {"budget": 200}),
    (
        "detect_anomalies",
        {"dataset": "apm_health", "series": {"entity": "playback-api"}, "by": ["entity", "metric"]},
    ),
    (
        "detect_anomalies",
        {
            "dataset": "streaming_qoe",
            "column": "rebuffering_ratio",
            "method": "zscore",
            "filters": {"cdn": ["fastly"]},
            "by": ["device"],
            "limit": 5,
        },
    ),
    ("pareto", {"dataset": "production_issues", "value": "delay_days", "by": ["component"]}),
    (
        "pareto",
        {
            "dataset": "churn_signals",
            "value": "revenue_at_risk_30d_usd",
            "by": ["region", "plan"],
            "target": 0.7,
            "filters": {"at_risk_only": True},
        },
    ),
]
INVALID_CALLS: list[tuple[str, dict[str, Any], str]] = [
    ("analyze_churn_root_cause", {"window_days": 3}, "window_days: Input should be greater than or equal to 7"),
    ("analyze_churn_root_cause", {"cohort": "nope"}, "unknown cohort 'nope'; at-risk cohorts include"),
    ("analyze_complaint_themes", {"target": 1.5}, "target: Input should be less than or equal to 1"),
    ("analyze_complaint_themes", {"days": 30}, "unknown argument(s) days; valid arguments: days_back"),
    ("analyze_production_risk", {"by": "x"}, "by: Input should be 'component', 'show', 'root_cause' or 'team'"),
    ("analyze_production_risk", {"severity": "urgent"}, "severity"),
    ("forecast_revenue_with_constraints", {"months": 0}, "months: Input should be greater than or equal to 1"),
    ("forecast_revenue_with_constraints", {"scenario": "wild"}, "'conservative', 'moderate' or 'aggressive'"),
    ("forecast_revenue_with_constraints", {"budget": "lots"}, "budget"),
    ("generate_retention_campaign", {"cohort": "a|b|c"}, "unknown cohort 'a|b|c'"),
    ("generate_retention_campaign", {"control_share": 0.9}, "control_share: Input should be less than or equal to 0.5"),
    ("detect_anomalies", {}, "dataset: Field required"),
    ("detect_anomalies", {"dataset": "apm_hea1th"}, "unknown dataset 'apm_hea1th' (did you mean 'apm_health'?)"),
    ("detect_anomalies", {"dataset": "apm_health", "column": "entity"}, "'entity' is not a numeric column; valid: value"),
    ("detect_anomalies", {"dataset": "apm_health", "series": {"entity": "nope"}}, "no rows with entity in ['nope']; values include"),
    ("detect_anomalies", {"dataset": "apm_health", "filters": {"regoin": "x"}}, "has no filter 'regoin'; valid: service"),
    ("detect_anomalies", {"dataset": "churn_signals"}, "choose a numeric column"),
    ("pareto", {"dataset": "production_issues", "value": "nope", "by": ["component"]}, "no column 'nope'; columns: key"),
    ("pareto", {"dataset": "production_issues", "value": "delay_days", "by": []}, "by: List should have at least 1 item"),
    ("pareto", {"dataset": "production_issues", "value": "delay_days", "by": ["component"], "filters": {"severity": "huge"}}, "unknown value 'huge'; valid values: critical"),
    ("pareto", {"dataset": "production_issues", "value": "delay_days", "by": ["component"], "target": 0}, "target: Input should be greater than 0"),
    ("pareto", {"dataset": "production_issues", "value": "summary", "by": ["component"]}, "summary"),
    ("no_such_tool", {}, "unknown tool 'no_such_tool'"),
]  # fmt: skip
REPORT = "complaint_themes"


@pytest.fixture(scope="module")
def transcript(mcp_env: dict[str, str]) -> Transcript:
    # A finished report run, as the report runner leaves it: the tool must point at it.
    root = Path(mcp_env["OPSKIT_HOME"]) / "reports" / REPORT
    run = root / "2026-11-01" / "120000-abcdef12"
    run.mkdir(parents=True)
    (run / f"{REPORT}.html").write_text("<html></html>", encoding="utf-8")
    (root / "latest.json").write_text(
        json.dumps({"run": f"{REPORT}/2026-11-01/120000-abcdef12", "status": "succeeded",
                    "started_at": "2026-11-01T12:00:00+00:00", "parameters": {}}),
        encoding="utf-8",
    )  # fmt: skip
    reads = ["opskit://datasets"] + [f"opskit://datasets/{n}" for n in SEEDS]
    reads += [f"opskit://datasets/{n}{q}" for n, q in FILTERED.items()] + list(BAD_READS)
    calls = VALID_CALLS + [(n, a) for n, a, _ in INVALID_CALLS]
    return run_session(mcp_env, reads=reads, calls=calls)


def _same(got: Any, want: Any) -> bool:
    """JSON value ``got`` equals opskit's ``want`` (floats to 1e-9; NaN is null)."""
    if isinstance(want, pd.Timestamp):
        return got == want.isoformat()
    if isinstance(want, float | int) and not isinstance(want, bool):
        if isinstance(want, float) and math.isnan(want):
            return got is None
        return isinstance(got, int | float) and math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(want, list | tuple):
        return isinstance(got, list) and len(got) == len(want) and all(map(_same, got, want))
    if want is None or (not isinstance(want, str | bool) and pd.isna(want)):
        return got is None
    return bool(got == want)


def _assert_row(row: list[Any], columns: list[str], frame: pd.DataFrame, i: int) -> None:
    for col, got in zip(columns, row, strict=True):
        want = frame[col].iloc[i]
        want = want.item() if hasattr(want, "item") else want
        assert _same(got, want), (col, got, want)


# -- listing --------------------------------------------------------------------------------------
def test_lists_the_nine_seed_datasets_and_the_catalog_as_resources(transcript: Transcript) -> None:
    uris = [str(r.uri) for r in transcript.resources]
    assert uris == ["opskit://datasets"] + [f"opskit://datasets/{n}" for n in SEEDS]
    assert all(r.mime_type == "application/json" for r in transcript.resources)


def test_each_dataset_has_a_uri_template_with_its_filters_and_paging(
    transcript: Transcript,
) -> None:
    templates = {t.uri_template.split("{")[0]: t.uri_template for t in transcript.templates}
    for ds in SEED_RESOURCES:
        names = ",".join([*(f.name for f in ds.filters), "limit", "offset"])
        assert (
            templates[f"opskit://datasets/{ds.name}"] == f"opskit://datasets/{ds.name}{{?{names}}}"
        )


def test_lists_the_analyses_detect_and_pareto_but_no_write_tools(transcript: Transcript) -> None:
    assert [t.name for t in transcript.tools] == [*TOOLS, "detect_anomalies", "pareto"]
    assert all(t.annotations and t.annotations.read_only_hint for t in transcript.tools)
    assert "live | cache | demo" in (transcript.instructions or "")


@pytest.mark.parametrize("tool", list(TOOLS))
def test_analysis_schema_is_generated_from_the_typed_signature(
    transcript: Transcript, tool: str
) -> None:
    schema = next(t for t in transcript.tools if t.name == tool).input_schema
    fn = inspect.unwrap(analyses.ANALYSES[TOOLS[tool]])
    params = {n: p for n, p in inspect.signature(fn).parameters.items() if n != "settings"}
    assert list(schema["properties"]) == list(params)
    assert schema["additionalProperties"] is False
    assert "required" not in schema  # every analysis parameter has a default
    for name, p in params.items():
        prop = schema["properties"][name]
        assert prop["default"] == p.default
        assert prop["description"], name
    hints = get_type_hints(fn, include_extras=True)
    assert "settings" in hints and "settings" not in schema["properties"]


def test_schema_carries_the_signature_constraints(transcript: Transcript) -> None:
    props = {t.name: t.input_schema["properties"] for t in transcript.tools}
    days = props["analyze_churn_root_cause"]["window_days"]
    assert (days["type"], days["minimum"], days["maximum"]) == ("integer", 7, 365)
    assert props["analyze_production_risk"]["by"]["enum"] == [
        "component",
        "show",
        "root_cause",
        "team",
    ]
    assert props["forecast_revenue_with_constraints"]["scenario"]["enum"] == [
        "conservative", "moderate", "aggressive"
    ]  # fmt: skip
    share = props["generate_retention_campaign"]["control_share"]
    assert (share["minimum"], share["maximum"]) == (0.05, 0.5)
    assert "apm_health" in props["detect_anomalies"]["dataset"]["enum"]
    assert set(next(t for t in transcript.tools if t.name == "pareto").input_schema["required"]) == {
        "dataset", "value", "by"
    }  # fmt: skip


# -- resources ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", SEEDS)
def test_dataset_resource_equals_opskit_load(
    transcript: Transcript, name: str, settings: Any
) -> None:
    body = json.loads(transcript.reads[f"opskit://datasets/{name}"])
    frame = load(name, settings=settings)
    assert body["data"] == frame.attrs["provenance"]["kind"] == "demo"
    assert body["provenance"]["kind"] == "demo" and "DEMO DATA" in body["data_label"]
    assert body["row_count"] == len(frame)
    assert body["returned"] == min(len(frame), 100) == len(body["rows"])
    assert body["truncated"] is (len(frame) > 100)
    assert ("next" in body) is body["truncated"]
    assert body["columns"] == [c for c in frame.columns if c != "provenance"]
    for i in (0, len(body["rows"]) - 1):
        _assert_row(body["rows"][i], body["columns"], frame, i)


@pytest.mark.parametrize("name", SEEDS)
def test_filtered_resource_equals_opskit_load_with_the_same_filters(
    transcript: Transcript, name: str, settings: Any
) -> None:
    query = FILTERED[name]
    body = json.loads(transcript.reads[f"opskit://datasets/{name}{query}"])
    args = dict(part.split("=") for part in query[1:].split("&"))
    limit, offset = int(args.pop("limit", 100)), int(args.pop("offset", 0))
    ds = next(d for d in SEED_RESOURCES if d.name == name)
    filters = {k: v.split(",") if ds.filter(k).kind == "choices" else v for k, v in args.items()}
    frame = load(name, settings=settings, **filters)
    assert body["row_count"] == len(frame)
    assert body["offset"] == offset and body["returned"] == len(frame.iloc[offset : offset + limit])
    assert body["truncated"] is (offset + body["returned"] < len(frame))
    assert body["filters"] == json.loads(json.dumps(frame.attrs["filters"], default=str))
    for i, row in enumerate(body["rows"]):
        _assert_row(row, body["columns"], frame, offset + i)


def test_truncated_resource_links_the_next_page(transcript: Transcript) -> None:
    body = json.loads(
        transcript.reads[
            "opskit://datasets/churn_signals?region=brazil,india&at_risk_only=true&limit=5"
        ]
    )
    if body["truncated"]:
        assert body["next"].endswith("limit=5&offset=5")
    body = json.loads(transcript.reads["opskit://datasets/content_catalog?limit=7&offset=3"])
    assert (
        body["truncated"] and body["next"] == "opskit://datasets/content_catalog?limit=7&offset=10"
    )


def test_catalog_resource_documents_every_dataset(transcript: Transcript) -> None:
    body = json.loads(transcript.reads["opskit://datasets"])
    names = [d["name"] for d in body["datasets"]]
    assert names[: len(SEEDS)] == SEEDS and "apm_health" in names
    churn = body["datasets"][0]
    assert {f["name"] for f in churn["filters"]} >= {"region", "plan", "start", "end"}
    assert "cohort_id" in churn["columns"]


@pytest.mark.parametrize("uri", list(BAD_READS))
def test_bad_resource_uri_is_invalid_params_naming_valid_values(
    transcript: Transcript, uri: str
) -> None:
    code, message = transcript.read_errors[uri]
    assert code == -32602
    assert BAD_READS[uri] in message
    assert "Traceback" not in message


# -- tools: numbers equal in-process opskit -------------------------------------------------------
@pytest.mark.parametrize(("tool", "arguments"), [c for c in VALID_CALLS if c[0] in TOOLS])
def test_analysis_tool_numbers_equal_in_process(
    transcript: Transcript, tool: str, arguments: dict[str, Any], settings: Any
) -> None:
    body = transcript.payload(tool, arguments)
    result = analyses.ANALYSES[TOOLS[tool]](**arguments, settings=settings)
    assert body["data"] == result.provenance.kind == "demo"
    assert body["tool"] == tool and body["parameters"].items() >= arguments.items()
    assert list(body["summary"]) == [str(k) for k in result.summary]
    for k, want in result.summary.items():
        assert _same(body["summary"][k], want), (k, body["summary"][k], want)
    assert body["findings_total"] == len(result.findings)
    for got, want in zip(body["findings"], result.findings, strict=False):
        assert got["title"] == want.title and got["data"] == want.provenance.kind
        assert _same(got.get("impact_usd"), want.impact_usd)
    table = body["table"]
    assert table["row_count"] == len(result.frame) and table["returned"] == min(
        20, len(result.frame)
    )
    assert table["truncated"] is (len(result.frame) > 20)
    if table["rows"]:
        _assert_row(table["rows"][0], table["columns"], result.frame, 0)
    assert body["tables"] == {k: len(v) for k, v in result.tables.items()}


def test_analysis_tool_points_at_the_latest_full_report(transcript: Transcript) -> None:
    body = transcript.payload("analyze_complaint_themes", {"days_back": 60, "max_themes": 6})
    assert body["report"]["latest"].endswith(f"reports/{REPORT}/latest.json")
    assert body["report"]["html"].endswith(f"{REPORT}/2026-11-01/120000-abcdef12/{REPORT}.html")
    assert body["report"]["status"] == "succeeded"
    assert transcript.payload("analyze_churn_root_cause", {})["report"] is None


def test_detect_anomalies_equals_in_process_detect(transcript: Transcript, settings: Any) -> None:
    arguments = VALID_CALLS[5][1]
    body = transcript.payload("detect_anomalies", arguments)
    frame = load("apm_health", settings=settings)
    frame = frame[frame["entity"] == "playback-api"]
    out = detect(frame[["entity", "metric", "timestamp", "value"]], "auto", by=["entity", "metric"])
    flagged = out[out["is_anomaly"].fillna(False).astype(bool)]
    assert body["data"] == "demo"
    assert body["summary"]["series"] == 5 and body["summary"]["points"] == len(out)
    assert body["summary"]["anomalies"] == len(flagged) > 0
    assert sum(body["summary"]["anomalies by severity"].values()) == len(flagged)
    top = flagged.sort_values(["score", "timestamp"], ascending=[False, True]).iloc[0]
    row = dict(zip(body["table"]["columns"], body["table"]["rows"][0], strict=True))
    assert row["timestamp"] == top["timestamp"].isoformat() and row["metric"] == top["metric"]
    assert _same(row["score"], float(top["score"])) and _same(row["value"], float(top["value"]))


def test_detect_anomalies_on_a_wide_dataset_column(transcript: Transcript, settings: Any) -> None:
    body = transcript.payload("detect_anomalies", VALID_CALLS[6][1])
    frame = load("streaming_qoe", settings=settings, cdn=["fastly"])
    long = frame[["device", "timestamp", "rebuffering_ratio"]].rename(
        columns={"rebuffering_ratio": "value"}
    )
    out = detect(long, "zscore", by=["device"])
    assert body["summary"]["points"] == len(out)
    assert body["summary"]["anomalies"] == int(out["is_anomaly"].fillna(False).sum())
    assert body["table"]["returned"] <= 5


@pytest.mark.parametrize("arguments", [c[1] for c in VALID_CALLS if c[0] == "pareto"])
def test_pareto_equals_in_process_pareto(
    transcript: Transcript, arguments: dict[str, Any], settings: Any
) -> None:
    body = transcript.payload("pareto", arguments)
    frame = load(arguments["dataset"], settings=settings, **arguments.get("filters", {}))
    result = pareto(
        frame, arguments["value"], by=arguments["by"], target=arguments.get("target", 0.8)
    )
    for k, want in result.summary.items():
        assert _same(body["summary"][k], want), k
    assert body["vital_few"] == len(result.vital_few)
    assert body["table"]["row_count"] == len(result.frame)
    _assert_row(body["table"]["rows"][0], body["table"]["columns"], result.frame, 0)


# -- tools: bad arguments -------------------------------------------------------------------------
@pytest.mark.parametrize(("tool", "arguments", "expected"), INVALID_CALLS)
def test_bad_arguments_are_tool_errors_with_a_clear_message(
    transcript: Transcript, tool: str, arguments: dict[str, Any], expected: str
) -> None:
    result = transcript.call(tool, arguments)
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert expected in text
    assert "Traceback" not in text and 'File "' not in text


def test_every_successful_response_says_live_cache_or_demo(transcript: Transcript) -> None:
    bodies = [json.loads(t) for t in transcript.reads.values()]
    bodies += [transcript.payload(n, a) for n, a in VALID_CALLS]
    for body in bodies[1:]:  # the catalog describes data, it holds none
        assert next(iter(body)) == "data" and body["data"] in ("live", "cache", "demo")


def test_every_text_answer_reads_as_words_and_numbers_for_people(transcript: Transcript) -> None:
    from opskit.present.lint import text_problems

    for name, arguments in VALID_CALLS:
        text = transcript.text(name, arguments)
        assert text_problems(text) == [], (name, text_problems(text))
        assert "DEMO DATA" in text  # says where the numbers came from
        assert not text.lstrip().startswith("{")  # words, not a JSON dump
