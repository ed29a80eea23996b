"""The result shape every analysis returns: a frame, findings, charts, provenance.

A :class:`Result` is what a notebook cell displays: ``result`` renders as the
analysis's page (title, the one-sentence answer, KPI tiles, the ranked findings,
charts and compact tables; see :mod:`opskit.present.page`); ``result.frame`` is
the table behind it; ``result.chart()`` an Altair chart; ``result.findings`` the
ranked :class:`Finding` s; ``result.summary`` the key numbers by identifier
(labels and units in :mod:`opskit.present.glossary`).

A :class:`Finding` is one plain-language insight. Its text is *generated from
its fields* (:meth:`Finding.text`), so every figure in the sentence is a number
the analysis computed, never an invented one. Money at stake is given as
computed (``impact_usd`` over ``impact_period``) and on the one basis findings
are ranked by (``impact_usd_per_year``, see :data:`opskit.metrics.MONEY_BASIS`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from opskit.metrics import MONEY_BASIS
from opskit.present.tables import TableSpec
from opskit.present.units import UNITS, fmt, is_missing
from opskit.provenance import Provenance

__all__ = ["Confidence", "Finding", "Result", "TableSpec"]

Confidence = Literal["low", "medium", "high"]
#: The phrase of a money figure that is already on the ranking basis.
PER_YEAR = "per year"


@dataclass(frozen=True)
class Finding:
    """One insight, with the numbers that back it.

    Parameters
    ----------
    title
        What is going on, in a few words ("Rebuffering drives churn in India").
    where
        The scope: segment, service, component, region ...
    source
        The analysis that produced it (``"pareto"``, ``"churn"``, ``"anomaly"`` ...).
    action
        The recommended action. An action that costs money says whether it pays back.
    provenance
        Where the numbers came from.
    impact_usd
        Money at stake as computed, over ``impact_period``; ``None`` when not applicable.
    impact_period
        What ``impact_usd`` covers, as a phrase read after the amount: ``"per year"``,
        ``"per 30 days"``, ``"in the last 90 days"``, ``"once, for the campaign"``.
    impact_usd_per_year
        The same stake in USD per year, the basis every finding is ranked on
        (:data:`opskit.metrics.MONEY_BASIS`). Required with ``impact_usd`` unless
        ``impact_period`` is ``"per year"``.
    impact_subscribers
        Subscribers at stake.
    impact_hours
        Hours at stake (delay, downtime).
    evidence
        Named numbers behind the finding, with their units
        (:mod:`opskit.present.units`): ``{"relative risk": (2.1, "ratio")}``.
    root_cause
        The likely cause, with its supporting statistic in ``evidence``.
    confidence
        ``low`` / ``medium`` / ``high``, from sample size and significance.

    Raises
    ------
    ValueError
        On money without its yearly basis, or evidence in an unknown unit.
    """

    title: str
    where: str
    source: str
    action: str
    provenance: Provenance
    impact_usd: float | None = None
    impact_period: str = PER_YEAR
    impact_usd_per_year: float | None = None
    impact_subscribers: float | None = None
    impact_hours: float | None = None
    evidence: Mapping[str, tuple[float, str]] = field(default_factory=dict)
    root_cause: str | None = None
    confidence: Confidence = "medium"

    def __post_init__(self) -> None:
        if self.impact_usd is not None and self.impact_usd_per_year is None:
            if self.impact_period != PER_YEAR:
                raise ValueError(
                    f"finding {self.title!r}: impact_usd {self.impact_period} needs "
                    f"impact_usd_per_year, the ranking basis ({MONEY_BASIS})"
                )
            object.__setattr__(self, "impact_usd_per_year", self.impact_usd)
        for name, (_, unit) in self.evidence.items():
            if unit not in UNITS:
                raise ValueError(
                    f"finding {self.title!r}: evidence {name!r} has unknown unit {unit!r}"
                )

    @property
    def stake_usd_per_year(self) -> float | None:
        """Money at stake on the ranking basis (``None`` when the finding has no money)."""
        return self.impact_usd_per_year

    def stake_text(self) -> str:
        """What is at stake, in words: ``$4.5k per 30 days ($55k per year), 345 subscribers``."""
        parts = []
        if self.impact_usd is not None:
            money = f"{fmt(self.impact_usd, 'usd')} {self.impact_period}"
            if self.impact_period != PER_YEAR:  # the basis every finding is ranked on, always
                money += f" ({fmt(self.impact_usd_per_year, 'usd')} {PER_YEAR})"
            parts.append(money)
        if self.impact_subscribers is not None and not is_missing(self.impact_subscribers):
            people = f"{fmt(self.impact_subscribers, 'count')} subscribers"
            if self.impact_usd is None and self.impact_period != PER_YEAR:
                people += f" {self.impact_period}"
            parts.append(people)
        if self.impact_hours is not None and not is_missing(self.impact_hours):
            parts.append(fmt(self.impact_hours, "hours"))
        return ", ".join(parts)

    def evidence_text(self) -> str:
        """The evidence, ``name value; name value``."""
        return "; ".join(f"{k} {fmt(v, u)}" for k, (v, u) in self.evidence.items())

    def text(self) -> str:
        """A deterministic sentence built only from the fields."""
        parts = [f"{self.title} ({self.where})."]
        stake = self.stake_text()
        if stake:
            parts.append(f"At stake: {stake}.")
        if self.evidence:
            parts.append(f"Evidence: {self.evidence_text()}.")
        if self.root_cause:
            parts.append(f"Likely cause: {self.root_cause}.")
        parts.append(f"Action: {self.action}.")
        if self.provenance.kind != "live":
            parts.append(f"[{self.provenance.kind} data]")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (for reports and the MCP server), full precision."""
        return {
            "title": self.title,
            "where": self.where,
            "source": self.source,
            "impact_usd": self.impact_usd,
            "impact_period": self.impact_period,
            "impact_usd_per_year": self.impact_usd_per_year,
            "impact_subscribers": self.impact_subscribers,
            "impact_hours": self.impact_hours,
            "evidence": {k: {"value": v, "unit": u} for k, (v, u) in self.evidence.items()},
            "root_cause": self.root_cause,
            "action": self.action,
            "confidence": self.confidence,
            "provenance": self.provenance.to_dict(),
            "text": self.text(),
        }


ChartFn = Callable[["Result"], Any]


@dataclass
class Result:
    """What an analysis returns.

    Attributes
    ----------
    name
        The analysis (``"pareto"``, ``"churn_model"`` ...).
    frame
        The main table.
    provenance
        Where the numbers came from (the weakest of the inputs).
    findings
        Ranked findings (largest stake first).
    summary
        Key numbers by identifier (``spent_usd``); the glossary gives each its
        label and unit.
    tables
        Further named tables (drill-downs, calibration, ...).
    title
        What the page is called ("Revenue forecast"); default: the name in words.
    headline
        The answer in one sentence, first on the page.
    tiles
        Summary keys shown as KPI tiles (default: the numeric ones, at most six).
    kpis
        KPI rows (``kpi_summary`` shape: label, value, previous, change, unit) shown
        as tiles with their change, before ``tiles``.
    notes
        What a reader must know about these numbers, in plain words.
    shown
        The tables the page shows (default: the main table).
    charts
        Further charts by name, each a function of the result (the main one is
        ``chart()``).
    """

    name: str
    frame: pd.DataFrame
    provenance: Provenance
    findings: list[Finding] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    _chart: ChartFn | None = field(default=None, repr=False)
    title: str = ""
    headline: str = ""
    tiles: tuple[str, ...] | None = None
    kpis: pd.DataFrame | None = field(default=None, repr=False)
    notes: list[str] = field(default_factory=list)
    shown: tuple[TableSpec, ...] | None = None
    charts: dict[str, ChartFn] = field(default_factory=dict, repr=False)

    def chart(self) -> Any:
        """An Altair chart of the result, subtitled with where its numbers came from.

        Raises
        ------
        NotImplementedError
            If this result has no chart.
        """
        if self._chart is None:
            raise NotImplementedError(f"{self.name} results have no chart")
        from opskit.viz import with_provenance

        return with_provenance(self._chart(self), self.provenance)

    def all_charts(self) -> dict[str, Any]:
        """Every chart of the result by name (``main`` first), each with provenance."""
        from opskit.viz import with_provenance

        out = {"main": self.chart()} if self._chart is not None else {}
        out.update({k: with_provenance(fn(self), self.provenance) for k, fn in self.charts.items()})
        return out

    def table(self, name: str) -> pd.DataFrame:
        """The table ``name`` (``"frame"`` is the main one).

        Raises
        ------
        KeyError
            Naming the tables there are.
        """
        if name == "frame":
            return self.frame
        if name not in self.tables:
            raise KeyError(
                f"{self.name} has no table {name!r}; tables: frame, {', '.join(self.tables)}"
            )
        return self.tables[name]

    def findings_frame(self) -> pd.DataFrame:
        """The findings as a table (one row each, with the generated text)."""
        from opskit.insights import findings_table

        return findings_table(self.findings)

    def _repr_mimebundle_(self, **_: Any) -> dict[str, Any]:
        from opskit.present.page import page_bundle

        return page_bundle(self)

    def _repr_html_(self) -> str:
        from opskit.present.page import page_html

        return page_html(self)
