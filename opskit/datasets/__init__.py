"""The named datasets of the catalog, listed explicitly in :data:`REGISTRY`."""

from __future__ import annotations

from opskit.datasets import audience, business, features, kpis, ops, pareto
from opskit.datasets._registry import Context, Dataset, Filter

__all__ = ["REGISTRY", "SEED_RESOURCES", "Context", "Dataset", "Filter"]

#: The seed platform's nine resources, in its order.
SEED_RESOURCES = (
    business.churn_signals,
    audience.complaints_topics,
    ops.production_issues,
    audience.content_catalog,
    audience.international_markets,
    business.revenue_impact,
    business.retention_campaigns,
    ops.operational_efficiency,
    pareto.pareto_analysis,
)
#: Monitoring feeds.
MONITORING = (ops.apm_health, ops.problems, ops.streaming_qoe)

#: Building blocks for analyses and dashboards, and the planning table behind decisions.
ANALYTIC = (features.subscriber_months, kpis.kpi_summary, business.initiatives)

REGISTRY: dict[str, Dataset] = {d.name: d for d in (*SEED_RESOURCES, *MONITORING, *ANALYTIC)}
