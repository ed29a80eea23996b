"""Drill-down kernels (private): Pareto statistics within parent groups, level by level."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from opskit.analytics._pareto_core import (
    TOL,
    FloatArray,
    IntArray,
    Items,
    abc_column,
    combine_codes,
)

__all__ = ["drill_levels", "within_groups"]


def within_groups(
    parent: IntArray, values: FloatArray, tie: IntArray, target: float, b_limit: float
) -> dict[str, Any]:
    """Pareto statistics of ``values`` within each ``parent`` group (sorted by parent, rank)."""
    order = np.lexsort((tie, -values, parent))
    p, vs = parent[order], values[order]
    n = len(vs)
    idx = np.arange(n)
    is_start = np.ones(n, dtype=bool)
    is_start[1:] = p[1:] != p[:-1]
    start = np.maximum.accumulate(np.where(is_start, idx, 0))
    ptotal = np.bincount(p, weights=vs)[p]
    cs = np.cumsum(vs)
    base = cs[start] - vs[start]
    with np.errstate(invalid="ignore", divide="ignore"):
        cum = np.where(ptotal > 0, (cs - base) / ptotal, np.nan)
        share = np.where(ptotal > 0, vs / ptotal, np.nan)
    cum_before = np.where(is_start, 0.0, cum - share)
    positive = ptotal > 0
    vital = positive & (cum_before < target - TOL)
    in_b = positive & (cum_before < b_limit - TOL)
    abc = np.where(vital, 0, np.where(in_b, 1, 2)).astype(np.int8)
    return {
        "order": order,
        "rank": idx - start + 1,
        "share": share,
        "cumulative_share": np.minimum(cum, 1.0),
        "is_vital_few": vital,
        "abc": abc,
    }


def drill_levels(items: Items, target: float, b_limit: float) -> list[pd.DataFrame]:
    """Per level of ``by``: each group's Pareto statistics within its parent group.

    Rows are ordered hierarchically (parents in their own order, then rank within
    the parent). ``is_on_vital_path`` is true when every ancestor is among the
    vital few of its own parent.
    """
    n_items = len(items.values)
    total = float(items.values.sum())
    out: list[pd.DataFrame] = []
    group_of_item = np.zeros(n_items, dtype=np.int64)
    prev_pos = np.zeros(1, dtype=np.int64)
    prev_vital = np.ones(1, dtype=bool)
    prev_path = np.ones(1, dtype=bool)
    for d, level in enumerate(items.levels):
        sizes = [len(lv.labels) + 1 for lv in items.levels[: d + 1]]
        key = combine_codes(items.codes[: d + 1], sizes)[0] if d else items.codes[0]
        _, inv = np.unique(key, return_inverse=True)
        inv = inv.astype(np.int64).ravel()
        g = int(inv.max()) + 1
        vals = np.bincount(inv, weights=items.values, minlength=g).astype(np.float64, copy=False)
        n_rows = np.bincount(inv, weights=items.n_rows, minlength=g).astype(np.int64)
        rep = np.empty(g, dtype=np.int64)
        rep[inv[::-1]] = np.arange(n_items - 1, -1, -1)
        parent = group_of_item[rep]
        st = within_groups(parent, vals, level.rank[items.codes[d][rep]], target, b_limit)
        order = st["order"]
        final = np.lexsort((st["rank"], prev_pos[parent[order]]))
        sel = order[final]
        on_path = prev_path[parent] & prev_vital[parent]
        cols: dict[str, Any] = {"level": np.full(g, d, dtype=np.int64)}
        for lv, codes in zip(items.levels[: d + 1], items.codes[: d + 1], strict=True):
            cols[lv.name] = lv.column(codes[rep[sel]])
        cols |= {
            "value": vals[sel],
            "n_rows": n_rows[sel],
            "share_of_total": vals[sel] / total,
            "share": st["share"][final],
            "cumulative_share": st["cumulative_share"][final],
            "rank": st["rank"][final],
            "abc_class": abc_column(st["abc"][final]),
            "is_vital_few": st["is_vital_few"][final],
            "is_on_vital_path": on_path[sel],
        }
        out.append(pd.DataFrame(cols))
        prev_pos = np.empty(g, dtype=np.int64)
        prev_pos[sel] = np.arange(g)
        prev_vital = np.empty(g, dtype=bool)
        prev_vital[order] = st["is_vital_few"]
        prev_path = on_path
        group_of_item = inv
    return out
