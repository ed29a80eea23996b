"""Documented, checked shapes of every frame opskit returns (pandera models).

Each model is the contract of one dataset or result. Columns are named through
the model (``ApmHealth.value``) rather than as string literals in code that
uses them. :func:`validate` checks a frame lazily (all failures at once) and
translates pandera's error into :class:`opskit.errors.SchemaViolation`.

Conventions: time columns are UTC ``timestamp`` (or ``*_at`` / ``date``),
money is USD, rates are fractions in [0, 1], every frame ends with a
``provenance`` column (``demo`` | ``cache`` | ``live``).
"""

from __future__ import annotations

from typing import TypeVar

import pandas as pd
import pandera.errors as pa_errors
import pandera.pandas as pa
from pandera.typing import Series

from opskit.errors import SchemaViolation
from opskit.provenance import KINDS

__all__ = [
    "ApmHealth",
    "ChurnSignals",
    "ComplaintsTopics",
    "ContentCatalog",
    "InternationalMarkets",
    "OperationalEfficiency",
    "OpsFrame",
    "ParetoAnalysis",
    "Problems",
    "ProductionIssues",
    "RetentionCampaigns",
    "RevenueImpact",
    "StreamingQoe",
    "columns",
    "validate",
]

UTC = {"unit": "us", "tz": "UTC"}
PROVENANCE = {"categories": list(KINDS), "ordered": False}
Timestamp = Series[pd.DatetimeTZDtype]
Provenance = Series[pd.CategoricalDtype]

F = TypeVar("F", bound=pd.DataFrame)


class OpsFrame(pa.DataFrameModel):
    """Base of every dataset: a provenance column, strict columns, coercion."""

    provenance: Provenance = pa.Field(dtype_kwargs=PROVENANCE)

    class Config:
        strict = True
        coerce = True


class ApmHealth(OpsFrame):
    """Application health metrics, long format (one row per entity, metric, time).

    ``system`` is ``newrelic`` for live data and ``warehouse`` for demo/cached.
    Metrics: ``throughput_rpm``, ``latency_p50_ms``, ``latency_p95_ms``,
    ``error_rate`` (fraction), ``apdex`` (0..1); infrastructure metrics such as
    ``cpu_pct`` may appear from live hosts.
    """

    timestamp: Timestamp = pa.Field(dtype_kwargs=UTC)
    system: Series[str]
    entity: Series[str] = pa.Field(description="service (APM) or host (infrastructure)")
    metric: Series[str]
    value: Series[float] = pa.Field(nullable=True, description="NaN = missing")


class Problems(OpsFrame):
    """Dynatrace-style problems (incidents), one row per problem."""

    problem_id: Series[str] = pa.Field(unique=True)
    display_id: Series[str]
    title: Series[str]
    impact_level: Series[str] = pa.Field(
        description="APPLICATION|SERVICES|INFRASTRUCTURE|ENVIRONMENT"
    )
    severity_level: Series[str] = pa.Field(description="AVAILABILITY|ERROR|PERFORMANCE|...")
    status: Series[str] = pa.Field(isin=["OPEN", "CLOSED"])
    start_time: Timestamp = pa.Field(dtype_kwargs=UTC)
    end_time: Timestamp = pa.Field(dtype_kwargs=UTC, nullable=True, description="NaT while open")
    duration_min: Series[float] = pa.Field(ge=0, nullable=True)
    entity: Series[str] = pa.Field(description="first affected entity (service/host) name")
    root_cause: Series[str] = pa.Field(nullable=True)
    management_zone: Series[str] = pa.Field(nullable=True)
    system: Series[str]


class ProductionIssues(OpsFrame):
    """Production issues (Jira), one row per issue.

    ``delay_days`` is days past the due date (resolved late, or still open past
    due, measured at the data's as-of time), never negative. ``cost_overrun_usd``
    is actual minus budgeted cost, floored at 0.
    """

    key: Series[str] = pa.Field(unique=True)
    project: Series[str]
    summary: Series[str]
    issue_type: Series[str]
    priority: Series[str] = pa.Field(isin=["Highest", "High", "Medium", "Low", "Lowest"])
    severity: Series[str] = pa.Field(isin=["critical", "high", "medium", "low"])
    status: Series[str] = pa.Field(isin=["open", "in_progress", "blocked", "in_review", "done"])
    component: Series[str] = pa.Field(nullable=True)
    show: Series[str] = pa.Field(nullable=True)
    team: Series[str] = pa.Field(nullable=True)
    root_cause: Series[str] = pa.Field(nullable=True)
    created: Timestamp = pa.Field(dtype_kwargs=UTC)
    resolved: Timestamp = pa.Field(dtype_kwargs=UTC, nullable=True)
    due: Timestamp = pa.Field(dtype_kwargs=UTC, nullable=True)
    cycle_time_days: Series[float] = pa.Field(ge=0, nullable=True)
    delay_days: Series[float] = pa.Field(ge=0, nullable=True)
    cost_overrun_usd: Series[float] = pa.Field(ge=0, nullable=True)
    reopen_count: Series[int] = pa.Field(ge=0)
    system: Series[str]


class StreamingQoe(OpsFrame):
    """Streaming quality of experience per hour, CDN and device.

    Rates are fractions of plays (attempts). ``rebuffering_ratio`` is stalled
    time over playing+stalled time. ``startup_time_ms`` is the exact median over
    plays that started. Live Conviva data that is split by one dimension only
    has ``"all"`` in the other.
    """

    timestamp: Timestamp = pa.Field(dtype_kwargs=UTC)
    cdn: Series[str]
    device: Series[str]
    plays: Series[int] = pa.Field(ge=0)
    rebuffering_ratio: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=True)
    video_start_failure_rate: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=True)
    exit_before_video_start_rate: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=True)
    avg_bitrate_kbps: Series[float] = pa.Field(ge=0, nullable=True)
    startup_time_ms: Series[float] = pa.Field(ge=0, nullable=True)
    system: Series[str]


class ChurnSignals(OpsFrame):
    """Subscriber cohorts (plan x region x tenure band) with churn behaviour.

    ``churn_rate_monthly`` is observed over the window (cancellations / subscriber
    months at risk); ``relative_risk`` compares it with all subscribers;
    ``top_signal`` is the behavioural signal most over-represented in the cohort
    relative to everyone (lift = cohort rate / overall rate).
    """

    cohort_id: Series[str] = pa.Field(unique=True)
    plan: Series[str]
    region: Series[str]
    tenure_band: Series[str] = pa.Field(isin=["0-3m", "3-12m", "1-2y", "2y+"])
    subscribers: Series[int] = pa.Field(ge=0, description="active at the window end")
    subscribers_at_start: Series[int] = pa.Field(ge=0)
    churned: Series[int] = pa.Field(ge=0, description="cancellations in the window")
    churn_rate_monthly: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=True)
    relative_risk: Series[float] = pa.Field(ge=0, nullable=True)
    rebuffering_pct: Series[float] = pa.Field(ge=0, nullable=True)
    payment_failure_rate: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=True)
    complaint_rate: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=True)
    inactive_rate: Series[float] = pa.Field(
        ge=0.0, le=1.0, nullable=True, description="no viewing in the last 30 days"
    )
    top_signal: Series[str] = pa.Field(nullable=True)
    top_signal_lift: Series[float] = pa.Field(ge=0, nullable=True)
    monthly_revenue_usd: Series[float] = pa.Field(ge=0)
    projected_churners_30d: Series[float] = pa.Field(ge=0)
    revenue_at_risk_30d_usd: Series[float] = pa.Field(ge=0)
    is_at_risk: Series[bool]


class ComplaintsTopics(OpsFrame):
    """Complaint themes (the support agents' categories) with volume, trend and churn link."""

    theme: Series[str] = pa.Field(unique=True)
    tickets: Series[int] = pa.Field(ge=0)
    complainants: Series[int] = pa.Field(ge=0)
    share: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=True)
    tickets_prev: Series[int] = pa.Field(ge=0, description="tickets in the window before")
    trend_pct: Series[float] = pa.Field(nullable=True, description="change vs previous window, %")
    churned_30d: Series[int] = pa.Field(
        ge=0, description="complainants who cancelled within 30 days (censored at as-of)"
    )
    churn_rate_monthly: Series[float] = pa.Field(
        ge=0.0, le=1.0, nullable=True, description="cancellations per subscriber-month of follow-up"
    )
    churn_lift: Series[float] = pa.Field(
        ge=0, nullable=True, description="vs everyone's monthly churn rate in the window"
    )
    revenue_lost_annual_usd: Series[float] = pa.Field(ge=0)
    median_resolution_h: Series[float] = pa.Field(ge=0, nullable=True)
    sample_ticket: Series[str] = pa.Field(nullable=True, description="text of one ticket")


class ContentCatalog(OpsFrame):
    """Titles with viewing in the window, trend, cost efficiency and viewer retention."""

    content_id: Series[str] = pa.Field(unique=True)
    title: Series[str]
    genre: Series[str]
    tier: Series[str]
    release_date: Timestamp = pa.Field(dtype_kwargs=UTC)
    viewing_hours: Series[float] = pa.Field(ge=0)
    viewers: Series[int] = pa.Field(ge=0)
    plays: Series[int] = pa.Field(ge=0)
    hours_prev: Series[float] = pa.Field(ge=0)
    trend_pct: Series[float] = pa.Field(nullable=True)
    production_cost_usd: Series[float] = pa.Field(ge=0)
    cost_per_hour_usd: Series[float] = pa.Field(
        ge=0, nullable=True, description="cost / lifetime hours"
    )
    viewer_retention: Series[float] = pa.Field(
        ge=0.0, le=1.0, nullable=True, description="window viewers still subscribed at the end"
    )


class InternationalMarkets(OpsFrame):
    """One row per region: subscribers, growth, churn, revenue, engagement and QoE."""

    region: Series[str] = pa.Field(unique=True)
    subscribers: Series[int] = pa.Field(ge=0)
    net_adds: Series[int]
    churn_rate_monthly: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=True)
    revenue_usd: Series[float] = pa.Field(ge=0)
    revenue_prev_usd: Series[float] = pa.Field(ge=0)
    revenue_growth_pct: Series[float] = pa.Field(nullable=True)
    arpu_usd: Series[float] = pa.Field(
        ge=0, nullable=True, description="monthly revenue per subscriber"
    )
    hours_per_subscriber: Series[float] = pa.Field(ge=0, nullable=True)
    rebuffering_ratio: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=True)
    video_start_failure_rate: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=True)
    top_genre: Series[str] = pa.Field(nullable=True)


class RevenueImpact(OpsFrame):
    """Annualised revenue lost to cancellations, attributed to drivers without double counting.

    Each cancelled subscriber's annualised revenue is split between the drivers
    they were exposed to in the 30 days before cancelling, in proportion to each
    driver's log relative risk, after taking out the baseline share
    ``1 / prod(RR)``; the baseline goes to ``baseline``. The rows therefore sum
    exactly to the total lost revenue.
    """

    driver: Series[str] = pa.Field(unique=True)
    relative_risk: Series[float] = pa.Field(ge=0, nullable=True)
    exposed_subscribers: Series[int] = pa.Field(ge=0)
    churn_rate_exposed: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=True)
    churn_rate_unexposed: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=True)
    churners_attributed: Series[float] = pa.Field(ge=0)
    revenue_lost_annual_usd: Series[float] = pa.Field(ge=0)
    share: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=True)


class RetentionCampaigns(OpsFrame):
    """Retention campaigns measured against their randomised control groups."""

    campaign_id: Series[str] = pa.Field(unique=True)
    name: Series[str]
    segment: Series[str]
    status: Series[str] = pa.Field(isin=["completed", "running"])
    start_date: Timestamp = pa.Field(dtype_kwargs=UTC)
    end_date: Timestamp = pa.Field(dtype_kwargs=UTC)
    treated: Series[int] = pa.Field(ge=0)
    control: Series[int] = pa.Field(ge=0)
    retention_treated: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=True)
    retention_control: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=True)
    uplift: Series[float] = pa.Field(
        ge=-1, le=1, description="retention difference, treated - control"
    )
    uplift_ci_low: Series[float] = pa.Field(ge=-1, le=1)
    uplift_ci_high: Series[float] = pa.Field(ge=-1, le=1)
    p_value: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=True)
    is_significant: Series[bool]
    subscribers_saved: Series[float]
    budget_usd: Series[float] = pa.Field(ge=0)
    cost_per_save_usd: Series[float] = pa.Field(nullable=True)
    revenue_saved_annual_usd: Series[float]
    roi: Series[float] = pa.Field(nullable=True, description="(revenue saved - budget) / budget")


class Initiatives(OpsFrame):
    """Planned retention initiatives: cost and expected effect on one churn driver."""

    initiative_id: Series[str] = pa.Field(unique=True)
    name: Series[str]
    driver: Series[str]
    setup_cost_usd: Series[float] = pa.Field(ge=0)
    monthly_cost_usd: Series[float] = pa.Field(ge=0)
    effect: Series[float] = pa.Field(
        ge=0.0, le=1.0, description="share of the driver's attributable cancellations prevented"
    )
    effect_sd: Series[float] = pa.Field(ge=0.0)
    requires: Series[str] = pa.Field(description="initiative ids it depends on, comma-separated")
    excludes: Series[str] = pa.Field(
        description="initiative ids it cannot run with, comma-separated"
    )


class OperationalEfficiency(OpsFrame):
    """Delivery health of production issues per team (plus an ``all`` row)."""

    team: Series[str] = pa.Field(unique=True)
    created: Series[int] = pa.Field(ge=0)
    resolved: Series[int] = pa.Field(ge=0)
    throughput_per_week: Series[float] = pa.Field(ge=0)
    wip: Series[int] = pa.Field(ge=0, description="open at the window end")
    on_time_rate: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=True)
    cycle_time_median_days: Series[float] = pa.Field(ge=0, nullable=True)
    cycle_time_p90_days: Series[float] = pa.Field(ge=0, nullable=True)
    blocked_rate: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=True)
    rework_rate: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=True)
    cost_overrun_usd: Series[float] = pa.Field(ge=0)
    budget_utilisation: Series[float] = pa.Field(ge=0, nullable=True)


class ParetoAnalysis(OpsFrame):
    """Pareto tables across domains: which few items hold most of the impact."""

    dimension: Series[str]
    item: Series[str]
    value: Series[float] = pa.Field(ge=0)
    unit: Series[str]
    rank: Series[int] = pa.Field(ge=1)
    share: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=True)
    cumulative_share: Series[float] = pa.Field(ge=0, le=1.0000001)
    is_vital_few: Series[bool]
    abc_class: Series[str] = pa.Field(isin=["A", "B", "C"])


def columns(schema: type[pa.DataFrameModel]) -> list[str]:
    """The schema's columns in display order (``provenance`` last)."""
    names = list(schema.to_schema().columns)
    return [c for c in names if c != "provenance"] + (
        ["provenance"] if "provenance" in names else []
    )


def validate(frame: F, schema: type[pa.DataFrameModel]) -> F:
    """Check ``frame`` against ``schema``, coercing dtypes; keep ``attrs``.

    Raises
    ------
    SchemaViolation
        Listing every failing check in ``failure_cases``.
    """
    attrs = dict(frame.attrs)
    order = columns(schema)
    if set(order) == set(frame.columns):
        frame = frame[order]
    try:
        out = schema.validate(frame, lazy=True)
    except pa_errors.SchemaErrors as exc:
        cases = exc.failure_cases
        summary = "; ".join(sorted({f"{r.column}: {r.check}" for r in cases.head(20).itertuples()}))
        raise SchemaViolation(
            f"frame does not match {schema.__name__}: {summary}", failure_cases=cases
        ) from None
    out.attrs.update(attrs)
    return out
