"""Service health: anomalies in APM and streaming-QoE series, with Dynatrace problems.

:func:`service_health` runs the anomaly engine over every service/metric series
(and per-CDN QoE series), turns consecutive flagged points into alerts, matches
them with the problems Dynatrace opened, and ranks services by how unhealthy
they look. Each alert is a finding with its evidence.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from opskit import provenance as prov
from opskit.analytics._result import Finding, Result, TableSpec
from opskit.analytics.anomaly import detect
from opskit.analytics.anomaly.chart import anomaly_chart
from opskit.analytics.anomaly.evaluate import alert_runs
from opskit.cache import ResultCache, content_digest, memoised_frame
from opskit.catalog import load
from opskit.config import Settings, load_settings
from opskit.present import fmt_timestamp, fmt_window, humanize
from opskit.provenance import utc_timestamp

__all__ = [
    "ALERT_SCORE",
    "METRIC_AXIS",
    "PROBLEM_COLUMNS",
    "STATUS_RULE",
    "metric_axis",
    "qoe_series",
    "service_health",
]

#: Score at which a point counts as an alert (the anomaly engine's "high" severity, p <= 1e-6).
ALERT_SCORE = 0.6
#: The columns a reader sees of the Dynatrace problems, in order.
PROBLEM_COLUMNS = ("display_id", "title", "entity", "severity_level", "status", "start_time",
                   "duration_min")  # fmt: skip
#: History fed to the detectors before the window starts.
WARMUP = pd.Timedelta(days=7)
_SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}
_STEP_MIN = {"1min": 1, "5min": 5, "15min": 15, "1h": 60}
#: Detector outputs kept in the memo store (each a few MB; one per distinct input).
SCANS_KEPT = 8
#: An alert this close to the window end makes a service "critical" (it is happening now).
RECENT = pd.Timedelta(hours=1)


def qoe_series(qoe: pd.DataFrame) -> pd.DataFrame:
    """Per-CDN hourly QoE series (plays-weighted) in long format for the detector."""
    d = qoe.assign(
        _stall=qoe["rebuffering_ratio"].fillna(0) * qoe["plays"],
        _vsf=qoe["video_start_failure_rate"] * qoe["plays"],
    )
    g = d.groupby(["timestamp", "cdn"], as_index=False).agg(
        plays=("plays", "sum"), _stall=("_stall", "sum"), _vsf=("_vsf", "sum")
    )
    g["rebuffering_ratio"] = g["_stall"] / g["plays"].where(g["plays"] > 0)
    g["video_start_failure_rate"] = g["_vsf"] / g["plays"].where(g["plays"] > 0)
    long = g.melt(
        id_vars=["timestamp", "cdn"], value_vars=["rebuffering_ratio", "video_start_failure_rate"],
        var_name="metric", value_name="value",
    ).rename(columns={"cdn": "entity"})  # fmt: skip
    long.attrs.update(qoe.attrs)
    return long.sort_values(["entity", "metric", "timestamp"], ignore_index=True)


def service_health(
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    services: list[str] | None = None,
    resolution: str = "5min",
    method: str = "auto",
    include_qoe: bool = True,
    settings: Settings | None = None,
    cache: bool = True,
) -> Result:
    """Detect anomalies in every APM (and QoE) series and summarise health per service.

    Parameters
    ----------
    start, end
        Window; default: the last 7 days of data.
    services
        Restrict to these services (default: all).
    resolution
        APM bucket (``1min``, ``5min``, ``15min``, ``1h``).
    method
        Anomaly method (``auto`` = ensemble).
    include_qoe
        Also scan hourly per-CDN rebuffering and start-failure series.
    cache
        Reuse the detector output stored for exactly the same input series, method and
        detector code (``False`` scans afresh). The scan is the slow part (about 1 s
        for 68 series); the report, the dashboard and an analyst asking again share it.

    Returns
    -------
    Result
        ``frame``: one row per service/CDN (alerts, worst alert severity, problems,
        ``status`` and ``status_reason`` from :data:`STATUS_RULE`);
        ``tables["alerts"]`` every alert; ``tables["anomalies"]`` the detector output;
        ``tables["problems"]`` the Dynatrace problems that overlap the window; findings
        per unhealthy service.

    Notes
    -----
    The status of a service, the number of critical services and the problems each
    one counts come from one rule (:data:`STATUS_RULE`): critical when a Dynatrace
    problem is open at the window end or an alert is still running, degraded when an
    alert or a problem happened in the window, healthy otherwise.
    """
    apm0 = load("apm_health", settings=settings, resolution="1h", metric="throughput_rpm")
    data_end = apm0["timestamp"].max() + pd.Timedelta(hours=1)
    end_ts = utc_timestamp(end) if end is not None else data_end
    start_ts = utc_timestamp(start) if start is not None else end_ts - pd.Timedelta(days=7)
    # Detectors learn from history: feed WARMUP before the window, report only inside it.
    filters: dict[str, Any] = {"start": start_ts - WARMUP, "end": end_ts, "resolution": resolution}
    if services:
        filters["service"] = services
    apm = load("apm_health", settings=settings, **filters)
    frames = [apm.drop(columns=["system", "provenance"])]
    provs = [prov.of(apm)]
    if include_qoe:
        qoe = load("streaming_qoe", settings=settings, start=start_ts - WARMUP, end=end_ts)
        frames.append(qoe_series(qoe).assign(entity=lambda d: "cdn:" + d["entity"]))
        provs.append(prov.of(qoe))
    series = pd.concat(frames, ignore_index=True)
    series.attrs["provenance"] = prov.combine(provs).to_dict()
    anomalies = _scan(series, method, settings=settings, cache=cache)
    anomalies = anomalies[anomalies["timestamp"] >= start_ts].reset_index(drop=True)
    flagged = anomalies.assign(is_anomaly=anomalies["score"] >= ALERT_SCORE)
    alerts = alert_runs(flagged, by=["entity", "metric"])
    problems = load(
        "problems", settings=settings, start=start_ts - pd.Timedelta(days=1), end=end_ts
    )
    if len(problems):  # the problems that overlap the window
        problems = problems[problems["end_time"].isna() | (problems["end_time"] >= start_ts)]
        problems = problems.reset_index(drop=True)
    p = prov.combine([*provs, prov.of(problems)])
    summary = _summarise(alerts, problems, flagged, end_ts)
    findings = _findings(summary, alerts, p, _STEP_MIN[resolution])
    counts = summary["status"].value_counts()
    crit, degr = int(counts.get("critical", 0)), int(counts.get("degraded", 0))
    window = fmt_window(start_ts, end_ts) if (end_ts - start_ts) >= pd.Timedelta(days=1) else (
        f"{fmt_timestamp(start_ts)} - {fmt_timestamp(end_ts)}")  # fmt: skip
    worst = summary.iloc[0] if len(summary) else None
    headline = (
        f"{window}: {crit} critical and {degr} degraded of {len(summary)} services and CDNs, "
        f"{len(alerts)} anomaly alerts and {len(problems)} Dynatrace problems"
        + (f"; worst: {worst['entity']} ({int(worst['alerts'])} alerts, {int(worst['problems'])} Dynatrace "
           f"problems)." if worst is not None and worst["status"] != "healthy" else ".")
    )  # fmt: skip
    open_problems = int(summary["open_problems"].sum())
    return Result(
        name="service_health",
        title="Service health",
        headline=headline,
        frame=summary,
        provenance=p,
        findings=findings,
        notes=[f"Status rule: {STATUS_RULE}"],
        summary={
            "window": window,
            "series_scanned": int(series.groupby(["entity", "metric"]).ngroups),
            "critical_services": crit,
            "degraded_services": degr,
            "alerts": len(alerts),
            "problems_in_window": len(problems),
            "open_problems": open_problems,
        },
        tiles=(
            "critical_services",
            "degraded_services",
            "alerts",
            "problems_in_window",
            "open_problems",
        ),
        tables={"alerts": alerts, "anomalies": anomalies, "problems": problems},
        shown=(
            TableSpec(
                "frame",
                "Services and CDNs by status",
                ("entity", "status", "status_reason", "alerts", "problems", "last_alert"),
                name="services",
            ),
            TableSpec(
                "alerts",
                "Anomaly alerts",
                ("entity", "metric", "start", "end", "max_score"),
                sort_by="start",
            ),
            TableSpec(
                "problems",
                "Dynatrace problems in the window",
                PROBLEM_COLUMNS,
                sort_by="start_time",
            ),
        ),
        _chart=_chart,
    )


def _scan(
    series: pd.DataFrame, method: str, *, settings: Settings | None, cache: bool
) -> pd.DataFrame:
    """``detect`` over every entity/metric series, memoised by the series' content."""
    if not cache:
        return detect(series, method, by=["entity", "metric"])
    store = ResultCache.for_settings(settings or load_settings())
    anomalies = memoised_frame(
        store, "health_scan", {"method": method, "series": content_digest(series)},
        lambda: detect(series, method, by=["entity", "metric"]), keep=SCANS_KEPT,
    )  # fmt: skip
    # Same numbers, but this call's provenance (a new live fetch of equal data is fresher).
    return prov.attach(anomalies, prov.Provenance.from_dict(series.attrs[prov.ATTR]))


#: The rule every surface derives a service's status from (the dashboard shows it as help text).
STATUS_RULE = (
    "critical: a Dynatrace problem on it is open at the end of the window, or an anomaly alert "
    "is still running (it ended less than an hour before the window end); degraded: an anomaly "
    "alert or a Dynatrace problem in the window, all over by its end; healthy: neither."
)


def _summarise(
    alerts: pd.DataFrame, problems: pd.DataFrame, flagged: pd.DataFrame, end: pd.Timestamp
) -> pd.DataFrame:
    """One row per service/CDN with its status, from one rule (:data:`STATUS_RULE`).

    ``status_reason`` says which evidence gave the status; ``worst_alert_severity``
    is the anomaly engine's worst point severity in the alerts (it does not set the
    status on its own: an alert that is over makes a service degraded, not critical).
    """
    entities = pd.Index(sorted(flagged["entity"].unique()), name="entity")
    by_alert = alerts.groupby("entity").agg(
        alerts=("metric", "size"), metrics_alerting=("metric", "nunique"), last_alert=("end", "max")
    ).reindex(entities)  # fmt: skip
    hot = flagged.loc[flagged["is_anomaly"].fillna(False).astype(bool) & flagged["severity"].notna(),
                      ["entity", "severity"]]  # fmt: skip
    worst = (
        hot.assign(rank=hot["severity"].astype(str).map(_SEVERITY_RANK))
        .groupby("entity")["rank"]
        .max()
    )
    names = {v: k for k, v in _SEVERITY_RANK.items()}
    n_alerts = by_alert["alerts"].fillna(0).astype(int)
    rows = []
    for entity in entities:
        a = alerts[alerts["entity"] == entity]
        pr = problems[problems["entity"] == entity] if len(problems) else problems
        # open at the window end: started before it and not closed by then (a later close
        # does not make a past window's problem any less open at the time)
        open_pr = (
            pr[(pr["start_time"] < end) & (pr["end_time"].isna() | (pr["end_time"] > end))]
            if len(pr)
            else pr
        )
        running = a[a["end"] >= end - RECENT] if len(a) else a
        if len(open_pr):
            first = open_pr.sort_values("start_time").iloc[0]
            status = "critical"
            reason = (
                f"Dynatrace problem {first['display_id']} ({str(first['severity_level']).lower()}) "
                f"open since {fmt_timestamp(first['start_time'])}"
            )
        elif len(running):
            r = running.sort_values("start").iloc[0]
            status = "critical"
            reason = (
                f"alerting now on {metric_name(str(r['metric']))} since {fmt_timestamp(r['start'])}"
            )
        elif len(a) or len(pr):
            status = "degraded"
            parts = []
            if len(a):
                parts.append(
                    f"{len(a)} alert{'s' * (len(a) != 1)}, last {fmt_timestamp(a['end'].max())}"
                )
            if len(pr):
                parts.append(
                    f"{len(pr)} Dynatrace problem{'s' * (len(pr) != 1)} ({', '.join(pr['display_id'])})"
                )
            reason = " and ".join(parts) + " in the window, all over"
        else:
            status, reason = "healthy", "no alerts and no Dynatrace problems in the window"
        rows.append((entity, status, reason, len(pr), len(open_pr)))
    st = pd.DataFrame(
        rows, columns=["entity", "status", "status_reason", "problems", "open_problems"]
    )
    df = pd.DataFrame(
        {
            "entity": entities,
            "kind": np.where(entities.str.startswith("cdn:"), "cdn", "service"),
            "alerts": n_alerts.to_numpy(),
            "metrics_alerting": by_alert["metrics_alerting"].fillna(0).astype(int).to_numpy(),
            "worst_alert_severity": worst.reindex(entities).map(names).fillna("none").to_numpy(),
            "last_alert": pd.to_datetime(by_alert["last_alert"], utc=True).array,
            "problems": st["problems"].astype(int).to_numpy(),
            "open_problems": st["open_problems"].astype(int).to_numpy(),
            "status": st["status"].to_numpy(),
            "status_reason": st["status_reason"].to_numpy(),
        }
    )
    order = {"critical": 0, "degraded": 1, "healthy": 2}
    return df.sort_values(["status", "alerts", "entity"], key=lambda s: s.map(order) if s.name == "status" else s,
                          ascending=[True, False, True], ignore_index=True)  # fmt: skip


def _findings(
    summary: pd.DataFrame, alerts: pd.DataFrame, p: prov.Provenance, step_min: int
) -> list[Finding]:
    out = []
    for r in summary[summary["status"] != "healthy"].head(8).itertuples():
        a = alerts[alerts["entity"] == r.entity]
        metric = a.groupby("metric").size().idxmax() if len(a) else "n/a"
        step = 60 if r.kind == "cdn" else step_min
        minutes = float(a["n_points"].sum() * step) if len(a) else 0.0
        title = (
            f"{r.entity} is {r.status}: anomalies in {metric_name(metric)}"
            if len(a)
            else f"{r.entity} is {r.status}: Dynatrace problems without anomaly alerts"
        )
        out.append(
            Finding(
                title=title,
                where=r.status_reason,
                source="service_health",
                action="check recent deploys and the matching Dynatrace problem; page the owning team if still open"
                if r.kind == "service"
                else "open an incident with the CDN and shift traffic if it persists",
                provenance=p,
                evidence={
                    "alerts": (float(r.alerts), "count"),
                    "minutes alerting": (minutes, "minutes"),
                    "Dynatrace problems": (float(r.problems), "count"),
                },
                root_cause=None,
                confidence="high" if r.problems else "medium",
            )
        )
    return out


#: Value-axis title (with its unit) of each monitored metric.
METRIC_AXIS = {
    "latency_p50_ms": "Latency p50 (ms)",
    "latency_p95_ms": "Latency p95 (ms)",
    "error_rate": "Error rate (share of requests)",
    "throughput_rpm": "Throughput (requests per minute)",
    "apdex": "Apdex (score 0-1)",
    "rebuffering_ratio": "Rebuffering (share of watch time)",
    "video_start_failure_rate": "Video start failures (share of plays)",
}


def metric_name(metric: str) -> str:
    """``metric`` in words, without its unit (``latency_p95_ms`` -> ``latency p95``)."""
    return METRIC_AXIS[metric].split(" (")[0].lower() if metric in METRIC_AXIS else humanize(metric)


def metric_axis(metric: str) -> str:
    """The value-axis title of ``metric``, with its unit."""
    return METRIC_AXIS.get(metric, f"{humanize(metric).capitalize()} (as measured)")


def _chart(result: Result) -> Any:
    """The most anomalous series with its expected band and alerts."""
    an = result.tables["anomalies"]
    if an.empty:
        return (
            alt.Chart(pd.DataFrame({"x": []}))
            .mark_point()
            .properties(description="No series were scanned.")
        )
    top = an.groupby(["entity", "metric"])["score"].max().sort_values(ascending=False).index[0]
    one = an[(an["entity"] == top[0]) & (an["metric"] == top[1])]
    flagged = int((one["score"] >= ALERT_SCORE).sum())
    text = (
        f"Line chart of {metric_axis(top[1]).lower()} for {top[0]}, the most anomalous series, "
        f"with its expected band; {flagged} point{'s' * (flagged != 1)} scored as alerts."
    )
    return anomaly_chart(one, title=f"{top[0]} · {humanize(top[1])}", value_title=metric_axis(top[1]),
                         description=text)  # fmt: skip
