"""Churn and retention: retention curves, churn-risk models, drivers and campaigns.

Everything takes DataFrames (typically ``opskit.load("subscriber_months")`` or
``opskit.load("retention_campaigns")``) and returns a
:class:`~opskit.analytics._result.Result`, except the estimator itself:

- :func:`churn_model` / :class:`ChurnModel`: a calibrated scikit-learn classifier
  (``"logit"`` with odds ratios, or ``"gbm"``) for any raw tabular churn data;
- :func:`evaluate_churn_model`: time-based holdout with ROC AUC, PR AUC, Brier
  score and a calibration table;
- :func:`driver_frame`, :func:`driver_effects`, :func:`driver_attribution`: the
  named churn drivers, their odds ratios and their weight per segment;
- :func:`retention_curves` (Kaplan-Meier with bands), :func:`churn_rate_over_time`,
  :func:`at_risk_segments`;
- :func:`campaign_uplift` and :func:`campaign_sample_size`.
"""

from __future__ import annotations

from opskit.analytics.churn._prepare import FramePreparer, parse_numbers
from opskit.analytics.churn.campaigns import (
    campaign_sample_size,
    campaign_uplift,
    minimum_detectable_uplift,
)
from opskit.analytics.churn.drivers import (
    ACTIONABLE,
    DRIVERS,
    driver_attribution,
    driver_effects,
    driver_frame,
    driver_losses,
)
from opskit.analytics.churn.evaluate import (
    ChurnModelResult,
    calibration_table,
    classification_metrics,
    evaluate_churn_model,
)
from opskit.analytics.churn.model import ChurnModel, churn_model
from opskit.analytics.churn.retention import (
    at_risk_segments,
    churn_rate_over_time,
    kaplan_meier,
    retention_curves,
    subscriber_lifetimes,
)

__all__ = [
    "ACTIONABLE",
    "DRIVERS",
    "ChurnModel",
    "ChurnModelResult",
    "FramePreparer",
    "at_risk_segments",
    "calibration_table",
    "campaign_sample_size",
    "campaign_uplift",
    "churn_model",
    "churn_rate_over_time",
    "classification_metrics",
    "driver_attribution",
    "driver_effects",
    "driver_frame",
    "driver_losses",
    "evaluate_churn_model",
    "kaplan_meier",
    "minimum_detectable_uplift",
    "parse_numbers",
    "retention_curves",
    "subscriber_lifetimes",
]
