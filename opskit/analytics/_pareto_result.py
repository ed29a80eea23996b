"""The Pareto result (private; public names are re-exported by ``opskit.analytics.pareto``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from opskit.analytics import _pareto_chart as _chart
from opskit.analytics import _pareto_core as _core
from opskit.analytics import _pareto_text as _text
from opskit.analytics._result import Result
from opskit.present.units import fmt
from opskit.provenance import KINDS, Provenance

OUTPUT = ("value", "n_rows", "share", "cumulative_share", "rank", "abc_class", "is_vital_few")


@dataclass(frozen=True)
class WhatIf:
    """The impact of fixing (removing ``reduction`` of) the top ``k`` items.

    Attributes
    ----------
    k, reduction
        How many leading items are fixed, and what fraction of their value goes.
    items
        Their labels, largest first.
    value_removed, share_removed
        Value taken out, and as a share of the total.
    remaining_value, remaining_share
        What is left.
    unit, period
        Unit of the values (``"usd"`` for money) and, for money, its period.
    """

    k: int
    reduction: float
    items: tuple[str, ...]
    value_removed: float
    share_removed: float
    remaining_value: float
    remaining_share: float
    unit: str
    period: str

    def text(self) -> str:
        """One sentence built from the fields."""
        return (
            f"Fixing the top {self.k} ({_text.names(self.items)}) removes "
            f"{fmt(self.value_removed, _text.display_unit(self.unit))} "
            f"({fmt(self.share_removed, 'fraction')}); "
            f"{fmt(self.remaining_value, _text.display_unit(self.unit))} remains."
        )


@dataclass(frozen=True)
class State:
    ranked: _core.Ranked
    labels: Callable[[int], str]  # label of the item at sorted position i
    noun: str
    what: str
    levels: list[pd.DataFrame]


@dataclass(eq=False)
class ParetoResult(Result):
    """A :class:`Result` with the Pareto extras (vital few, what-if, drill-down, chart).

    ``frame`` lists every item, largest first: the ``by`` column(s) (or ``item``,
    the index labels, for ``by=None``), ``value``, ``n_rows`` (rows summed; only
    with ``by``), ``share``, ``cumulative_share``, ``rank``, ``abc_class``,
    ``is_vital_few`` and ``provenance``. ``summary`` holds ``total``, ``items``,
    ``vital_few_count``, ``vital_few_share``, ``top20_share``, ``top20_items``,
    ``gini``, ``statement``, ``unit``, ``period`` and ``target``.
    """

    value: str | None = None
    by: tuple[str, ...] = ()
    target: float = 0.8
    _state: State | None = field(default=None, repr=False)

    @property
    def _s(self) -> State:
        if self._state is None:
            raise ValueError("this ParetoResult was not built by pareto()")
        return self._state

    @property
    def vital_few(self) -> pd.DataFrame:
        """The rows of :attr:`frame` that are the vital few."""
        return self.frame.iloc[: self._s.ranked.k]

    @property
    def gini(self) -> float:
        """Gini coefficient of the item values (0 = all equal)."""
        return float(self.summary["gini"])

    @property
    def top20_share(self) -> float:
        """Share of the total held by the top 20 % of items (``ceil(0.2 n)``, at least one)."""
        return float(self.summary["top20_share"])

    @property
    def statement(self) -> str:
        """How concentrated the values are, in words."""
        return str(self.summary["statement"])

    def what_if(self, k: int, *, reduction: float = 1.0) -> WhatIf:
        """Impact of fixing the top ``k`` items (removing ``reduction`` of their value).

        Examples
        --------
        >>> from datetime import UTC, datetime
        >>> from opskit.analytics.pareto import pareto
        >>> demo = Provenance("demo", ("example",), datetime(2026, 1, 1, tzinfo=UTC))
        >>> costs = pd.DataFrame({"team": ["a", "b", "c"], "cost_usd": [60.0, 30.0, 10.0]})
        >>> pareto(costs, "cost_usd", "team", provenance=demo).what_if(2).text()
        'Fixing the top 2 (a, b) removes $90 (90.0 %); $10 remains.'
        """
        r = self._s.ranked
        if not 1 <= k <= len(r.values):
            raise ValueError(f"k must be between 1 and {len(r.values)}, got {k}")
        if not 0 < reduction <= 1:
            raise ValueError(f"reduction must be in (0, 1], got {reduction}")
        removed = reduction * float(r.values[:k].sum())
        unit, period = self.summary["unit"], self.summary["period"]
        return WhatIf(
            k=k,
            reduction=reduction,
            items=tuple(self._s.labels(i) for i in range(k)),
            value_removed=removed,
            share_removed=removed / r.total,
            remaining_value=r.total - removed,
            remaining_share=1.0 - removed / r.total,
            unit=unit,
            period=period,
        )

    def what_if_table(self, max_k: int | None = None, *, reduction: float = 1.0) -> pd.DataFrame:
        """What-if for ``k = 1 .. max_k`` (default: the vital few, at least 10, at most 100)."""
        r = self._s.ranked
        n = len(r.values)
        m = min(n, max_k if max_k is not None else min(100, max(r.k, 10)))
        if m < 1 or not 0 < reduction <= 1:
            raise ValueError(f"need max_k >= 1 and reduction in (0, 1], got {max_k}, {reduction}")
        removed = reduction * np.cumsum(r.values[:m])
        return pd.DataFrame(
            {
                "k": np.arange(1, m + 1),
                "item": [self._s.labels(i) for i in range(m)],
                "item_value": r.values[:m],
                "value_removed": removed,
                "share_removed": removed / r.total,
                "remaining_value": r.total - removed,
                "remaining_share": 1.0 - removed / r.total,
            }
        )

    def drilldown(self, level: int | str = 0, *, all_parents: bool = False) -> pd.DataFrame:
        """Pareto within each parent at one level of ``by`` (0 or ``by[0]`` = the top level).

        By default only groups whose every ancestor is among its parent's vital
        few are listed (the drill-down path); ``all_parents=True`` lists all.
        """
        levels = self._s.levels
        if not levels:
            raise ValueError("drill-down needs by= with at least two columns")
        if isinstance(level, str):
            if level not in self.by:
                raise ValueError(f"unknown level {level!r}; choose from {list(self.by)}")
            level = self.by.index(level)
        if not 0 <= level < len(levels):
            raise ValueError(f"level must be in 0..{len(levels) - 1}, got {level}")
        table = levels[level]
        if not all_parents:
            table = table[table["is_on_vital_path"]]
        return table.reset_index(drop=True)

    def chart(self, max_bars: int = 25) -> Any:
        """Altair Pareto chart: sorted bars (vital few highlighted), cumulative line, target rule.

        Items past ``max_bars`` are summed into one ``other`` bar.
        """
        if max_bars < 1:
            raise ValueError(f"max_bars must be >= 1, got {max_bars}")
        s = self._s
        shown = min(len(s.ranked.values), max_bars)
        data = _chart.chart_data(
            [s.labels(i) for i in range(shown)], s.ranked.values, s.ranked.cum, s.ranked.k, max_bars
        )
        title = f"Pareto of {s.what} by {s.noun}"
        unit, period = str(self.summary["unit"]), str(self.summary["period"])
        k, n = s.ranked.k, len(s.ranked.values)
        total = fmt(float(self.summary["total"]), _text.display_unit(unit))
        text = (
            f"Pareto chart of {s.what} by {s.noun}, largest first: the {k} vital few of {n} "
            f"{s.noun} hold {fmt(float(self.summary['vital_few_share']), 'fraction')} of the total "
            f"{total}; the line is the cumulative share against the {fmt(self.target, 'fraction')} target."
        )
        return _chart.pareto_chart(data, target=self.target, noun=s.noun, what=s.what, title=title,
                                   unit=unit, period=period, description=text)  # fmt: skip


def labeller(items: _core.Items, order: np.ndarray[Any, Any]) -> Callable[[int], str]:
    if items.index_labels is not None:
        idx = items.index_labels

        def label(i: int) -> str:
            x = idx[int(order[i])]
            return "(missing)" if pd.isna(x) else str(x)

        return label

    def joined(i: int) -> str:
        j = int(order[i])
        return " / ".join(
            lv.text(int(c[j])) for lv, c in zip(items.levels, items.codes, strict=True)
        )

    return joined


def item_frame(
    items: _core.Items, order: np.ndarray[Any, Any], r: _core.Ranked, prov: Provenance
) -> pd.DataFrame:
    n = len(r.values)
    cols: dict[str, Any] = {}
    if items.index_labels is not None:
        name = items.index_labels.name
        idx = items.index_labels
        plain = isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1
        cols["item" if name is None or name in OUTPUT else str(name)] = (
            order if plain else idx.take(order)
        )
    for lv, codes in zip(items.levels, items.codes, strict=True):
        cols[lv.name] = lv.column(codes[order])
    cols["value"] = r.values
    if items.n_rows is not None:  # with by=: rows per item (by=None: always one)
        cols["n_rows"] = items.n_rows[order]
    rank = np.arange(1, n + 1, dtype=np.int64)
    is_vital = np.zeros(n, dtype=bool)
    is_vital[: r.k] = True
    cols |= {
        "share": r.share,
        "cumulative_share": r.cum,
        "rank": rank,
        "abc_class": _core.abc_column(r.abc),
        "is_vital_few": is_vital,
        "provenance": pd.Categorical.from_codes(
            np.full(n, KINDS.index(prov.kind), dtype=np.int8), categories=list(KINDS)
        ),
    }
    out = pd.DataFrame(cols, copy=False)
    out.attrs["provenance"] = prov.to_dict()
    return out


def drill_table(levels: list[pd.DataFrame]) -> pd.DataFrame:
    keys = [
        c for c in levels[-1].columns if c not in levels[0].columns or c == levels[0].columns[1]
    ]
    parts = []
    for t in levels:
        t = t[t["is_on_vital_path"]]
        for k in keys:
            if k not in t.columns:
                t = t.assign(**{k: pd.Series([None] * len(t), index=t.index, dtype=object)})
        parts.append(t[list(levels[-1].columns)])
    return pd.concat(parts, ignore_index=True)
