"""Human labels and units for the identifiers people see: summary keys, columns, parameters.

A :class:`Term` says how one identifier reads: its label (``spent_usd`` ->
"Spent") and the unit of its values (``usd``). Identifiers mean the same thing
in every dataset and result, so one entry serves them all; the few that do
not (``created`` is a date in ``production_issues`` and a count in
``operational_efficiency``) have an entry per context. KPIs take their label
and unit from :mod:`opskit.metrics`, which is where a KPI is defined.

:func:`term` looks an identifier up; an identifier without an entry reads as
its words with unit ``number`` (a test checks that every identifier a report,
dataset or analysis shows has an entry, so the fallback is a safety net, not a
habit).
"""

from __future__ import annotations

from dataclasses import dataclass

from opskit.present.units import Unit, humanize

__all__ = ["TERMS", "Term", "has_term", "label", "term"]


@dataclass(frozen=True)
class Term:
    """How one identifier reads.

    Parameters
    ----------
    label
        What a person reads instead of the identifier.
    unit
        The unit of its values (see :mod:`opskit.present.units`).
    category
        Values are identifiers too (``high_rebuffering``) and read as words.
    """

    label: str
    unit: Unit = "number"
    category: bool = False


def _t(label: str, unit: Unit = "number", category: bool = False) -> Term:
    return Term(label, unit, category)


def _c(label: str) -> Term:
    return Term(label, "text", True)


_TEXT: Unit = "text"

#: Identifier -> how it reads, in every context unless :data:`CONTEXT` overrides it.
TERMS: dict[str, Term] = {
    # -- source systems -------------------------------------------------------------------
    "newrelic": _c("New Relic"), "dynatrace": _c("Dynatrace"), "jira": _c("Jira"),
    "conviva": _c("Conviva"), "confluence": _c("Confluence"), "warehouse": _c("Warehouse"),
    # -- people, plans, places ------------------------------------------------------------
    "plan": _c("Plan"), "region": _c("Region"), "device": _c("Device"), "cdn": _c("CDN"),
    "isp": _t("ISP", _TEXT), "channel": _c("Channel"), "payment_method": _c("Payment method"),
    "tenure_band": _t("Tenure", _TEXT), "cohort_id": _c("Cohort"), "segment": _c("Segment"),
    "subscriber_id": _t("Subscriber", _TEXT), "scope": _t("Scope", _TEXT),
    "subscribers": _t("Subscribers", "count"), "subscribers_at_start": _t("Subscribers at start", "count"),
    "churned": _t("Cancellations", "count"), "churned_30d": _t("Cancelled within 30 days", "count"),
    "churn_rate_monthly": _t("Monthly churn rate", "fraction"), "churn_rate": _t("Churn rate", "fraction"),
    "relative_risk": _t("Relative churn risk", "ratio"), "is_at_risk": _t("At risk", "flag"),
    "rebuffering_pct": _t("Rebuffering", "percent"), "payment_failure_rate": _t("Payment failures", "fraction"),
    "complaint_rate": _t("Complaint contact", "fraction"), "inactive_rate": _t("Inactive 30 days", "fraction"),
    "top_signal": _t("Strongest signal", _TEXT), "top_signal_lift": _t("Signal lift", "ratio"),
    "monthly_revenue_usd": _t("Monthly revenue", "usd"),
    "projected_churners_30d": _t("Expected cancellations, next 30 days", "count"),
    "revenue_at_risk_30d_usd": _t("Monthly revenue at risk, next 30 days", "usd"),
    "excess_revenue_at_risk_30d_usd": _t("Monthly revenue at risk above average churn", "usd"),
    "driver": _c("Churn driver"), "exposed_subscribers": _t("Exposed subscribers", "count"),
    "churn_rate_exposed": _t("Churn rate, exposed", "fraction"),
    "churn_rate_unexposed": _t("Churn rate, not exposed", "fraction"),
    "churners_attributed": _t("Cancellations attributed", "count"),
    "revenue_lost_annual_usd": _t("Revenue lost to cancellations", "usd"),
    "share": _t("Share", "fraction"), "cumulative_share": _t("Cumulative share", "fraction"),
    "net_adds": _t("Net adds", "count"), "revenue_usd": _t("Revenue", "usd"),
    "revenue_prev_usd": _t("Revenue, previous window", "usd"),
    "revenue_growth_pct": _t("Revenue growth", "percent"), "arpu_usd": _t("Revenue per subscriber", "usd"),
    "hours_per_subscriber": _t("Viewing hours per subscriber", "hours"), "top_genre": _c("Top genre"),
    "month": _t("Month", "month"), "tenure_days": _t("Tenure", "days"), "sessions": _t("Sessions", "count"),
    "watch_hours": _t("Watch hours", "hours"), "complaints": _t("Complaints", "count"),
    "payment_failures": _t("Payment failures", "count"), "has_content_gap": _t("Content gap", "flag"),
    "has_price_increase": _t("Price increase", "flag"), "churn_risk": _t("Predicted monthly churn risk", "fraction"),
    "group": _c("Group"),
    # -- complaints and topics --------------------------------------------------------------
    "theme": _c("Theme"), "tickets": _t("Tickets", "count"), "complainants": _t("Complainants", "count"),
    "tickets_prev": _t("Tickets, previous window", "count"), "trend_pct": _t("Change vs previous window", "percent"),
    "churn_lift": _t("Churn lift vs everyone", "ratio"), "median_resolution_h": _t("Median resolution", "hours"),
    "sample_ticket": _t("Example ticket", _TEXT), "effort": _c("Effort to fix"), "priority": _c("Priority"),
    "topic_id": _t("Topic", "count"), "top_terms": _t("Top terms", _TEXT), "recent_tickets": _t("Recent tickets", "count"),
    "previous_tickets": _t("Earlier tickets", "count"), "sentiment": _t("Sentiment", "number"),
    "week": _t("Week", "date"), "ticket_trend": _t("Change in tickets", "fraction"),
    "label_words": _t("Theme words", _TEXT), "churn_p_value": _t("p-value of the churn lift", "p_value"),
    # -- content ----------------------------------------------------------------------------
    "content_id": _t("Title id", _TEXT), "title": _t("Title", _TEXT), "genre": _c("Genre"), "tier": _c("Tier"),
    "release_date": _t("Released", "date"), "viewing_hours": _t("Viewing hours", "hours"),
    "viewers": _t("Viewers", "count"), "plays": _t("Plays", "count"), "hours_prev": _t("Viewing hours, previous window", "hours"),
    "production_cost_usd": _t("Production cost", "usd"), "cost_per_hour_usd": _t("Cost per viewing hour", "usd"),
    "viewer_retention": _t("Viewer retention", "fraction"),
    # -- production issues and teams -----------------------------------------------------------
    "key": _t("Issue", _TEXT), "project": _t("Project", _TEXT), "summary": _t("Summary", _TEXT),
    "issue_type": _c("Type"), "severity": _c("Severity"), "status": _c("Status"), "component": _c("Component"),
    "show": _t("Show", _TEXT), "team": _c("Team"), "root_cause": _c("Root cause"),
    "created": _t("Created", "date"), "resolved": _t("Resolved", "date"), "due": _t("Due", "date"),
    "cycle_time_days": _t("Cycle time", "days"), "delay_days": _t("Delay past due", "days"),
    "cost_overrun_usd": _t("Cost overrun", "usd"), "reopen_count": _t("Reopened", "count"),
    "throughput_per_week": _t("Resolved per week", "number"), "wip": _t("Open at window end", "count"),
    "on_time_rate": _t("On time", "fraction"), "cycle_time_median_days": _t("Median cycle time", "days"),
    "cycle_time_p90_days": _t("Cycle time, 90th percentile", "days"), "blocked_rate": _t("Blocked", "fraction"),
    "rework_rate": _t("Reopened", "fraction"), "budget_utilisation": _t("Budget used", "fraction"),
    "median_days": _t("Predicted days to resolve", "days"),
    "lower_50": _t("Days to resolve, 50 % low", "days"), "upper_50": _t("Days to resolve, 50 % high", "days"),
    "lower_90": _t("Days to resolve, 90 % low", "days"), "upper_90": _t("Days to resolve, 90 % high", "days"),
    "age_days": _t("Open for", "days"),
    # -- monitoring ---------------------------------------------------------------------------
    "timestamp": _t("Time", "timestamp"), "system": _t("Source", _TEXT), "entity": _t("Service or CDN", _TEXT),
    "metric": _c("Metric"), "problem_id": _t("Problem id", _TEXT), "display_id": _t("Problem", _TEXT),
    "impact_level": _c("Impact"), "severity_level": _c("Severity"), "start_time": _t("Started", "timestamp"),
    "end_time": _t("Ended", "timestamp"), "duration_min": _t("Duration", "minutes"),
    "management_zone": _t("Management zone", _TEXT), "rebuffering_ratio": _t("Rebuffering", "fraction"),
    "video_start_failure_rate": _t("Video start failures", "fraction"),
    "exit_before_video_start_rate": _t("Exits before start", "fraction"),
    "avg_bitrate_kbps": _t("Average bitrate", "kbps"), "startup_time_ms": _t("Startup time", "ms"),
    "kind": _c("Kind"), "alerts": _t("Alerts", "count"), "metrics_alerting": _t("Metrics alerting", "count"),
    "worst_alert_severity": _c("Worst alert"), "last_alert": _t("Last alert", "timestamp"),
    "problems": _t("Dynatrace problems", "count"), "open_problems": _t("Open problems", "count"),
    "health_status": _c("Status"), "status_reason": _t("Why", _TEXT), "start": _t("Started", "timestamp"),
    "end": _t("Ended", "timestamp"), "n_points": _t("Points", "count"), "max_score": _t("Peak score", "number"),
    "minutes_alerting": _t("Minutes alerting", "minutes"), "expected": _t("Expected", "number"),
    "score": _t("Anomaly score", "number"), "lower": _t("Expected, low", "number"),
    "upper": _t("Expected, high", "number"), "is_anomaly": _t("Anomaly", "flag"),
    "is_alert": _t("Alert", "flag"), "detector": _t("Detector", _TEXT),
    # -- campaigns ----------------------------------------------------------------------------
    "campaign_id": _t("Campaign", _TEXT), "name": _t("Name", _TEXT), "start_date": _t("Start", "date"),
    "end_date": _t("End", "date"), "treated": _t("Treated", "count"), "control": _t("Control", "count"),
    "retention_treated": _t("Retention, treated", "fraction"), "retention_control": _t("Retention, control", "fraction"),
    "uplift": _t("Retention uplift", "pp"), "uplift_ci_low": _t("Uplift, low", "pp"),
    "uplift_ci_high": _t("Uplift, high", "pp"), "p_value": _t("p-value", "p_value"),
    "is_significant": _t("Significant", "flag"), "subscribers_saved": _t("Subscribers saved", "count"),
    "budget_usd": _t("Budget", "usd"), "cost_per_save_usd": _t("Cost per save", "usd"),
    "revenue_saved_annual_usd": _t("Revenue saved", "usd"), "roi": _t("ROI", "fraction"),
    "effect_size": _t("Effect size", "number"), "total": _t("Total", "count"),
    # -- Pareto ---------------------------------------------------------------------------------
    "dimension": _c("Dimension"), "item": _c("Item"), "rank": _t("Rank", "count"),
    "is_vital_few": _t("Vital few", "flag"), "abc_class": _t("Class", _TEXT), "n_rows": _t("Rows", "count"),
    "share_of_total": _t("Share of total", "fraction"), "is_on_vital_path": _t("On the vital path", "flag"),
    "level": _t("Level", "count"),
    # -- churn model --------------------------------------------------------------------------
    "term": _c("Model term"), "driver_name": _t("Driver", _TEXT), "feature": _c("Feature"), "reference": _t("Compared with", _TEXT),
    "odds_ratio": _t("Odds ratio", "ratio"), "ci_low": _t("95 % low", "ratio"), "ci_high": _t("95 % high", "ratio"),
    "coef": _t("Coefficient", "number"), "std_coef": _t("Standardised coefficient", "number"),
    "se": _t("Standard error", "number"), "prevalence": _t("Prevalence", "fraction"),
    # -- forecasts and initiatives --------------------------------------------------------------
    "step": _t("Day ahead", "count"), "yhat": _t("Forecast", "usd"), "yhat_lower": _t("Forecast, low", "usd"),
    "yhat_upper": _t("Forecast, high", "usd"), "model": _t("Model", _TEXT), "scenario": _t("Scenario", _TEXT),
    "initiative": _t("Initiative", _TEXT), "cost_usd": _t("Cost", "usd"),
    "recovered_usd": _t("Expected revenue recovered", "usd"), "recovered_sd_usd": _t("Uncertainty (sd)", "usd"),
    "recovered_low_usd": _t("Recovered, low", "usd"), "recovered_high_usd": _t("Recovered, high", "usd"),
    "net_value_usd": _t("Net value", "usd"), "model_driver": _c("Model driver"),
    "exposed_share": _t("Exposed", "fraction"), "churners_per_month": _t("Cancellations it causes per month", "count"),
    "revenue_lost_per_month_usd": _t("Revenue it costs per month", "usd"), "net_low_usd": _t("Net value, low", "usd"),
    "net_high_usd": _t("Net value, high", "usd"), "payback_months": _t("Payback", "months"),
    "is_selected": _t("Selected", "flag"), "pays_back": _t("Pays back", "flag"),
    "month_start": _t("Month", "month"), "revenue_forecast_usd": _t("Forecast revenue", "usd"),
    "revenue_low_usd": _t("Forecast, low", "usd"), "revenue_high_usd": _t("Forecast, high", "usd"),
    "days_in_month": _t("Days", "count"), "mase": _t("MASE", "number"), "relative_mae": _t("Error vs seasonal naive", "ratio"),
    "candidate": _t("Candidate", _TEXT), "coverage": _t("Interval coverage", "fraction"),
    "mase_vs_naive": _t("MASE vs seasonal naive", "ratio"), "is_chosen": _t("Chosen", "flag"),
    # -- analysis summaries -------------------------------------------------------------------
    "window": _t("Window", _TEXT), "window_days": _t("Window", "days"), "at_risk_cohorts": _t("At-risk cohorts", "count"),
    "revenue_lost_actionable_usd": _t("Revenue lost to named drivers", "usd"),
    "strongest_driver": _t("Strongest driver", _TEXT), "themes": _t("Themes", "count"),
    "revenue_lost_complainants_usd": _t("Revenue lost to complainants' cancellations", "usd"),
    "quick_wins": _t("Quick wins", _TEXT), "fastest_growing": _t("Fastest-growing theme", _TEXT),
    "issues": _t("Issues", "count"), "open_issues": _t("Open issues", "count"),
    "critical_path_issues": _t("On the critical path", "count"), "top3_delay_share": _t("Delay held by the top 3", "fraction"),
    "delay_days_total": _t("Total delay past due", "days"), "cost_overrun_usd_total": _t("Total cost overrun", "usd"),
    "concentration": _t("Concentration", _TEXT), "horizon_months": _t("Horizon (months)", "count"),
    "forecast_revenue_usd": _t("Forecast revenue", "usd"), "spent_usd": _t("Spent", "usd"),
    "selected": _t("Funded", _TEXT), "paying_initiatives": _t("Initiatives that pay back", "count"),
    "baseline_loss_usd": _t("Revenue the named drivers will cost", "usd"),
    "greedy_net_value_usd": _t("Net value of the greedy-by-ROI rule", "usd"), "gap_usd": _t("Loss not recovered", "usd"),
    "recovery_share": _t("Share of the loss recovered", "fraction"), "cohort": _c("Cohort"),
    "cohort_subscribers": _t("Subscribers in the cohort", "count"), "targeted": _t("Targeted", "count"),
    "campaign_cost_usd": _t("Campaign cost", "usd"), "expected_saves": _t("Expected saves", "count"),
    "saves_low": _t("Saves, low", "count"), "saves_high": _t("Saves, high", "count"),
    "revenue_saved_usd": _t("Revenue saved", "usd"),
    "breakeven_uplift": _t("Uplift needed to break even", "pp"), "vital_few": _t("Vital few", _TEXT),
    "series_scanned": _t("Series scanned", "count"), "critical_services": _t("Critical services and CDNs", "count"),
    "degraded_services": _t("Degraded services and CDNs", "count"), "problems_in_window": _t("Dynatrace problems", "count"),
    # -- KPIs (the values' units are in the frame's unit column) ----------------------------------
    "kpi": _t("KPI id", _TEXT), "label": _t("Name", _TEXT), "value": _t("Value", "number"),
    "previous": _t("Previous window", "number"), "change": _t("Change", "number"), "unit": _t("Unit", _TEXT),
    "higher_is_better": _t("Higher is better", "flag"), "window_start": _t("From", "date"),
    "window_end": _t("Until (not included)", "date"), "filters_ignored": _t("Filters not applied", _TEXT),
    "provenance": _t("Data", _TEXT),
}  # fmt: skip

#: Identifiers whose meaning depends on the dataset or result they appear in.
CONTEXT: dict[str, dict[str, Term]] = {
    "kpi_summary": {"label": _t("KPI", _TEXT)},
    "initiative_mix": {"level": _t("Interval level", "fraction")},
    "catalog": {
        "name": _t("Dataset", _TEXT),
        "rows": _t("Rows", "count"),
        "provenance": _t("Data", _TEXT),
        "as_of": _t("Data up to", "timestamp"),
        "default_window": _t("Default window", _TEXT),
        "summary": _t("What it is", _TEXT),
        "filters": _t("Filters", _TEXT),
    },
    # report and tool parameters
    "parameters": {
        "budget": _t("Budget", "usd"),
        "months": _t("Horizon", "months"),
        "scenario": _t("Scenario", _TEXT),
        "objective": _t("Objective", _TEXT),
        "days": _t("Window", "days"),
        "region": _t("Region", _TEXT),
        "plan": _t("Plan", _TEXT),
        "top_findings": _t("Findings listed", "count"),
        "window_days": _t("Window", "days"),
        "cohort": _t("Cohort", _TEXT),
        "include_recommendations": _t("With recommendations", "flag"),
        "days_back": _t("Window", "days"),
        "fixable_only": _t("Fixable themes only", "flag"),
        "max_themes": _t("Themes kept", "count"),
        "severity": _t("Severity", _TEXT),
        "by": _t("Pareto by", _TEXT),
        "critical_delay_days": _t("Critical path from", "days"),
        "timeline_days": _t("Campaign length", "days"),
        "cost_per_contact": _t("Cost per contact", "usd"),
        "resolution": _t("Resolution", _TEXT),
        "include_qoe": _t("With streaming QoE", "flag"),
        "level": _t("Interval level", "fraction"),
        "target": _t("Vital-few target", "fraction"),
        "n_text_topics": _t("Text topics", "count"),
        "control_share": _t("Control group", "fraction"),
    },
    "operational_efficiency": {
        "created": _t("Issues created", "count"),
        "resolved": _t("Issues resolved", "count"),
    },
}


def term(key: str, context: str | None = None) -> Term:
    """How ``key`` reads (in ``context``, a dataset or result name, when it matters).

    Examples
    --------
    >>> term("cost_overrun_usd")
    Term(label='Cost overrun', unit='usd', category=False)
    >>> term("created", "operational_efficiency").unit, term("created").unit
    ('count', 'date')
    >>> term("no_such_identifier")
    Term(label='No such identifier', unit='number', category=False)
    """
    if context is not None and key in CONTEXT.get(context, {}):
        return CONTEXT[context][key]
    found = TERMS.get(key)
    if found is not None:
        return found
    words = humanize(key)
    return Term(words[:1].upper() + words[1:])


def has_term(key: str, context: str | None = None) -> bool:
    """Whether ``key`` has an entry (in ``context`` or everywhere)."""
    return key in TERMS or (context is not None and key in CONTEXT.get(context, {}))


def label(key: str, context: str | None = None) -> str:
    """The label of ``key`` (see :func:`term`).

    >>> label("spent_usd"), label("p_value")
    ('Spent', 'p-value')
    """
    return term(key, context).label
