"""The warehouse's base tables: the documented DDL.

Each table is declared once, here, as ``column -> (type, description)``. Types are
Ibis type strings, so the same declaration creates the table on DuckDB (the
embedded default), PostgreSQL or Spark. Writers cast every frame to this schema
before it lands, so a table never drifts from its documentation.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import pyarrow as pa

__all__ = ["TABLES", "TableSpec"]

TS = "timestamp('UTC', 6)"


@dataclass(frozen=True)
class TableSpec:
    """One base table: name, purpose and typed, documented columns."""

    name: str
    doc: str
    columns: dict[str, tuple[str, str]]

    @property
    def schema(self) -> ibis.Schema:
        return ibis.schema({c: t for c, (t, _) in self.columns.items()})

    @property
    def arrow_schema(self) -> pa.Schema:
        return self.schema.to_pyarrow()


def _spec(name: str, doc: str, /, **columns: tuple[str, str]) -> TableSpec:
    return TableSpec(name, doc, dict(columns))


TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        _spec(
            "subscribers",
            "One row per subscriber who was active at any time in the data's year.",
            subscriber_id=("int64", "primary key"),
            signup_at=(TS, "first subscription start"),
            plan=("string", "plan at the end of the data (see subscriptions for history)"),
            region=("string", "billing region"),
            isp=("string", "home internet provider"),
            primary_device=("string", "device used most"),
            acquisition_channel=("string", "how the subscriber was acquired"),
            payment_method=("string", "card | paypal | carrier_billing | gift_card"),
            favourite_genre=("string", "taste-profile genre chosen at onboarding"),
        ),
        _spec(
            "subscriptions",
            "Subscription events: signup, cancel, plan_change, price_change, payment_failed.",
            subscriber_id=("int64", "subscriber"),
            event_time=(TS, "when it happened"),
            event_type=("string", "signup | cancel | plan_change | price_change | payment_failed"),
            plan=("string", "plan after the event"),
            price_usd=("float64", "monthly list price after the event"),
            detail=("string", "acquisition channel for signups, else empty"),
        ),
        _spec(
            "viewing_sessions",
            "One row per playback attempt, with quality-of-experience measures.",
            session_id=("int64", "primary key"),
            subscriber_id=("int64", "viewer"),
            start_time=(TS, "playback request time"),
            content_id=("string", "title watched"),
            device=("string", "device type"),
            cdn=("string", "CDN that served the stream"),
            isp=("string", "viewer's ISP"),
            region=("string", "viewer's region"),
            startup_time_ms=("float64", "time to first frame; null if the video never started"),
            rebuffering_ratio=(
                "float64",
                "stalled / (playing + stalled) time; null if never started",
            ),
            avg_bitrate_kbps=("float64", "mean delivered bitrate; null if never started"),
            video_start_failure=("boolean", "the play failed with an error before the first frame"),
            exit_before_video_start=("boolean", "the viewer quit before the first frame"),
            watch_minutes=("float64", "minutes watched"),
        ),
        _spec(
            "content",
            "The content catalogue.",
            content_id=("string", "primary key"),
            title=("string", "display title"),
            genre=("string", "genre"),
            tier=("string", "flagship | catalog"),
            release_date=(TS, "date it became available"),
            production_cost_usd=("float64", "production or licence cost"),
        ),
        _spec(
            "content_daily",
            "Viewing per title and day (aggregated from viewing_sessions).",
            date=("date", "UTC day"),
            content_id=("string", "title"),
            plays=("int64", "playback attempts"),
            viewers=("int64", "distinct subscribers"),
            viewing_hours=("float64", "hours watched"),
        ),
        _spec(
            "complaints",
            "Customer complaint tickets with free text.",
            ticket_id=("string", "primary key"),
            subscriber_id=("int64", "who complained"),
            created_at=(TS, "opened"),
            resolved_at=(TS, "closed; null while open"),
            channel=("string", "app | web_form | chat | phone | email | social"),
            category=("string", "category picked by the support agent"),
            device=("string", "device named in the ticket"),
            text=("string", "ticket text"),
        ),
        _spec(
            "production_issues",
            "Jira-like production issues (one row per issue, state at the data's end).",
            key=("string", "issue key"),
            project=("string", "Jira project"),
            summary=("string", "title"),
            issue_type=("string", "Bug | Task"),
            priority=("string", "Highest..Lowest"),
            severity=("string", "critical | high | medium | low"),
            status=("string", "open | in_progress | blocked | in_review | done"),
            component=("string", "component"),
            show=("string", "affected show, if any"),
            team=("string", "owning team"),
            root_cause=("string", "root-cause category"),
            created=(TS, "created"),
            resolved=(TS, "resolved; null if not done"),
            due=(TS, "due date (created + planned days for the severity)"),
            budget_usd=("float64", "budgeted cost"),
            actual_cost_usd=("float64", "cost booked so far"),
            reopen_count=("int64", "times reopened"),
        ),
        _spec(
            "issue_transitions",
            "Status transitions of production issues.",
            key=("string", "issue key"),
            from_status=("string", "old status"),
            to_status=("string", "new status"),
            transitioned_at=(TS, "when"),
        ),
        _spec(
            "apm_metrics",
            "Minute-level application metrics (New Relic-like), long format.",
            timestamp=(TS, "minute"),
            service=("string", "service name"),
            metric=(
                "string",
                "throughput_rpm | latency_p50_ms | latency_p95_ms | error_rate | apdex",
            ),
            value=("float64", "value; null = telemetry gap"),
        ),
        _spec(
            "problems",
            "Dynatrace-like problems (incidents).",
            problem_id=("string", "primary key"),
            display_id=("string", "P-number"),
            title=("string", "title"),
            impact_level=("string", "APPLICATION | SERVICES | ..."),
            severity_level=("string", "AVAILABILITY | ERROR | PERFORMANCE | ..."),
            status=("string", "OPEN | CLOSED"),
            start_time=(TS, "opened"),
            end_time=(TS, "closed; null while open"),
            service=("string", "affected service"),
            root_cause=("string", "root-cause entity, if identified"),
            management_zone=("string", "management zone"),
        ),
        _spec(
            "campaigns",
            "Retention campaigns.",
            campaign_id=("string", "primary key"),
            name=("string", "name"),
            segment=("string", "targeting rule"),
            start_date=(TS, "start"),
            end_date=(TS, "end of the outcome window"),
            budget_usd=("float64", "budget"),
            channel=("string", "outreach channel"),
            cost_per_contact_usd=("float64", "cost per treated subscriber"),
        ),
        _spec(
            "initiatives",
            "Planned retention initiatives: what each costs and how much of one churn driver's "
            "attributable cancellations it is expected to prevent (the planning team's estimate).",
            initiative_id=("string", "primary key"),
            name=("string", "what the initiative does"),
            driver=("string", "the revenue_impact churn driver it acts on"),
            setup_cost_usd=("float64", "one-off cost to start it"),
            monthly_cost_usd=("float64", "running cost per month"),
            effect=(
                "float64",
                "expected share of the driver's attributable cancellations prevented",
            ),
            effect_sd=("float64", "uncertainty (standard deviation) of that share"),
            requires=("string", "initiative ids it depends on (comma-separated; empty if none)"),
            excludes=(
                "string",
                "initiative ids it cannot run with (comma-separated; empty if none)",
            ),
        ),
        _spec(
            "campaign_assignments",
            "Randomised assignment of eligible subscribers to treatment or control.",
            campaign_id=("string", "campaign"),
            subscriber_id=("int64", "subscriber"),
            group=("string", "treatment | control"),
        ),
        _spec(
            "revenue",
            "Daily recognised revenue by plan and region.",
            date=("date", "UTC day"),
            plan=("string", "plan"),
            region=("string", "region"),
            active_subscribers=("int64", "subscribers active that day"),
            subscription_revenue_usd=("float64", "recognised subscription revenue"),
            ad_revenue_usd=("float64", "advertising revenue"),
            transactional_revenue_usd=(
                "float64",
                "rentals and pay-per-view events bought that day",
            ),
        ),
        _spec(
            "demo_truth",
            "What the demo generator planted (see opskit.demo.truth). Never read by analytics.",
            kind=("string", "kind of fact"),
            name=("string", "name"),
            subject=("string", "what it is about"),
            start=(TS, "event start"),
            end=(TS, "event end"),
            value=("float64", "planted value"),
            unit=("string", "unit"),
            detail=("string", "detail"),
        ),
        _spec(
            "demo_truth_tickets",
            "True theme of each demo complaint ticket (for topic-model evaluation).",
            ticket_id=("string", "ticket"),
            theme=("string", "true theme"),
        ),
        _spec(
            "opskit_meta",
            "Build metadata of the warehouse (one row per key).",
            key=("string", "key"),
            value=("string", "value"),
        ),
    )
}
