"""Service health: anomalies in APM and streaming-QoE series, with Dynatrace problems.

:func:`service_health` runs the anomaly engine over every service/metric series
(and per-CDN QoE series), turns consecutive flagged points into alerts, matches
them with the problems Dynatrace opened, and ranks services by how unhealthy
they look. Each alert is a finding with its evidence.
"""

from __future__ import annotations

import hashlib
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from opskit import provenance as prov
from opskit.analytics._result import Finding, Result
from opskit.analytics.anomaly import detect
from opskit.analytics.anomaly.chart import anomaly_chart
from opskit.analytics.anomaly.evaluate import alert_runs
from opskit.cache import ResultCache, cache_key, code_fingerprint
from opskit.catalog import load
from opskit.config import Settings, load_settings
from opskit.provenance import utc_timestamp

__all__ = ["ALERT_SCORE", "qoe_series", "service_health"]

#: Score at which a point counts as an alert (the anomaly engine's "high" severity, p <= 1e-6).
ALERT_SCORE = 0.6
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
        ``frame``: one row per service/CDN (alerts, worst severity, problems,
        status); ``tables["alerts"]`` every alert; ``tables["anomalies"]`` the
        detector output; findings per unhealthy service.
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
    p = prov.combine([*provs, prov.of(problems)])
    summary = _summarise(alerts, problems, flagged, end_ts)
    findings = _findings(summary, alerts, p, _STEP_MIN[resolution])
    result = Result(
        name="service_health",
        frame=summary,
        provenance=p,
        findings=findings,
        summary={
            "window": f"{start_ts:%Y-%m-%d %H:%M} .. {end_ts:%Y-%m-%d %H:%M} UTC",
            "series scanned": int(series.groupby(["entity", "metric"]).ngroups),
            "alerts": len(alerts),
            "unhealthy services": int((summary["status"] != "healthy").sum()),
            "problems opened": len(problems),
        },
        tables={"alerts": alerts, "anomalies": anomalies, "problems": problems},
        _chart=_chart,
    )
    return result


def _scan(
    series: pd.DataFrame, method: str, *, settings: Settings | None, cache: bool
) -> pd.DataFrame:
    """``detect`` over every entity/metric series, memoised by the series' content."""
    if not cache:
        return detect(series, method, by=["entity", "metric"])
    content = pd.util.hash_pandas_object(series, index=False).to_numpy().tobytes()
    digest = hashlib.sha256(content).hexdigest()[:32]
    code = code_fingerprint()  # covers the anomaly engine
    key = cache_key("health_scan", {"method": method, "series": digest}, code=code)
    store = ResultCache.for_settings(settings or load_settings())
    hit = store.get(key, dataset="health_scan", purpose="memo")
    if hit is not None:
        # Same numbers, but this call's provenance (a new live fetch of equal data is fresher).
        return prov.attach(hit.frame, prov.Provenance.from_dict(series.attrs[prov.ATTR]))
    anomalies = detect(series, method, by=["entity", "metric"])
    store.put(key, anomalies, dataset="health_scan", filters={"method": method, "series": digest},
              system="opskit", purpose="memo", tag=code)  # fmt: skip
    store.prune("health_scan", purpose="memo", keep=SCANS_KEPT)
    return anomalies


def _summarise(
    alerts: pd.DataFrame, problems: pd.DataFrame, flagged: pd.DataFrame, end: pd.Timestamp
) -> pd.DataFrame:
    """Status: ``critical`` with an open problem or an alert in the last hour,
    ``degraded`` with any alert in the window, else ``healthy``."""
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
    if len(problems):
        counts = problems.assign(open=problems["status"] == "OPEN").groupby("entity")
        n_prob = counts.size().reindex(entities, fill_value=0)
        open_prob = counts["open"].sum().reindex(entities, fill_value=0)
    else:
        n_prob = open_prob = pd.Series(0, index=entities)
    n_alerts = by_alert["alerts"].fillna(0).astype(int)
    recent = by_alert["last_alert"].notna() & (by_alert["last_alert"] >= end - RECENT)
    status = np.where(
        open_prob.gt(0) | recent, "critical", np.where(n_alerts > 0, "degraded", "healthy")
    )
    df = pd.DataFrame(
        {
            "entity": entities,
            "kind": np.where(entities.str.startswith("cdn:"), "cdn", "service"),
            "alerts": n_alerts.to_numpy(),
            "metrics_alerting": by_alert["metrics_alerting"].fillna(0).astype(int).to_numpy(),
            "worst_severity": worst.reindex(entities).map(names).fillna("none").to_numpy(),
            "last_alert": pd.to_datetime(by_alert["last_alert"], utc=True).array,
            "problems": n_prob.astype(int).to_numpy(),
            "open_problems": open_prob.astype(int).to_numpy(),
            "status": status,
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
        out.append(
            Finding(
                title=f"{r.entity} shows anomalies in {metric.replace('_', ' ')}",
                where=f"{r.metrics_alerting} metric(s), last at {pd.Timestamp(r.last_alert):%Y-%m-%d %H:%M} UTC",
                source="service_health",
                action="check recent deploys and the matching Dynatrace problem; page the owning team if still open"
                if r.kind == "service"
                else "open an incident with the CDN and shift traffic if it persists",
                provenance=p,
                evidence={
                    "alerts": (float(r.alerts), ""),
                    "minutes alerting": (minutes, ""),
                    "Dynatrace problems": (float(r.problems), ""),
                },
                root_cause=None,
                confidence="high" if r.problems else "medium",
            )
        )
    return out


def _chart(result: Result) -> Any:
    """The most anomalous series with its expected band and alerts."""
    an = result.tables["anomalies"]
    if an.empty:
        return alt.Chart(pd.DataFrame({"x": []})).mark_point()
    top = an.groupby(["entity", "metric"])["score"].max().sort_values(ascending=False).index[0]
    one = an[(an["entity"] == top[0]) & (an["metric"] == top[1])]
    return anomaly_chart(one, title=f"{top[0]} · {top[1]}")
