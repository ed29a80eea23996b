"""The result shape every analysis returns: a frame, findings, a chart, provenance.

A :class:`Result` is what a notebook cell displays: ``result`` renders as HTML
with a provenance banner, the key numbers and the findings; ``result.frame`` is
the table behind it; ``result.chart()`` an Altair chart; ``result.findings``
the ranked :class:`Finding` s.

A :class:`Finding` is one plain-language insight. Its text is *generated from
its fields* (:meth:`Finding.text`), so every figure in the sentence is a number
the analysis computed, never an invented one.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from opskit.provenance import Provenance

__all__ = ["Confidence", "Finding", "Result", "fmt_number", "provenance_banner"]

Confidence = Literal["low", "medium", "high"]


def fmt_number(value: float, unit: str = "") -> str:
    """Format a number for text: ``$1.2M``, ``34,500``, ``12.5%``, ``3.4 h``.

    ``unit`` is ``"usd"``, ``"pct"`` (a fraction, shown as percent), ``"subscribers"``,
    ``"hours"``, ``"days"``, ``"p"`` (a p-value) or anything else (appended as is).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "usd":
        a = abs(value)
        sign = "-" if value < 0 else ""
        if a >= 1e9:
            return f"{sign}${a / 1e9:.1f}B"
        if a >= 1e6:
            return f"{sign}${a / 1e6:.1f}M"
        if a >= 1e3:
            return f"{sign}${a / 1e3:.0f}k"
        return f"{sign}${a:,.0f}"
    if unit == "pct":
        return f"{value * 100:.1f}%"
    if unit == "p":  # a p-value
        return "<0.001" if value < 0.001 else f"{value:.3f}"
    if unit in ("hours", "days"):
        return f"{value:,.1f} {unit}"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text} {unit}".strip()


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
    impact_usd, impact_subscribers, impact_hours
        How big it is: money (USD per year unless ``impact_period`` says otherwise),
        subscribers, hours. ``None`` when not applicable.
    impact_period
        Period of ``impact_usd``: ``"year"``, ``"30 days"`` (read "per ...") or a
        phrase such as ``"over the window"`` / ``"for the campaign"``.
    evidence
        Named numbers behind the finding, with their units:
        ``{"relative risk": (2.1, ""), "share of lost revenue": (0.34, "pct")}``.
    root_cause
        The likely cause, with its supporting statistic in ``evidence``.
    action
        The recommended action.
    confidence
        ``low`` / ``medium`` / ``high``, from sample size and significance.
    provenance
        Where the numbers came from.
    """

    title: str
    where: str
    source: str
    action: str
    provenance: Provenance
    impact_usd: float | None = None
    impact_subscribers: float | None = None
    impact_hours: float | None = None
    impact_period: str = "year"
    evidence: Mapping[str, tuple[float, str]] = field(default_factory=dict)
    root_cause: str | None = None
    confidence: Confidence = "medium"

    @property
    def period_phrase(self) -> str:
        p = self.impact_period
        return (
            p if p.split(" ", 1)[0] in ("per", "over", "in", "for", "spent", "lost") else f"per {p}"
        )

    @property
    def impact_score(self) -> float:
        """Ranking key: money at stake, annualised when the period says how."""
        usd = float(self.impact_usd or 0.0)
        days = {"per year": 365.0, "per 30 days": 30.0, "per month": 30.44, "per day": 1.0}.get(
            self.period_phrase
        )
        return usd * 365.0 / days if days else usd

    def text(self) -> str:
        """A deterministic sentence built only from the fields."""
        parts = [f"{self.title} ({self.where})."]
        impact = []
        if self.impact_usd is not None:
            impact.append(f"{fmt_number(self.impact_usd, 'usd')} {self.period_phrase}")
        if self.impact_subscribers is not None:
            impact.append(f"{fmt_number(round(self.impact_subscribers))} subscribers")
        if self.impact_hours is not None:
            impact.append(fmt_number(self.impact_hours, "hours"))
        if impact:
            parts.append("At stake: " + ", ".join(impact) + ".")
        if self.evidence:
            parts.append(
                "Evidence: "
                + "; ".join(f"{k} {fmt_number(v, u)}" for k, (v, u) in self.evidence.items())
                + "."
            )
        if self.root_cause:
            parts.append(f"Likely cause: {self.root_cause}.")
        parts.append(f"Action: {self.action}.")
        if self.provenance.kind != "live":
            parts.append(f"[{self.provenance.kind} data]")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (for reports and the MCP server)."""
        return {
            "title": self.title,
            "where": self.where,
            "source": self.source,
            "impact_usd": self.impact_usd,
            "impact_subscribers": self.impact_subscribers,
            "impact_hours": self.impact_hours,
            "impact_period": self.impact_period,
            "evidence": {k: {"value": v, "unit": u} for k, (v, u) in self.evidence.items()},
            "root_cause": self.root_cause,
            "action": self.action,
            "confidence": self.confidence,
            "provenance": self.provenance.to_dict(),
            "text": self.text(),
        }


def provenance_banner(prov: Provenance) -> str:
    """An HTML banner (class ``opskit-provenance``) saying where the numbers came from."""
    colour = {"demo": "#8a4b00", "cache": "#5a5a00", "live": "#1f5f1f"}[prov.kind]
    background = {"demo": "#fff3e0", "cache": "#fdfde0", "live": "#e8f5e9"}[prov.kind]
    return (
        f'<div class="opskit-provenance" data-provenance="{prov.kind}" '
        f'style="border-left:4px solid {colour};background:{background};padding:4px 8px;'
        f'margin:4px 0;font-size:90%">{html.escape(prov.label())}</div>'
    )


@dataclass
class Result:
    """What an analysis returns.

    Attributes
    ----------
    name
        The analysis (``"pareto"``, ``"churn_model"`` ...).
    frame
        The main table.
    findings
        Ranked findings (largest impact first).
    provenance
        Where the numbers came from (the weakest of the inputs).
    summary
        Key numbers by name, shown at the top of the HTML view.
    tables
        Further named tables (drill-downs, calibration, ...).
    """

    name: str
    frame: pd.DataFrame
    provenance: Provenance
    findings: list[Finding] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    _chart: Callable[[Result], Any] | None = field(default=None, repr=False)

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

    def findings_frame(self) -> pd.DataFrame:
        """The findings as a table (one row each, with the generated text)."""
        rows = [f.to_dict() for f in self.findings]
        cols = [
            "title",
            "where",
            "impact_usd",
            "impact_subscribers",
            "confidence",
            "action",
            "text",
        ]
        return (
            pd.DataFrame(rows, columns=[*cols, "source"])[cols]
            if rows
            else pd.DataFrame(columns=cols)
        )

    def _repr_html_(self) -> str:
        parts = [f"<h4>{html.escape(self.name)}</h4>", provenance_banner(self.provenance)]
        if self.summary:
            items = "".join(
                f"<li><b>{html.escape(str(k))}</b>: {html.escape(_fmt_summary(v))}</li>"
                for k, v in self.summary.items()
            )
            parts.append(f"<ul>{items}</ul>")
        if self.findings:
            items = "".join(f"<li>{html.escape(f.text())}</li>" for f in self.findings[:10])
            parts.append(f"<ol>{items}</ol>")
        parts.append(self.frame.head(20).to_html(index=False, float_format=lambda v: f"{v:,.4g}"))
        return "\n".join(parts)


def _fmt_summary(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return ", ".join(map(str, value))
    return str(value)
