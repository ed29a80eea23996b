"""Operations datasets: application health, problems, streaming QoE, production
issues and delivery efficiency. Heavy lifting runs as Ibis expressions."""

from __future__ import annotations

import ibis
import pandas as pd

from opskit import schemas
from opskit.datasets._expr import SECONDS_PER_DAY, days_between, share
from opskit.datasets._registry import END, START, Context, Filter, dataset


def isin(t: ibis.Table, column: str, value: str | list[str] | None) -> ibis.Table:
    """Filter ``t`` on a choice/choices filter value (no-op for ``None``)."""
    if value is None:
        return t
    return t.filter(t[column].isin([value] if isinstance(value, str) else value))


RESOLUTIONS = {"1min": None, "5min": 5, "15min": 15, "1h": 60}


@dataset(
    "apm_health",
    schemas.ApmHealth,
    Filter("service", "choices", "service name(s)", ("apm_metrics", "service"), dynamic=True),
    Filter("metric", "choices", "metric name(s)", ("apm_metrics", "metric"), dynamic=True),
    START, END,
    Filter("resolution", "choice", "time bucket; values are bucket means", tuple(RESOLUTIONS)),
    systems=("warehouse",), live_source="newrelic", default_window="last 24 hours",
)  # fmt: skip
def apm_health(ctx: Context) -> pd.DataFrame:
    """Application health per service and metric (New Relic APM), long format.

    Default: the last 24 hours at 1-minute resolution, every service and metric.
    """
    lo, hi = ctx.window(1)
    t = ctx.table("apm_metrics")
    t = t.filter((t.timestamp >= lo) & (t.timestamp < hi))
    t = isin(isin(t, "service", ctx.get("service")), "metric", ctx.get("metric"))
    minutes = RESOLUTIONS[ctx.get("resolution", "1min")]
    if minutes is not None:
        t = (
            t.mutate(timestamp=t.timestamp.bucket(minutes=minutes))
            .group_by(["timestamp", "service", "metric"])
            .aggregate(value=lambda s: s.value.mean())
        )
    t = t.order_by(["service", "metric", "timestamp"])
    df = t.select(
        "timestamp",
        system=ibis.literal("warehouse"),
        entity=t.service,
        metric=t.metric,
        value=t.value,
    ).to_pandas()
    return df


@dataset(
    "problems",
    schemas.Problems,
    START, END,
    Filter("status", "choice", "OPEN or CLOSED", ("OPEN", "CLOSED")),
    Filter("severity_level", "choices", "Dynatrace severity", ("problems", "severity_level"), dynamic=True),
    Filter("service", "choices", "affected service(s)", ("problems", "service"), dynamic=True),
    live_source="dynatrace", default_window="last 365 days",
)  # fmt: skip
def problems(ctx: Context) -> pd.DataFrame:
    """Dynatrace problems (incidents) that started in the window, newest first."""
    lo, hi = ctx.window(365)
    t = ctx.table("problems")
    t = t.filter((t.start_time >= lo) & (t.start_time < hi))
    t = isin(isin(isin(t, "status", ctx.get("status")), "severity_level", ctx.get("severity_level")),
             "service", ctx.get("service"))  # fmt: skip
    t = t.mutate(duration_min=days_between(t.end_time, t.start_time) * 1440.0)
    df = t.order_by(ibis.desc("start_time")).to_pandas()
    return df.rename(columns={"service": "entity"}).assign(system="warehouse")


@dataset(
    "streaming_qoe",
    schemas.StreamingQoe,
    START, END,
    Filter("region", "choices", "viewer region(s)", ("subscribers", "region"), dynamic=True),
    Filter("device", "choices", "device type(s)", ("subscribers", "primary_device"), dynamic=True),
    Filter("cdn", "choices", "CDN(s)", ("viewing_sessions", "cdn"), dynamic=True),
    Filter("isp", "choices", "ISP(s)", ("subscribers", "isp"), dynamic=True),
    Filter("granularity", "choice", "time bucket", ("hour", "day")),
    live_source="conviva", default_window="last 14 days",
)  # fmt: skip
def streaming_qoe(ctx: Context) -> pd.DataFrame:
    """Streaming quality of experience per hour (or day), CDN and device.

    Rebuffering ratio is time-weighted (stalled share of watch time), start
    failures and exits before start are shares of plays, startup time is the
    exact median of plays that started. Default: the last 14 days, hourly.
    """
    lo, hi = ctx.window(14)
    s = ctx.table("viewing_sessions")
    s = s.filter((s.start_time >= lo) & (s.start_time < hi))
    for col in ("region", "device", "cdn", "isp"):
        s = isin(s, col, ctx.get(col))
    unit = "h" if ctx.get("granularity", "hour") == "hour" else "D"
    started = s.rebuffering_ratio.notnull()
    agg = (
        s.mutate(timestamp=s.start_time.truncate(unit), _w=started.ifelse(s.watch_minutes, 0.0))
        .group_by(["timestamp", "cdn", "device"])
        .aggregate(
            plays=lambda t: t.count(),
            _stall=lambda t: (t.rebuffering_ratio * t.watch_minutes).sum(),
            _watch=lambda t: t._w.sum(),
            video_start_failure_rate=lambda t: share(t.video_start_failure),
            exit_before_video_start_rate=lambda t: share(t.exit_before_video_start),
            avg_bitrate_kbps=lambda t: t.avg_bitrate_kbps.mean(),
            startup_time_ms=lambda t: t.startup_time_ms.quantile(0.5),
        )
    )
    agg = agg.mutate(
        rebuffering_ratio=(agg._watch > 0).ifelse(agg._stall / agg._watch, ibis.null("float64"))
    ).drop("_stall", "_watch")
    df = agg.order_by(["timestamp", "cdn", "device"]).to_pandas()
    return df.assign(system="warehouse")


SEVERITIES = ("critical", "high", "medium", "low")
STATUSES = ("open", "in_progress", "blocked", "in_review", "done")


def issue_facts(ctx: Context) -> ibis.Table:
    """Production issues with derived cycle time, delay and overrun (as of the window end)."""
    t = ctx.table("production_issues")
    _, hi = ctx.window(365)
    end_ref = t.resolved.fill_null(ibis.literal(hi))
    return t.mutate(
        cycle_time_days=days_between(t.resolved, t.created),
        delay_days=ibis.greatest(days_between(end_ref, t.due), 0.0),
        cost_overrun_usd=ibis.greatest(t.actual_cost_usd - t.budget_usd, 0.0),
    )


@dataset(
    "production_issues",
    schemas.ProductionIssues,
    Filter("status", "choices", "issue status(es)", STATUSES),
    Filter("severity", "choices", "critical, high, medium, low", SEVERITIES),
    Filter("component", "choices", "component(s)", ("production_issues", "component"), dynamic=True),
    Filter("team", "choices", "owning team(s)", ("production_issues", "team"), dynamic=True),
    Filter("project", "choices", "Jira project(s)", ("production_issues", "project"), dynamic=True),
    Filter("show", "choices", "affected show(s)", ("production_issues", "show"), dynamic=True),
    START, END,
    live_source="jira", default_window="issues created in the last 365 days",
)  # fmt: skip
def production_issues(ctx: Context) -> pd.DataFrame:
    """Production issues (Jira) with cycle time, delay past due and cost overrun.

    Delay is measured at the window end for issues still open. Default: issues
    created in the last 365 days.
    """
    lo, hi = ctx.window(365)
    t = issue_facts(ctx)
    t = t.filter((t.created >= lo) & (t.created < hi))
    for col in ("status", "severity", "component", "team", "project", "show"):
        t = isin(t, col, ctx.get(col))
    df = t.drop("budget_usd", "actual_cost_usd").order_by(ibis.desc("created")).to_pandas()
    return df.assign(system="warehouse")


@dataset(
    "operational_efficiency",
    schemas.OperationalEfficiency,
    Filter("team", "choices", "owning team(s)", ("production_issues", "team"), dynamic=True),
    Filter("project", "choices", "Jira project(s)", ("production_issues", "project"), dynamic=True),
    START, END,
    default_window="last 90 days",
)  # fmt: skip
def operational_efficiency(ctx: Context) -> pd.DataFrame:
    """Delivery efficiency per team: throughput, WIP, on-time rate, cycle time, rework, cost.

    Over issues resolved in the window (on-time, cycle time, rework), created in
    it (intake), or open at its end (WIP). Default: the last 90 days.
    """
    lo, hi = ctx.window(90)
    t = issue_facts(ctx)
    t = isin(isin(t, "team", ctx.get("team")), "project", ctx.get("project"))
    tr = ctx.table("issue_transitions")
    blocked = (
        tr.filter(tr.to_status == "blocked")
        .select("key")
        .distinct()
        .mutate(_blocked=ibis.literal(1))
    )
    t = t.left_join(blocked, "key").drop("key_right")
    res = (t.resolved >= lo) & (t.resolved < hi)
    weeks = (hi - lo).total_seconds() / (7 * SECONDS_PER_DAY)

    def metrics(g: ibis.Table) -> dict[str, ibis.Value]:
        rf = res.ifelse(1, 0)
        return {
            "created": ((g.created >= lo) & (g.created < hi)).ifelse(1, 0).sum(),
            "resolved": rf.sum(),
            "wip": ((g.created < hi) & (g.resolved.isnull() | (g.resolved >= hi)))
            .ifelse(1, 0)
            .sum(),
            "_on_time": (res & (g.resolved <= g.due)).ifelse(1, 0).sum(),
            "cycle_time_median_days": res.ifelse(g.cycle_time_days, ibis.null("float64")).quantile(
                0.5
            ),
            "cycle_time_p90_days": res.ifelse(g.cycle_time_days, ibis.null("float64")).quantile(
                0.9
            ),
            "_blocked": (res & g._blocked.notnull()).ifelse(1, 0).sum(),
            "_rework": (res & (g.reopen_count > 0)).ifelse(1, 0).sum(),
            "cost_overrun_usd": res.ifelse(g.cost_overrun_usd, 0.0).sum(),
            "_actual": res.ifelse(g.actual_cost_usd, 0.0).sum(),
            "_budget": res.ifelse(g.budget_usd, 0.0).sum(),
        }

    per_team = t.group_by("team").aggregate(**metrics(t)).to_pandas().sort_values("team")
    overall = t.aggregate(**metrics(t)).to_pandas().assign(team="all")
    df = pd.concat([per_team, overall], ignore_index=True)
    resolved = df["resolved"].where(df["resolved"] > 0)
    df["throughput_per_week"] = df["resolved"] / weeks
    df["on_time_rate"] = (df["_on_time"] / resolved).fillna(0.0)
    df["blocked_rate"] = (df["_blocked"] / resolved).fillna(0.0)
    df["rework_rate"] = (df["_rework"] / resolved).fillna(0.0)
    df["budget_utilisation"] = df["_actual"] / df["_budget"].where(df["_budget"] > 0)
    df = df.drop(columns=[c for c in df.columns if c.startswith("_")])
    return df.sort_values("team", key=lambda s: s.eq("all"), kind="stable", ignore_index=True)
