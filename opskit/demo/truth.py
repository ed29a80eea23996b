"""The ``demo_truth`` table: everything the generator planted, so tests can check
that opskit *recovers* it (and never reads it to produce a result).

Columns: ``kind`` (what sort of fact), ``name``, ``subject`` (service, CDN,
campaign, ... or null), ``start``/``end`` (UTC, for events), ``value`` (the
planted number), ``unit`` and ``detail`` (free text).

Kinds:

- ``churn_driver``: log hazard ratio per unit of a monthly churn driver.
- ``churn_model``: facts about the planted churn model (baseline hazard, AUC of
  the planted probabilities on the holdout month, holdout definition).
- ``qoe_incident``: a CDN degradation window (subject = CDN, detail = region).
- ``apm_anomaly``: an APM anomaly (subject = service, detail = metric and shape).
- ``campaign_uplift``: the true effect of a retention campaign (value = expected
  difference in 2-month retention, treated minus control; detail = log HR).
- ``production``: parameters of the cost/delay distributions and the component
  multipliers behind the Pareto concentration.
- ``revenue``: trend and seasonality parameters.
- ``content_drought``: planted no-release windows (subject = genre).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Truth:
    """Collects planted facts while the demo business is generated."""

    rows: list[dict[str, object]] = field(default_factory=list)

    def add(
        self,
        kind: str,
        name: str,
        value: float | None = None,
        *,
        subject: str | None = None,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
        unit: str = "",
        detail: str = "",
    ) -> None:
        self.rows.append(
            {
                "kind": kind,
                "name": name,
                "subject": subject,
                "start": start,
                "end": end,
                "value": None if value is None else float(value),
                "unit": unit,
                "detail": detail,
            }
        )

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(
            self.rows,
            columns=["kind", "name", "subject", "start", "end", "value", "unit", "detail"],
        )
        for col in ("start", "end"):
            df[col] = pd.to_datetime(df[col], utc=True).astype("datetime64[us, UTC]")
        df["value"] = df["value"].astype("float64")
        return df
