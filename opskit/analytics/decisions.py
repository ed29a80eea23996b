"""Decisions that pay: the initiative mix with the most net value, and whether a campaign pays back.

Replaces the seed's ``forecast_revenue_with_constraints`` (3 hard-coded initiatives
packed greedily by ROI). Each candidate :class:`Initiative` has a cost over the plan,
an uncertain expected recovery, dependencies (``requires``) and exclusions
(``excludes``); :func:`optimise_initiatives` picks, with ``scipy.optimize.milp`` (an
exact 0/1 knapsack with side constraints), the mix that maximises **net value**
(recovered minus spent) within the budget. An initiative whose expected net value is
negative is therefore never chosen for itself (only as the prerequisite of one that
more than pays for it), and when nothing pays back the result says so in plain words.
The mix's recovered revenue and net value get a Monte-Carlo interval.

:func:`initiatives_from_plans` turns a table of planned initiatives (cost, expected
effect on one churn driver, with its uncertainty) and the revenue each driver causes
per month (:func:`opskit.analytics.churn.driver_losses`, from a fitted churn model)
into :class:`Initiative` s: recovered revenue = effect x the driver's revenue lost
per month x the plan's months, a saved subscription counted at a year of its price
(:data:`opskit.metrics.SUBSCRIPTION_VALUE_MONTHS`).

:func:`campaign_value` does the same arithmetic for one retention campaign: expected
saves x the value of a save, against its cost, with the interval of the uplift.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import altair as alt
import numpy as np
import pandas as pd
from scipy import optimize

from opskit import provenance as prov
from opskit.analytics._result import Finding, Result, TableSpec
from opskit.present.units import fmt

__all__ = [
    "INITIATIVE_COLUMNS",
    "CampaignValue",
    "Initiative",
    "Objective",
    "campaign_value",
    "initiatives_from_plans",
    "optimise_initiatives",
]

Objective = Literal["net_value", "recovered"]
#: The columns a reader sees of the candidate initiatives, in order.
INITIATIVE_COLUMNS = ("initiative", "name", "driver", "cost_usd", "recovered_usd", "net_value_usd",
                      "roi", "payback_months", "is_selected")  # fmt: skip


@dataclass(frozen=True)
class Initiative:
    """A candidate action.

    Parameters
    ----------
    name
        Unique name.
    cost_usd
        Cost within the plan's timeline (>= 0).
    recovered_usd
        Expected revenue recovered within the timeline (>= 0).
    recovered_sd_usd
        Standard deviation of the recovered revenue (its uncertainty, >= 0).
    requires
        Initiatives that must also be chosen for this one to be chosen.
    excludes
        Initiatives that cannot be chosen together with this one.
    driver
        The churn driver it acts on (for tables and text).
    label
        What it is called in text (default: ``name``).
    """

    name: str
    cost_usd: float
    recovered_usd: float
    recovered_sd_usd: float = 0.0
    requires: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    driver: str = ""
    label: str = ""

    def __post_init__(self) -> None:
        for field in ("cost_usd", "recovered_usd", "recovered_sd_usd"):
            value = float(getattr(self, field))
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{self.name}: {field} must be a finite number >= 0, got {value}")

    @property
    def net_value_usd(self) -> float:
        """Expected recovered minus cost."""
        return self.recovered_usd - self.cost_usd


# -- initiatives from a plan table -------------------------------------------------------------
def _ids(value: Any) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ()
    return tuple(v.strip() for v in str(value).split(",") if v.strip())


def initiatives_from_plans(
    plans: pd.DataFrame,
    losses: pd.DataFrame,
    *,
    timeline_months: int = 12,
    effect_shift_sd: float = 0.0,
) -> list[Initiative]:
    """One :class:`Initiative` per planned initiative, valued against what its driver costs.

    Parameters
    ----------
    plans
        The ``initiatives`` dataset: ``initiative_id``, ``name``, ``driver``,
        ``setup_cost_usd``, ``monthly_cost_usd``, ``effect`` (expected share of the
        driver's cancellations prevented), ``effect_sd``, ``requires``, ``excludes``
        (comma-separated ids).
    losses
        Per driver, ``revenue_lost_per_month_usd`` and its standard deviation
        ``revenue_lost_sd_usd`` (see :func:`opskit.analytics.churn.driver_losses`).
    timeline_months
        Months the plan runs (costs and recoveries accrue over them).
    effect_shift_sd
        Scenario: shift every effect by this many of its standard deviations
        (-1 conservative, 0 expected, +1 optimistic), clipped to [0, 1].

    Returns
    -------
    list of Initiative
        Named by ``initiative_id``; recovered revenue = effect x the driver's revenue
        lost per month x ``timeline_months``. Its uncertainty combines the effect's and
        the driver's loss estimate's (independent, normal). A driver the losses lack
        (it did not vary in the data) recovers nothing.

    Raises
    ------
    ValueError
        On missing columns or a bad timeline.
    """
    need = {"initiative_id", "driver", "setup_cost_usd", "monthly_cost_usd", "effect", "effect_sd"}
    missing = need - set(plans.columns)
    if missing:
        raise ValueError(f"initiative plans lack column(s) {sorted(missing)}")
    if not {"driver", "revenue_lost_per_month_usd", "revenue_lost_sd_usd"} <= set(losses.columns):
        raise ValueError("losses need driver, revenue_lost_per_month_usd and revenue_lost_sd_usd")
    if not isinstance(timeline_months, int) or timeline_months < 1:
        raise ValueError(f"timeline_months must be an integer >= 1, got {timeline_months!r}")
    by_driver = losses.set_index("driver")
    out = []
    for r in plans.itertuples():
        if r.driver in by_driver.index:
            row = by_driver.loc[r.driver]
            per_month = max(float(row["revenue_lost_per_month_usd"]), 0.0)
            loss_sd = float(row["revenue_lost_sd_usd"])
        else:
            per_month, loss_sd = 0.0, 0.0
        effect = float(np.clip(r.effect + effect_shift_sd * r.effect_sd, 0.0, 1.0))
        expected = effect * per_month * timeline_months
        sd = float(np.hypot(r.effect_sd * per_month, effect * loss_sd)) * timeline_months
        out.append(
            Initiative(
                name=str(r.initiative_id),
                cost_usd=float(r.setup_cost_usd) + float(r.monthly_cost_usd) * timeline_months,
                recovered_usd=expected,
                recovered_sd_usd=sd,
                requires=_ids(getattr(r, "requires", None)),
                excludes=_ids(getattr(r, "excludes", None)),
                driver=str(r.driver),
                label=str(getattr(r, "name", "") or r.initiative_id),
            )
        )
    return out


# -- the optimisation -----------------------------------------------------------------------------
def _solve(items: Sequence[Initiative], budget: float, objective: Objective) -> np.ndarray:
    names = [i.name for i in items]
    pos = {n: k for k, n in enumerate(names)}
    n = len(items)
    rows, lo, hi = [[i.cost_usd for i in items]], [-np.inf], [budget]
    for k, item in enumerate(items):
        for other in item.requires:
            if other not in pos:
                raise ValueError(f"{item.name!r} requires unknown initiative {other!r}")
            row = np.zeros(n)
            row[k], row[pos[other]] = 1.0, -1.0  # x_k <= x_other
            rows.append(list(row))
            lo.append(-np.inf)
            hi.append(0.0)
        for other in item.excludes:
            if other not in pos:
                raise ValueError(f"{item.name!r} excludes unknown initiative {other!r}")
            row = np.zeros(n)
            row[k] = row[pos[other]] = 1.0  # x_k + x_other <= 1
            rows.append(list(row))
            lo.append(-np.inf)
            hi.append(1.0)
    gain = np.array(
        [i.net_value_usd if objective == "net_value" else i.recovered_usd for i in items]
    )
    res = optimize.milp(
        c=-gain,
        constraints=optimize.LinearConstraint(np.array(rows), lo, hi),
        integrality=np.ones(n),
        bounds=optimize.Bounds(0, 1),
    )
    if res.status != 0 or res.x is None:
        raise ValueError(f"the initiative selection problem has no solution: {res.message}")
    chosen = np.asarray(np.round(res.x), dtype=bool)
    if objective == "net_value" and gain[chosen].sum() <= 0:
        chosen[:] = False  # a mix that does not pay back is no better than doing nothing
    return chosen


def _greedy_net(items: Sequence[Initiative], budget: float) -> float:
    """Net value of the seed's rule (by ROI, while the budget lasts; no constraints)."""
    spent = net = 0.0
    for i in sorted(items, key=lambda i: -(i.recovered_usd / i.cost_usd if i.cost_usd else np.inf)):
        if spent + i.cost_usd <= budget:
            spent, net = spent + i.cost_usd, net + i.net_value_usd
    return net


def optimise_initiatives(
    initiatives: Sequence[Initiative],
    budget_usd: float | None,
    *,
    objective: Objective = "net_value",
    timeline_months: int = 12,
    baseline_loss_usd: float | None = None,
    level: float = 0.8,
    n_draws: int = 20_000,
    seed: int = 0,
    provenance: prov.Provenance | None = None,
) -> Result:
    """Choose the initiatives with the most net value (or recovery) within the budget.

    Parameters
    ----------
    initiatives
        Candidates (unique names).
    budget_usd
        Money available (>= 0); ``None`` is no limit.
    objective
        ``net_value`` (default): maximise recovered minus spent, so nothing that
        loses money is chosen. ``recovered``: maximise recovered revenue whatever it
        costs (the result then says plainly when the mix loses money).
    timeline_months
        Months the costs and recoveries cover (for payback and the yearly basis).
    baseline_loss_usd
        Revenue lost without action over the same timeline; enables the gap figures.
    level
        Level of the intervals of recovered revenue and net value.
    n_draws, seed
        Monte-Carlo draws (normal, truncated at 0, independent initiatives).
    provenance
        Provenance of the inputs (default: ``cache`` of the caller's figures).

    Returns
    -------
    Result
        ``frame``: one row per initiative (cost, expected recovery and its sd, net
        value, ROI, payback in months, ``pays_back``, ``is_selected``); ``summary``:
        budget, spend, recovered and net value with intervals, ``selected``, the
        greedy-by-ROI net value for comparison, and the gap to ``baseline_loss_usd``.

    Raises
    ------
    ValueError
        On a negative budget, duplicate or unknown names, or infeasible constraints.

    Examples
    --------
    >>> a = Initiative("retries", cost_usd=60_000, recovered_usd=95_000)
    >>> b = Initiative("multi-cdn", cost_usd=490_000, recovered_usd=260_000)
    >>> res = optimise_initiatives([a, b], None)
    >>> res.summary["selected"], round(res.summary["net_value_usd"])
    (['retries'], 35000)
    >>> optimise_initiatives([b], None).findings[0].title
    'No initiative pays back at these costs'
    """
    unlimited = budget_usd is None
    budget = float("inf") if budget_usd is None else float(budget_usd)
    if not unlimited and (not np.isfinite(budget) or budget < 0):
        raise ValueError(f"budget_usd must be a finite number >= 0, got {budget_usd}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if objective not in ("net_value", "recovered"):
        raise ValueError(f"objective must be 'net_value' or 'recovered', got {objective!r}")
    items = list(initiatives)
    names = [i.name for i in items]
    if len(set(names)) != len(names):
        raise ValueError("initiative names must be unique")
    bound = budget if np.isfinite(budget) else float(sum(i.cost_usd for i in items)) + 1.0
    chosen = _solve(items, bound, objective) if items else np.zeros(0, dtype=bool)
    mean = np.array([i.recovered_usd for i in items])
    sd = np.array([i.recovered_sd_usd for i in items])
    cost = np.array([i.cost_usd for i in items])
    draws = np.maximum(
        np.random.default_rng(seed).normal(mean[chosen], sd[chosen], (n_draws, int(chosen.sum()))),
        0.0,
    )
    total = draws.sum(axis=1)
    spent = float(cost[chosen].sum())
    q = [(1 - level) / 2, (1 + level) / 2]
    lo, hi = np.quantile(total, q) if chosen.any() else (0.0, 0.0)
    monthly = mean / timeline_months
    frame = pd.DataFrame(
        {
            "initiative": names,
            "name": [i.label or i.name for i in items],
            "driver": [i.driver for i in items],
            "cost_usd": cost,
            "recovered_usd": mean,
            "recovered_sd_usd": sd,
            "net_value_usd": mean - cost,
            "roi": np.divide(mean - cost, cost, out=np.full(len(items), np.nan), where=cost > 0),
            "payback_months": np.divide(
                cost, monthly, out=np.full(len(items), np.nan), where=monthly > 0
            ),
            "pays_back": mean > cost,
            "is_selected": chosen,
        }
    ).sort_values(["is_selected", "net_value_usd"], ascending=False, ignore_index=True)
    p = provenance or prov.Provenance(
        kind="cache",
        systems=("caller",),
        as_of=pd.Timestamp.now(tz="UTC").to_pydatetime(),
        detail="initiative figures supplied by the caller",
    )
    recovered = float(mean[chosen].sum())
    selected = [n for n, c in zip(names, chosen, strict=True) if c]
    summary: dict[str, Any] = {
        "budget_usd": "unconstrained" if unlimited else budget,
        "spent_usd": spent,
        "recovered_usd": recovered,
        "recovered_low_usd": float(lo),
        "recovered_high_usd": float(hi),
        "net_value_usd": recovered - spent,
        "net_low_usd": float(lo) - spent,
        "net_high_usd": float(hi) - spent,
        "level": level,
        "selected": selected,
        "paying_initiatives": int((mean > cost).sum()),
        "greedy_net_value_usd": _greedy_net(items, bound),
    }
    if baseline_loss_usd is not None:
        share = recovered / baseline_loss_usd if baseline_loss_usd > 0 else float("nan")
        summary.update(
            baseline_loss_usd=float(baseline_loss_usd),
            gap_usd=float(baseline_loss_usd) - recovered,
            recovery_share=share,
        )
    conflicts = {i.name: tuple(i.excludes) for i in items}
    for i in items:  # an exclusion binds both ways
        for other in i.excludes:
            conflicts[other] = (*conflicts.get(other, ()), i.name)
    finding = _finding(frame, conflicts, summary, budget if not unlimited else None, objective,
                       timeline_months, level, p)  # fmt: skip
    return Result(
        name="initiative_mix",
        title="Initiative mix",
        headline=finding.title + ".",
        frame=frame,
        provenance=p,
        findings=[finding],
        summary=summary,
        tiles=("spent_usd", "recovered_usd", "net_value_usd"),
        shown=(TableSpec("frame", "Candidate initiatives", INITIATIVE_COLUMNS),),
        _chart=_chart,
    )


def _finding(
    frame: pd.DataFrame,
    conflicts: Mapping[str, tuple[str, ...]],
    s: Mapping[str, Any],
    budget: float | None,
    objective: Objective,
    months: int,
    level: float,
    p: prov.Provenance,
) -> Finding:
    """The decision in words: what to fund and what it earns, or why nothing."""
    chosen = frame[frame["is_selected"]]
    paying = frame[frame["pays_back"]]
    labels = dict(zip(frame["initiative"], frame["name"], strict=True))
    period = f"net over the {months}-month plan"
    if chosen.empty:
        if paying.empty:
            best = frame.sort_values("net_value_usd", ascending=False).head(1)
            where = (
                f"best candidate {best['name'].iloc[0]} recovers "
                f"{fmt(best['recovered_usd'].iloc[0], 'usd')} for {fmt(best['cost_usd'].iloc[0], 'usd')}"
                if len(best)
                else "no candidates"
            )
            return Finding(
                title="No initiative pays back at these costs", where=where, source="initiative_mix",
                action="fund none of them; re-estimate costs or effects, or find cheaper ways to act on "
                "the drivers", provenance=p, confidence="medium",
            )  # fmt: skip
        cheapest = paying.sort_values("cost_usd").iloc[0]
        return Finding(
            title=f"No initiative that pays back fits a budget of {fmt(budget, 'usd')}",
            where=f"{len(paying)} of {len(frame)} candidates pay back",
            source="initiative_mix",
            action=f"raise the budget to at least {fmt(cheapest['cost_usd'], 'usd')} to fund "
            f"{cheapest['name']} (net value {fmt(cheapest['net_value_usd'], 'usd')})",
            provenance=p, confidence="medium",
        )  # fmt: skip
    net, spent = float(s["net_value_usd"]), float(s["spent_usd"])
    names = "; ".join(chosen["name"])
    pct = f"{level * 100:.0f} %"
    evidence: dict[str, tuple[float, str]] = {
        "spent": (spent, "usd"),
        "recovered": (float(s["recovered_usd"]), "usd"),
        f"net value, {pct} interval low": (float(s["net_low_usd"]), "usd"),
        f"net value, {pct} interval high": (float(s["net_high_usd"]), "usd"),
        "payback of the mix": (spent / (float(s["recovered_usd"]) / months), "months")
        if s["recovered_usd"]
        else (float("nan"), "months"),
    }
    if net <= 0:
        return Finding(
            title=f"The mix that recovers the most ({names}) loses {fmt(-net, 'usd')}",
            where=f"spends {fmt(spent, 'usd')} to recover {fmt(s['recovered_usd'], 'usd')}",
            source="initiative_mix", impact_usd=net, impact_period=period,
            impact_usd_per_year=net * 12 / months, evidence=evidence,
            action="do not fund it for its recovered revenue alone: it costs more than it brings back; "
            "choose the net-value objective to see the mix that pays",
            provenance=p, confidence="medium",
        )  # fmt: skip
    action = f"fund {names}"
    for r in paying[~paying["is_selected"]].itertuples():
        clash = [
            c
            for c in dict.fromkeys(conflicts.get(str(r.initiative), ()))
            if c in set(chosen["initiative"])
        ]
        why = (
            f"it cannot run with {', '.join(labels[c] for c in clash)}"
            if clash
            else "it does not fit the budget"
        )
        action += f"; {r.name} also pays back, but {why}"
    if float(s["net_low_usd"]) < 0:
        action += (
            f"; the low end of the {pct} interval loses {fmt(-float(s['net_low_usd']), 'usd')}, "
            "so stage the spend and measure against a control group"
        )
    if objective == "recovered":
        action += " (the mix maximises recovered revenue; it pays back)"
    count = f"{len(chosen)} initiative{'s' * (len(chosen) != 1)}"
    return Finding(
        title=f"Fund {count}: {fmt(net, 'usd')} net value over {months} months",
        where=names, source="initiative_mix", impact_usd=net, impact_period=period,
        impact_usd_per_year=net * 12 / months, evidence=evidence, action=action, provenance=p,
        confidence="low" if float(s["net_low_usd"]) < 0 else "medium",
    )  # fmt: skip


def _chart(result: Result) -> alt.LayerChart:
    df = result.frame.assign(
        low=lambda d: d.recovered_usd - 1.2816 * d.recovered_sd_usd,
        high=lambda d: d.recovered_usd + 1.2816 * d.recovered_sd_usd,
        status=lambda d: np.where(d.is_selected, "funded", np.where(d.pays_back, "pays back, not funded", "does not pay back")),
    )  # fmt: skip
    order = df.sort_values("net_value_usd", ascending=False)["name"].tolist()
    base = alt.Chart(df).encode(
        y=alt.Y("name:N", sort=order, title=None, axis=alt.Axis(labelLimit=260))
    )
    bars = base.mark_bar().encode(
        x=alt.X("net_value_usd:Q", title="Net value over the plan (USD)", axis=alt.Axis(format="$,.2s")),
        color=alt.Color("status:N", title=None, scale=alt.Scale(
            domain=["funded", "pays back, not funded", "does not pay back"],
            range=["#1a7f37", "#9a6700", "#9ca3af"])),
        tooltip=["name", alt.Tooltip("cost_usd:Q", format="$,.0f"),
                 alt.Tooltip("recovered_usd:Q", format="$,.0f"), alt.Tooltip("net_value_usd:Q", format="$,.0f")],
    )  # fmt: skip
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="#1f2328").encode(x="x:Q")
    best = df.sort_values("net_value_usd", ascending=False).iloc[0] if len(df) else None
    text = (
        f"Bar chart of the net value (recovered minus cost) of {len(df)} candidate initiatives; "
        + (f"the best, {best['name']}, nets {fmt(best['net_value_usd'], 'usd')}; "
           f"{int(df['pays_back'].sum())} pay back and {int(df['is_selected'].sum())} are funded."
           if best is not None else "there are none.")
    )  # fmt: skip
    chart = alt.layer(bars, zero).properties(
        title="Initiatives: net value and the funded mix", width=520, description=text
    )
    return cast(alt.LayerChart, chart)


# -- one campaign -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CampaignValue:
    """A campaign's expected saves and net value, with the interval of its uplift."""

    treated: int
    saves: float
    saves_low: float
    saves_high: float
    value_per_save_usd: float
    cost_usd: float

    @property
    def revenue_usd(self) -> float:
        """Expected revenue saved (saves x the value of a save)."""
        return self.saves * self.value_per_save_usd

    @property
    def net_usd(self) -> float:
        """Expected revenue saved minus the cost."""
        return self.revenue_usd - self.cost_usd

    @property
    def net_low_usd(self) -> float:
        return self.saves_low * self.value_per_save_usd - self.cost_usd

    @property
    def net_high_usd(self) -> float:
        return self.saves_high * self.value_per_save_usd - self.cost_usd

    @property
    def pays_back(self) -> bool:
        """The expected net value is positive."""
        return self.net_usd > 0

    @property
    def breakeven_uplift(self) -> float:
        """The uplift (share of the treated saved) at which revenue saved equals the cost."""
        per = self.treated * self.value_per_save_usd
        return self.cost_usd / per if per > 0 else float("inf")


def campaign_value(
    treated: int,
    uplift: float,
    uplift_low: float,
    uplift_high: float,
    *,
    value_per_save_usd: float,
    cost_usd: float,
) -> CampaignValue:
    """Expected saves (uplift x treated) and their value against the cost.

    >>> v = campaign_value(3000, 0.028, 0.012, 0.044, value_per_save_usd=143.88, cost_usd=7500)
    >>> round(v.saves), round(v.net_usd), v.pays_back, round(v.net_low_usd)
    (84, 4586, True, -2320)
    >>> round(v.breakeven_uplift, 4)
    0.0174
    """
    if treated < 0 or value_per_save_usd < 0 or cost_usd < 0:
        raise ValueError("treated, value_per_save_usd and cost_usd must be >= 0")
    return CampaignValue(
        treated=treated,
        saves=uplift * treated,
        saves_low=uplift_low * treated,
        saves_high=uplift_high * treated,
        value_per_save_usd=value_per_save_usd,
        cost_usd=cost_usd,
    )
