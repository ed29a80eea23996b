"""Pareto core: rank items by impact and find the vital few.

The vital few are the *smallest* set of items whose cumulative share reaches the
target (default 80 %), not a fixed 20 % of items. Ties are broken by item label so
the result is deterministic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["pareto_table"]

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
