"""Words for Pareto results (private): units, nouns, the concentration statement, findings.

Every figure in the text is passed in from the computed result; nothing here
invents or rounds a number except for display (:func:`opskit.present.fmt`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from opskit.analytics._result import Confidence, Finding
from opskit.metrics import DAYS_PER_YEAR, MONTH_DAYS
from opskit.present.glossary import has_term, term
from opskit.present.units import fmt, humanize
from opskit.provenance import Provenance

if TYPE_CHECKING:
    from opskit.analytics._pareto_result import ParetoResult

#: Share of items needed to reach the target -> how the concentration is described.
LEVELS: tuple[tuple[float, str], ...] = (
    (0.10, "highly concentrated"),
    (0.25, "concentrated"),
    (0.50, "moderately concentrated"),
    (1.00, "spread out"),
)
_PERIODS = {
    "annual": "year",
    "annualised": "year",
    "annualized": "year",
    "yearly": "year",
    "year": "year",
    "arr": "year",
    "30d": "30 days",
    "monthly": "month",
    "month": "month",
    "mrr": "month",
    "weekly": "week",
    "daily": "day",
}
_UNITS = {
    "usd": "usd",
    "subscribers": "subscribers",
    "churners": "subscribers",
    "churned": "subscribers",
    "hours": "hours",
    "days": "days",
    "minutes": "minutes",
    "min": "minutes",
}
DEFAULT_PERIOD = "analysed period"
#: Days in each period a money figure can be given per.
_PERIOD_DAYS = {"year": DAYS_PER_YEAR, "month": MONTH_DAYS, "week": 7.0, "day": 1.0}
#: Display unit of each Pareto value unit (``rows`` and unknown units are counts).
_DISPLAY = {
    "usd": "usd",
    "subscribers": "count",
    "hours": "hours",
    "days": "days",
    "minutes": "minutes",
}


def display_unit(unit: str) -> str:
    """The presentation unit of a Pareto value unit (``rows`` -> ``count``)."""
    return _DISPLAY.get(unit, "count")


def period_days(period: str) -> float | None:
    """Days in a money period: ``year`` 365, ``30 days`` 30, ``month`` 30.44; ``None`` if unknown.

    >>> period_days("year"), period_days("30 days"), period_days("analysed period")
    (365.0, 30.0, None)
    """
    if period in _PERIOD_DAYS:
        return _PERIOD_DAYS[period]
    m = re.fullmatch(r"(\d+(?:\.\d+)?) days?", period.strip())
    return float(m.group(1)) if m else None


def infer_unit(value: str | None) -> tuple[str, str]:
    """``(unit, period)`` from a column name: ``revenue_lost_annual_usd`` -> ``("usd", "year")``.

    Money is recognised only by a ``usd`` token (opskit's column naming); a column
    counted with ``value=None`` is in ``"rows"``. Unknown units give ``""``.
    """
    if value is None:
        return "rows", ""
    tokens = re.split(r"[^a-z0-9]+", value.lower())
    unit = next((_UNITS[t] for t in tokens if t in _UNITS), "")
    period = next((_PERIODS[t] for t in tokens if t in _PERIODS), DEFAULT_PERIOD)
    return unit, period if unit == "usd" else ""


def measure_name(column: str) -> str:
    """What a value column measures, in words: ``delay_days`` -> ``delay past due``.

    >>> measure_name("delay_days"), measure_name("cost_usd")
    ('delay past due', 'cost')
    """
    if has_term(column):
        words = term(column).label
    else:
        words = humanize(re.sub(r"_(usd|days|hours|minutes|min)$", "", column))
    return words[:1].lower() + words[1:] if not words[:2].isupper() else words


def plural(name: str) -> str:
    """``"root_cause"`` -> ``"root causes"``, ``"cohort_id"`` -> ``"cohorts"``."""
    word = re.sub(r"_(id|key|name)$", "", name).replace("_", " ").strip() or "item"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es" if not word.endswith("s") else word
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def item_noun(by: Sequence[str], index_name: str | None) -> str:
    """What the items are called in text."""
    if not by:
        return plural(index_name) if index_name else "items"
    if len(by) == 1:
        return plural(by[0])
    return "/".join(b.replace("_", " ") for b in by) + " combinations"


def concentration(k: int, n: int, held: float, noun: str, what: str) -> str:
    """E.g. ``"highly concentrated: 8.0% of components (3 of 37) hold 81.2% of the delay_days"``."""
    if n == 1:
        return f"a single item: all of the {what} is in one of the {noun}"
    level = next(word for limit, word in LEVELS if k / n <= limit + 1e-12)
    text = (
        f"{level}: {fmt(k / n, 'fraction')} of {noun} ({k} of {n}) "
        f"hold {fmt(held, 'fraction')} of the {what}"
    )
    return text + (f" (only {n} {noun}, so shares are coarse)" if n < 5 else "")


def confidence(n_items: int, n_rows: int) -> Confidence:
    """``high`` with at least 10 items and 100 rows; ``low`` under 5 items or 20 rows."""
    if n_items < 5 or n_rows < 20:
        return "low"
    return "high" if n_items >= 10 and n_rows >= 100 else "medium"


@dataclass(frozen=True)
class Context:
    """What every finding of one result shares: the value, its unit, confidence, provenance."""

    what: str
    unit: str
    period: str
    conf: Confidence
    provenance: Provenance

    def fmt(self, amount: float) -> str:
        return fmt(amount, display_unit(self.unit))

    def finding(
        self,
        amount: float,
        *,
        title: str,
        where: str,
        action: str,
        evidence: dict[str, tuple[float, str]],
        root_cause: str | None = None,
    ) -> Finding:
        """A Finding with ``amount`` at stake as money or subscribers when the unit is one.

        Money over a period of unknown length is evidence only: it cannot be put on
        the yearly basis findings are ranked by.
        """
        days = period_days(self.period or DEFAULT_PERIOD) if self.unit == "usd" else None
        return Finding(
            title=title,
            where=where,
            source="pareto",
            action=action,
            provenance=self.provenance,
            impact_usd=amount if days is not None else None,
            impact_period="per year" if days == DAYS_PER_YEAR else f"per {self.period}",
            impact_usd_per_year=amount * DAYS_PER_YEAR / days if days is not None else None,
            impact_subscribers=amount if self.unit == "subscribers" else None,
            evidence=evidence,
            root_cause=root_cause,
            confidence=self.conf,
        )


def names(labels: Sequence[str], total: int | None = None, limit: int = 3) -> str:
    """``"a, b, c and 4 more"`` (``total`` = how many there are, default ``len(labels)``)."""
    total = len(labels) if total is None else total
    shown = ", ".join(humanize(str(label)) for label in labels[:limit])
    return shown + (f" and {total - min(limit, len(labels))} more" if total > limit else "")


def vital_finding(
    ctx: Context,
    *,
    statement: str,
    labels: Sequence[str],
    k: int,
    noun: str,
    held_value: float,
    held_share: float,
    top20: tuple[float, int],
    gini: float,
) -> Finding:
    """The focus recommendation: the vital few (``labels``: the first few of ``k``)."""
    return ctx.finding(
        held_value,
        title=statement[:1].upper() + statement[1:],
        where=f"{noun}: {names(labels, k)}",
        action=(
            f"Focus on the {k} vital {noun} first; fixing them removes "
            f"{ctx.fmt(held_value)} ({fmt(held_share, 'fraction')}) of the {ctx.what}"
        ),
        evidence={
            f"{ctx.what} held by the vital few": (held_value, display_unit(ctx.unit)),
            "share held by the vital few": (held_share, "fraction"),
            f"share held by the top 20 % of {noun} ({top20[1]})": (top20[0], "fraction"),
            "Gini coefficient": (gini, "number"),
        },
    )


def item_finding(
    ctx: Context,
    *,
    label: str,
    rank: int,
    of: str,
    value: float,
    share: float,
    path: Sequence[tuple[str, float]] = (),
) -> Finding:
    """One leading item (``of``: "12 components").

    ``path`` is its largest sub-item at each deeper level, with its share of the parent.
    """
    cause = ", then ".join(f"{lab} ({fmt(s, 'fraction')} of its parent)" for lab, s in path)
    label = humanize(label)
    return ctx.finding(
        value,
        title=f"#{rank} {label} holds {fmt(share, 'fraction')} of the {ctx.what}",
        where=f"rank {rank} of {of}",
        action=f"Root-cause and fix {label}: it alone accounts for {ctx.fmt(value)}",
        evidence={ctx.what: (value, display_unit(ctx.unit)), "share of total": (share, "fraction")},
        root_cause=f"mostly {cause}" if cause else None,
    )


def findings(result: ParetoResult, top_k: int | None) -> list[Finding]:
    """The focus finding, then one per leading item (top-level items when drilling down)."""
    s = result._s
    r = s.ranked
    ctx = Context(
        what=s.what,
        unit=result.summary["unit"],
        period=result.summary["period"],
        conf=confidence(len(r.values), int(result.summary["rows"])),
        provenance=result.provenance,
    )
    out = [
        vital_finding(
            ctx,
            statement=result.statement,
            labels=[s.labels(i) for i in range(min(r.k, 3))],
            k=r.k,
            noun=s.noun,
            held_value=float(r.values[: r.k].sum()),
            held_share=result.summary["vital_few_share"],
            top20=(result.top20_share, int(result.summary["top20_items"])),
            gini=result.gini,
        )
    ]
    if s.levels:  # drill-down: each vital top-level item with its largest sub-item per level
        top = s.levels[0]
        m = min(3, int(top["is_vital_few"].sum())) if top_k is None else min(top_k, len(top))
        of = f"{len(top)} {plural(result.by[0])}"
        for i in range(m):
            row = top.iloc[i]
            out.append(
                item_finding(
                    ctx,
                    label=f"{humanize(result.by[0])} {_fmt_key(row[result.by[0]])}",
                    rank=i + 1,
                    of=of,
                    value=float(row["value"]),
                    share=float(row["share_of_total"]),
                    path=_largest_path(s.levels, result.by, row),
                )
            )
        return out
    m = min(len(r.values), min(r.k, 3) if top_k is None else top_k)
    for i in range(m):
        out.append(
            item_finding(
                ctx,
                label=s.labels(i),
                rank=i + 1,
                of=f"{len(r.values)} {s.noun}",
                value=float(r.values[i]),
                share=float(r.share[i]),
            )
        )
    return out


def _fmt_key(x: Any) -> str:
    return "(missing)" if pd.isna(x) else str(x)


def _largest_path(
    levels: list[pd.DataFrame], by: tuple[str, ...], row: pd.Series
) -> list[tuple[str, float]]:
    path: list[tuple[str, float]] = []
    prefix = {by[0]: row[by[0]]}
    for d in range(1, len(levels)):
        t = levels[d]
        mask = t["rank"] == 1
        for col, val in prefix.items():
            mask &= t[col].isna() if pd.isna(val) else t[col] == val
        hit = t[mask]
        if hit.empty:
            break
        child = hit.iloc[0]
        path.append(
            (f"{humanize(by[d])} {humanize(_fmt_key(child[by[d]]))}", float(child["share"]))
        )
        prefix[by[d]] = child[by[d]]
    return path
