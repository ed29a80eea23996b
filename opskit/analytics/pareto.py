"""Pareto analysis: which few items hold most of an impact, and what fixing them is worth.

:func:`pareto` groups a frame's rows into items (``by``), sums a value per item
and ranks the items, returning a :class:`ParetoResult`. :func:`pareto_table`
ranks an already aggregated Series (used by the ``pareto_analysis`` dataset).

Definitions
-----------
vital few
    The *smallest* set of items, largest first, whose cumulative share reaches
    ``target`` (default 80 %), never a fixed 20 % of the items. An item is in it
    when the cumulative share *before* it is below the target.
ties
    Items with equal values are ordered by label: ascending label order (the
    category order for categorical keys; for ``by=None`` the index labels),
    missing labels last, comparing mixed-type labels as text. The ranking is
    therefore the same whatever the row order of the input.
ABC classes
    ``A`` = the vital few; ``B`` = the following items while the cumulative
    share before them is below ``b_limit`` (default 95 %); ``C`` = the rest.
concentration
    Described by the share of items needed to reach the target: at most 10 %
    "highly concentrated", 25 % "concentrated", 50 % "moderately
    concentrated", otherwise "spread out". Being more concentrated than 80/20
    is a finding, never an error.
Gini coefficient
    ``(n + 1) / n - 2 / n * sum_j j * share_j`` over items ranked ``j = 1..n``
    largest first: 0 when all items are equal, ``(n - 1) / n`` when one holds
    everything.
bad input
    Unknown columns, a non-numeric value column, an empty frame, infinite
    values or a zero total raise ``ValueError``. Negative values raise unless
    ``negative="clip"`` (count as 0) or ``"drop"`` (leave the rows out); NaN
    values raise unless ``missing="drop"``. Rows whose ``by`` key is missing
    form their own item (shown as ``(missing)`` in text).
drill-down
    With several ``by`` columns, ``frame`` ranks the full combinations, and
    :meth:`ParetoResult.drilldown` ranks each level *within its parent*
    (component within show, cause within component), following the vital few.
speed
    Rows are mapped to item codes without hashing for categorical and compact
    integer keys (``pandas.factorize`` otherwise), summed with ``np.bincount``
    and ranked with one packed-key sort; ``python -m benchmarks.pareto``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from opskit.analytics import _pareto_core as _core
from opskit.analytics import _pareto_drill as _drill
from opskit.analytics import _pareto_result as _res
from opskit.analytics import _pareto_text as _text
from opskit.analytics._pareto_result import ParetoResult, WhatIf
from opskit.provenance import Provenance, combine, of

__all__ = ["ParetoResult", "WhatIf", "pareto", "pareto_table"]

logger = logging.getLogger(__name__)


#: Cumulative share at which class B ends (A ends at the target).
B_LIMIT = 0.95
_EPS = 1e-12


def pareto_table(values: pd.Series, *, target: float = 0.8) -> pd.DataFrame:
    """Rank ``values`` (indexed by item) and classify them.

    Parameters
    ----------
    values
        Non-negative impact per item; the index holds the item labels (unique).
    target
        Cumulative share the vital few must reach, in (0, 1].

    Returns
    -------
    pandas.DataFrame
        Columns ``item, value, rank, share, cumulative_share, is_vital_few,
        abc_class``, largest first.

    Raises
    ------
    ValueError
        On NaN or negative values, duplicate items, a zero total, or a target
        outside (0, 1].

    Examples
    --------
    >>> t = pareto_table(pd.Series({"a": 70.0, "b": 20.0, "c": 10.0}))
    >>> t["is_vital_few"].tolist()
    [True, True, False]
    """
    if not 0 < target <= 1:
        raise ValueError(f"target must be in (0, 1], got {target}")
    if not pd.api.types.is_numeric_dtype(values):
        raise ValueError(f"values must be numeric, got dtype {values.dtype}")
    v = values.astype("float64")
    if v.isna().any():
        raise ValueError(
            f"{int(v.isna().sum())} value(s) are missing (NaN); fill or drop them first"
        )
    if (v < 0).any():
        raise ValueError(
            f"{int((v < 0).sum())} value(s) are negative (e.g. {v[v < 0].index[0]!r}); "
            "a Pareto analysis needs non-negative impacts"
        )
    if v.index.has_duplicates:
        raise ValueError("item labels must be unique; aggregate by item first")
    total = float(v.sum())
    if total <= 0:
        raise ValueError("the total is zero: there is nothing to prioritise")
    labels = v.index.astype(str).to_numpy()
    order = np.lexsort((labels, -v.to_numpy()))
    vals = v.to_numpy()[order]
    share = vals / total
    cum = np.cumsum(vals) / total
    k = int(np.searchsorted(cum, target - _EPS)) + 1
    rank = np.arange(1, len(vals) + 1)
    abc = np.where(rank <= k, "A", np.where(cum - share < B_LIMIT - _EPS, "B", "C"))
    return pd.DataFrame(
        {
            "item": v.index.to_numpy()[order],
            "value": vals,
            "rank": rank,
            "share": share,
            "cumulative_share": np.minimum(cum, 1.0),
            "is_vital_few": rank <= k,
            "abc_class": abc,
        }
    )


def pareto(
    frame: pd.DataFrame,
    value: str | None,
    by: str | Sequence[str] | None = None,
    target: float = 0.8,
    *,
    top_k: int | None = None,
    b_limit: float = B_LIMIT,
    negative: _core.NegativeRule = "error",
    missing: _core.MissingRule = "error",
    unit: str | None = None,
    period: str | None = None,
    provenance: Provenance | None = None,
) -> ParetoResult:
    """Rank the items of ``frame`` by ``value`` and find the vital few.

    Parameters
    ----------
    frame
        One row per record (issues, tickets, cohorts ...).
    value
        Numeric column to sum per item; ``None`` counts rows.
    by
        Column(s) defining an item; several columns give a drill-down (first
        column outermost). ``None``: every row is an item, labelled by the index.
    target
        Cumulative share the vital few must reach, in (0, 1].
    top_k
        How many leading items get their own finding (default: the vital few, at most 3).
    b_limit
        Cumulative share where class B ends (A ends at ``target``).
    negative, missing
        What to do with negative / NaN values: ``"error"`` (default), ``"clip"``
        (negative only: count as 0) or ``"drop"`` (leave the rows out, logged).
    unit, period
        Unit of ``value`` (``"usd"``, ``"subscribers"``, ``"hours"`` ...) and,
        for money, its period; inferred from the column name when omitted
        (``revenue_at_risk_30d_usd`` -> USD per 30 days). Only ``"usd"`` is
        reported as money at stake, only ``"subscribers"`` as subscribers.
    provenance
        Where the numbers came from, required when ``frame`` carries none
        (combined with the frame's own otherwise: the weaker kind wins).

    Returns
    -------
    ParetoResult
        ``frame`` (every item, largest first), ``vital_few``, ``summary``,
        ``findings``, ``what_if()``, ``drilldown()`` and ``chart()``.

    Raises
    ------
    ValueError
        On bad input (see the module docstring) or missing provenance.
    TypeError
        If ``frame`` is not a DataFrame.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> issues = pd.DataFrame(
    ...     {
    ...         "component": ["cdn", "cdn", "drm", "player", "api", "drm", "cdn", "auth"],
    ...         "cost_usd": [40.0, 20.0, 15.0, 10.0, 5.0, 10.0, 20.0, 0.0],
    ...     }
    ... )
    >>> demo = Provenance("demo", ("example",), datetime(2026, 1, 1, tzinfo=UTC))
    >>> r = pareto(issues, "cost_usd", by="component", provenance=demo)
    >>> r.vital_few["component"].tolist()
    ['cdn', 'drm']
    >>> r.statement
    'moderately concentrated: 40.0 % of components (2 of 5) hold 87.5 % of the cost'
    >>> r.what_if(1).share_removed
    0.6666666666666666
    >>> r.frame["abc_class"].tolist()
    ['A', 'A', 'B', 'C', 'C']
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    keys = [by] if isinstance(by, str) else list(by or [])
    _check_args(frame, value, keys, target, b_limit, top_k, negative, missing)
    prov = _provenance(frame, provenance)
    if len(frame) == 0:
        raise ValueError("the frame is empty: there is nothing to rank")
    v, keep, notes = _core.clean_values(frame, value, negative, missing)
    for what, count in notes.items():
        logger.warning("pareto(%s): %s: %d row(s)", value, what.replace("_", " "), count)
    items = _core.aggregate(frame, keys, v, keep)
    if len(items.values) == 0:
        raise ValueError("no rows are left after dropping missing/negative values")
    if not float(items.values.sum()) > 0:
        raise ValueError(f"the total of {value or 'rows'} is zero: there is nothing to prioritise")
    order = _core.rank_desc(items.values, items.tie_rank)
    ranked = _core.pareto_stats(items.values[order], target, b_limit)
    labels = _res.labeller(items, order)
    what = "rows" if value is None else _text.measure_name(str(value))
    inferred_unit, inferred_period = _text.infer_unit(None if value is None else str(value))
    unit = inferred_unit if unit is None else unit
    period = (
        (inferred_period or _text.DEFAULT_PERIOD if unit == "usd" else "")
        if period is None
        else period
    )
    idx_name = None if items.index_labels is None else items.index_labels.name
    state = _res.State(
        ranked=ranked,
        labels=labels,
        noun=_text.item_noun(keys, None if idx_name is None else str(idx_name)),
        what=what,
        levels=_drill.drill_levels(items, target, b_limit) if len(keys) > 1 else [],
    )
    out = _res.item_frame(items, order, ranked, prov)
    top20 = _core.top_fraction_share(ranked.cum)
    gini = _core.gini(ranked.cum)
    held = float(ranked.cum[ranked.k - 1])
    statement = _text.concentration(ranked.k, len(ranked.values), held, state.noun, state.what)
    summary: dict[str, Any] = {
        "statement": statement,
        "total": ranked.total,
        "unit": unit,
        "period": period,
        "items": len(ranked.values),
        "rows": len(items.values) if items.n_rows is None else int(items.n_rows.sum()),
        "target": target,
        "vital_few_count": ranked.k,
        "vital_few_share": held,
        "top20_share": top20[0],
        "top20_items": top20[1],
        "gini": gini,
        **notes,
    }
    result = ParetoResult(
        name="pareto",
        frame=out,
        provenance=prov,
        summary=summary,
        value=value,
        by=tuple(keys),
        target=target,
        _state=state,
    )
    result.tables["what_if"] = result.what_if_table()
    if state.levels:
        result.tables["drilldown"] = _res.drill_table(state.levels)
    result.findings = _text.findings(result, top_k)
    return result


def _check_args(
    frame: pd.DataFrame,
    value: str | None,
    keys: list[str],
    target: float,
    b_limit: float,
    top_k: int | None,
    negative: str,
    missing: str,
) -> None:
    if not 0 < target <= 1:
        raise ValueError(f"target must be in (0, 1], got {target}")
    if not 0 < b_limit <= 1:
        raise ValueError(f"b_limit must be in (0, 1], got {b_limit}")
    if top_k is not None and top_k < 0:
        raise ValueError(f"top_k must be >= 0, got {top_k}")
    if negative not in ("error", "clip", "drop"):
        raise ValueError(f"negative must be 'error', 'clip' or 'drop', got {negative!r}")
    if missing not in ("error", "drop"):
        raise ValueError(f"missing must be 'error' or 'drop', got {missing!r}")
    unknown = [c for c in [value, *keys] if c is not None and c not in frame.columns]
    if unknown:
        raise ValueError(f"unknown column(s) {unknown}; the frame has {list(frame.columns)}")
    if value is not None and value in keys:
        raise ValueError(f"{value!r} cannot be both the value and a by column")
    if len(set(keys)) != len(keys):
        raise ValueError(f"by lists a column twice: {keys}")
    clash = [k for k in keys if k in (*_res.OUTPUT, "provenance")]
    if clash:
        raise ValueError(f"by column(s) {clash} clash with output columns; rename them first")


def _provenance(frame: pd.DataFrame, given: Provenance | None) -> Provenance:
    try:
        own: Provenance | None = of(frame)
    except ValueError:
        own = None
    if own is None:
        if given is None:
            raise ValueError(
                "the frame carries no provenance: pass provenance=Provenance(kind=..., "
                "systems=..., as_of=...) saying where the numbers came from"
            )
        return given
    return own if given is None else combine([own, given])
