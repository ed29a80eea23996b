"""The metrics layer: every KPI and money figure people see, defined once.

A :class:`Metric` names a figure, its unit, its window, its formula in words and
the filters that apply to it. The ``kpi_summary`` dataset computes the KPIs of
:data:`KPIS` from these definitions, and the dashboard, the reports, the findings
and the MCP answers read them from there, so one KPI has one value everywhere.
A filter that does not apply to a KPI (device on subscriber counts) is listed in
the KPI's ``filters_ignored`` instead of being silently dropped.

Money has one basis, used to rank findings: :data:`MONEY_BASIS`. A subscription
lost or saved is worth :data:`SUBSCRIPTION_VALUE_MONTHS` months of its price (a
year of revenue; the same rule values campaign saves, initiative recoveries and
revenue lost to churn), and a figure over another period is scaled to a year with
:func:`per_year`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from opskit.present.units import Unit

__all__ = [
    "DAYS_PER_YEAR",
    "KPIS",
    "METRICS",
    "MONEY_BASIS",
    "MONTH_DAYS",
    "SUBSCRIPTION_VALUE_MONTHS",
    "Metric",
    "metric",
    "per_year",
    "subscription_value",
    "window_days",
]

#: A lost or saved subscription is worth this many months of its monthly price.
SUBSCRIPTION_VALUE_MONTHS = 12
#: Days in a year and in an average month (for scaling figures to the money basis).
DAYS_PER_YEAR = 365.0
MONTH_DAYS = 30.44
#: The basis every money figure of a finding is converted to before ranking.
MONEY_BASIS = "USD per year"

Window = Literal["window", "window_end", "last_7_days", "next_30_days"]


@dataclass(frozen=True)
class Metric:
    """One KPI or money figure.

    Parameters
    ----------
    key
        Identifier (the ``kpi`` column of ``kpi_summary``).
    label
        What people read; it names the period when the figure has one.
    unit
        Unit of the value (see :mod:`opskit.present.units`).
    window
        What part of the requested window the value covers: the whole
        ``window``, its end (``window_end``), its ``last_7_days``, or the
        ``next_30_days`` after it (projected from the window).
    formula
        How it is computed, in words (shown as help text).
    filters
        The filters that apply to it (``plan``, ``region``, ``device``).
    higher_is_better
        Which direction of change is good news.
    """

    key: str
    label: str
    unit: Unit
    window: Window
    formula: str
    filters: tuple[str, ...]
    higher_is_better: bool

    def ignored(self, requested: dict[str, object]) -> list[str]:
        """The requested filters (those with a value) that do not apply to this metric.

        >>> METRICS["subscribers"].ignored({"region": "brazil", "device": "tv", "plan": None})
        ['device']
        """
        return [k for k, v in requested.items() if v is not None and k not in self.filters]

    def window_phrase(self, days: int) -> str:
        """The window in words for a request of ``days`` days.

        >>> METRICS["mrr_at_risk_30d"].window_phrase(30)
        'next 30 days, from churn in the last 30 days'
        """
        return {
            "window": f"last {days} days",
            "window_end": "at the end of the window",
            "last_7_days": "last 7 days",
            "next_30_days": f"next 30 days, from churn in the last {days} days",
        }[self.window]


_SUBS = ("plan", "region")

#: Every metric, by key.
METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric("subscribers", "Active subscribers", "count", "window_end",
               "subscribers with an active subscription at the end of the window", _SUBS, True),
        Metric("churn_rate", "Monthly churn rate", "fraction", "window",
               "cancellations in the window / subscriber-months at risk in the window", _SUBS, False),
        Metric("revenue", "Revenue in the window", "usd", "window",
               "recognised subscription revenue plus advertising revenue, summed over the window's days",
               _SUBS, True),
        Metric("mrr", "Monthly recurring revenue", "usd", "window_end",
               "monthly price of every active subscription at the end of the window", _SUBS, True),
        Metric("mrr_at_risk_30d", "Monthly revenue at risk, next 30 days", "usd", "next_30_days",
               "expected cancellations in the next 30 days in the at-risk cohorts (churn rate of the "
               "window x active subscribers) x the cohort's monthly revenue per subscriber", _SUBS, False),
        Metric("revenue_lost_to_churn", "Revenue lost to cancellations", "usd", "window",
               f"{SUBSCRIPTION_VALUE_MONTHS} months of the monthly price of every subscriber who "
               "cancelled in the window", _SUBS, False),
        Metric("open_critical_issues", "Open critical issues", "count", "window_end",
               "production issues of severity critical open at the end of the window", (), False),
        Metric("streaming_health", "Streaming health score", "score", "last_7_days",
               "share of plays in the last 7 days of the window that started and stalled for less "
               "than 1 % of watch time, x100", ("region", "device"), True),
    )
}  # fmt: skip
#: The headline KPIs, in the order every surface shows them.
KPIS: tuple[str, ...] = tuple(METRICS)


def metric(key: str) -> Metric:
    """The definition of ``key``.

    Raises
    ------
    KeyError
        Naming the known metrics.
    """
    try:
        return METRICS[key]
    except KeyError:
        raise KeyError(f"unknown metric {key!r}; metrics: {', '.join(METRICS)}") from None


def per_year(amount: float, days: float) -> float:
    """``amount`` accrued over ``days`` days, scaled to a year.

    >>> round(per_year(30_000, 90))
    121667
    """
    if days <= 0:
        raise ValueError(f"days must be positive, got {days}")
    return amount * DAYS_PER_YEAR / days


def subscription_value(monthly_price: float) -> float:
    """What one lost or saved subscription is worth (:data:`SUBSCRIPTION_VALUE_MONTHS` months).

    >>> subscription_value(11.99)
    143.88
    """
    return round(monthly_price * SUBSCRIPTION_VALUE_MONTHS, 10)


def window_days(frame: Any, default: float) -> float:
    """Length in days of the window a catalog frame covers (its ``attrs["window"]``).

    Every figure over a window says which window it covers; ``default`` is the
    dataset's default window, for frames built without one.

    >>> df = pd.DataFrame()
    >>> df.attrs["window"] = ["2026-08-03T00:00:00+00:00", "2026-11-01T00:00:00+00:00"]
    >>> window_days(df, 30)
    90.0
    """
    window = getattr(frame, "attrs", {}).get("window")
    if not window:
        return float(default)
    lo, hi = (pd.Timestamp(t) for t in window)
    return float(max((hi - lo) / pd.Timedelta(days=1), 1e-9))
