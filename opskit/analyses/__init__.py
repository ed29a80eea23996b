"""The seed platform's five analysis tools, plus the executive summary and service health.

Each function takes typed, validated parameters (a bad value raises
:class:`~opskit.errors.ParameterError` naming the valid ones), builds on the
catalog and the analytics, and returns a :class:`~opskit.analytics._result.Result`
(``frame``, ``findings``, ``chart()``, ``tables``, provenance, and the page a
notebook, a report and an MCP answer show). The same signatures drive the report
notebooks (``notebooks/analyses/``) and the MCP tools. One module per analysis:

=====================================  ==========================================
function                               what it answers
=====================================  ==========================================
:func:`analyze_churn_root_cause`        why subscribers leave, who is at risk, what to do
:func:`analyze_complaint_themes`        what customers complain about, what it costs
:func:`analyze_production_risk`         which issues put delivery and money at risk
:func:`forecast_revenue_with_constraints`  revenue outlook and the initiative mix that pays
:func:`generate_retention_campaign`     who to target, how big a control group, does it pay
:func:`executive_summary`               KPIs, the vital few across domains, top findings
:func:`service_health`                  APM/QoE anomalies per service, one status rule
=====================================  ==========================================
"""

from __future__ import annotations

from collections.abc import Callable

from opskit.analyses.churn_root_cause import analyze_churn_root_cause
from opskit.analyses.complaint_themes import analyze_complaint_themes
from opskit.analyses.executive_summary import executive_summary
from opskit.analyses.production_risk import analyze_production_risk
from opskit.analyses.retention_campaign import generate_retention_campaign
from opskit.analyses.revenue_forecast import forecast_revenue_with_constraints
from opskit.analyses.service_health import service_health
from opskit.analytics._result import Result

__all__ = [
    "ANALYSES",
    "analyze_churn_root_cause",
    "analyze_complaint_themes",
    "analyze_production_risk",
    "executive_summary",
    "forecast_revenue_with_constraints",
    "generate_retention_campaign",
    "service_health",
]

#: Every analysis by report/tool name.
ANALYSES: dict[str, Callable[..., Result]] = {
    "churn_root_cause": analyze_churn_root_cause,
    "complaint_themes": analyze_complaint_themes,
    "production_risk": analyze_production_risk,
    "revenue_forecast": forecast_revenue_with_constraints,
    "retention_campaign": generate_retention_campaign,
    "executive_summary": executive_summary,
    "service_health": service_health,
}
