"""The filter bar's state: a date window plus one region, device and plan.

A :class:`Filters` value is what a viewer picked; every stored board view is keyed
by one. :func:`one_filter_away` lists the selections ``opskit dashboard`` warms in
the background (each default window, and every view one filter away from it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

__all__ = ["DEFAULT_DAYS", "WINDOWS", "Filters", "one_filter_away"]

#: Date-range choices of the filter bar: label -> days before the data's as-of time.
WINDOWS: dict[str, int] = {"Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90}
DEFAULT_DAYS = 30
#: Which filter bar fields each dataset takes (the others are not passed, so keys are shared).
_RELEVANT: dict[str, tuple[str, ...]] = {
    "kpi_summary": ("plan", "region", "device"),
    "revenue_impact": ("plan", "region"),
    "churn_signals": ("plan", "region"),
    "streaming_qoe": ("region", "device"),
    "production_issues": (),
    "pareto_analysis": (),
    "operational_efficiency": (),
}


@dataclass(frozen=True)
class Filters:
    """The filter bar's state.

    Parameters
    ----------
    days
        Window length, ending at the data's as-of time (one of :data:`WINDOWS`).
    region, device, plan
        One value each, or ``None`` for all.

    Examples
    --------
    >>> Filters(days=7, region="brazil").label()
    'last 7 days · region brazil'
    """

    days: int = DEFAULT_DAYS
    region: str | None = None
    device: str | None = None
    plan: str | None = None

    def for_dataset(self, name: str, as_of: pd.Timestamp, **extra: Any) -> dict[str, Any]:
        """Catalog filters for ``name``: the window plus only the fields it takes.

        Examples
        --------
        >>> as_of = pd.Timestamp("2026-11-01", tz="UTC")
        >>> Filters(days=7, device="tv").for_dataset("revenue_impact", as_of)
        {'start': '2026-10-25T00:00:00+00:00'}
        """
        out: dict[str, Any] = {"start": (as_of - pd.Timedelta(days=self.days)).isoformat()}
        for key in _RELEVANT.get(name, ()):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out.update(extra)
        return out

    def label(self) -> str:
        """Human text, e.g. ``last 30 days · region brazil``."""
        parts = [f"last {self.days} days"]
        parts += [
            f"{k} {getattr(self, k)}" for k in ("region", "device", "plan") if getattr(self, k)
        ]
        return " · ".join(parts)


def one_filter_away(options: dict[str, list[str]]) -> Iterator[Filters]:
    """Every default view (one per window) and every view one filter away from one.

    Parameters
    ----------
    options
        The filter bar's choices per field (``region``, ``device``, ``plan``).

    Examples
    --------
    >>> [f.label() for f in one_filter_away({"plan": ["annual"]})][:2]
    ['last 7 days', 'last 7 days · plan annual']
    """
    for days in WINDOWS.values():
        base = Filters(days=days)
        yield base
        for field_name, values in options.items():
            for v in values:
                yield replace(base, **{field_name: v})  # type: ignore[arg-type]
