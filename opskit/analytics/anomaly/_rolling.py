"""Causal rolling statistics on NaN-free float arrays (the batch path's building blocks).

Every function returns, for each position ``i``, a statistic of the *past* values
``v[i - window : i]`` (the current value excluded), NaN while fewer than ``min_periods``
past values exist. They are vectorised (pandas rolling sums, scipy rank filters) and have
finite memory: the result at ``i`` depends on at most ``window`` earlier values, which is
what lets the online path replay a short buffer and get the same numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage, special

__all__ = [
    "past_max",
    "past_mean_std",
    "past_quantile",
    "shift",
    "tail_score",
    "z_for_score",
]

_SQRT2 = float(np.sqrt(2.0))


def shift(a: np.ndarray, k: int = 1) -> np.ndarray:
    """``a`` moved ``k`` places later, NaN-filled at the start."""
    out = np.full(len(a), np.nan)
    if k < len(a):
        out[k:] = a[: len(a) - k]
    return out


def _trailing(v: np.ndarray, window: int, min_periods: int, how: str, q: float = 0.5) -> np.ndarray:
    """Statistic of ``v[i - window + 1 : i + 1]`` (current value included)."""
    s = pd.Series(v, copy=False)
    roll = s.rolling(window, min_periods=min_periods)
    if how == "mean":
        return np.asarray(roll.mean().to_numpy(), dtype=float)
    if how == "std":
        return np.asarray(roll.std(ddof=1).to_numpy(), dtype=float)
    if how == "max":
        return np.asarray(roll.max().to_numpy(), dtype=float)
    # quantiles: exact O(n log w) rank filter for full windows, pandas on the short prefix
    out = np.empty(len(v))
    head = min(len(v), window - 1)
    if head:
        out[:head] = _expanding_order_stat(v[:head], q, min_periods)
    if len(v) > head:
        full = ndimage.percentile_filter(
            v, 100.0 * q, size=window, origin=(window - 1) // 2, mode="nearest"
        )
        out[head:] = full[head:]
    return out


#: Largest rank from the top (or bottom) the running-extremes method handles; beyond it
#: pandas' skiplist is cheaper.
_MAX_RANK = 16


def _expanding_order_stat(v: np.ndarray, q: float, min_periods: int) -> np.ndarray:
    """``q`` quantile (``interpolation="higher"``) of ``v[: i + 1]`` for every ``i``.

    Equal to pandas' expanding quantile. For extreme quantiles (the ensemble's 0.999 of
    past surprises) the order statistic is one of the few largest values seen so far, and
    the ``k``-th running maximum follows from the ``(k-1)``-th with two vectorised passes::

        M_k[i] = max(M_k[i - 1], min(M_{k-1}[i - 1], v[i]))

    which is ~30x faster than the skiplist on a few thousand points.
    """
    n = np.arange(1, len(v) + 1)
    rank = np.ceil(q * (n - 1)).astype(np.int64)  # ascending position, as pandas computes it
    from_top = n - 1 - rank
    if from_top.max(initial=0) <= _MAX_RANK:
        out = _running_kth_largest(v, from_top)
    elif rank.max(initial=0) <= _MAX_RANK:
        out = -_running_kth_largest(-v, rank)
    else:
        out = pd.Series(v).expanding(min_periods).quantile(q, interpolation="higher").to_numpy()
    out = np.asarray(out, dtype=float)
    out[n < min_periods] = np.nan
    return out


def _running_kth_largest(v: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``out[i]``: the ``k[i]``-th largest (0 = the maximum) of ``v[: i + 1]``."""
    out = np.empty(len(v))
    level = np.maximum.accumulate(v)
    for j in range(int(k.max(initial=0)) + 1):
        if j:
            previous = np.concatenate(([-np.inf], level[:-1]))
            level = np.maximum.accumulate(np.minimum(previous, v))
        hit = k == j
        out[hit] = level[hit]
    return out


def past_mean_std(v: np.ndarray, window: int, min_periods: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample standard deviation of the previous ``window`` values."""
    mean = _trailing(v, window, min_periods, "mean")
    std = _trailing(v, window, max(min_periods, 2), "std")
    return shift(mean), shift(std)


def past_quantile(v: np.ndarray, window: int, q: float, min_periods: int) -> np.ndarray:
    """The ``q`` quantile (an order statistic, no interpolation) of the previous values."""
    return shift(_trailing(v, window, min_periods, "quantile", q))


def past_max(v: np.ndarray, window: int, min_periods: int = 1) -> np.ndarray:
    """Maximum of the previous ``window`` values."""
    return shift(_trailing(v, window, min_periods, "max"))


def tail_score(z: np.ndarray) -> np.ndarray:
    """Two-sided Gaussian tail score ``1 - P(|Z| >= |z|)`` in [0, 1] (NaN stays NaN)."""
    return np.asarray(special.erf(np.abs(z) / _SQRT2), dtype=float)


def z_for_score(score: float) -> float:
    """Inverse of :func:`tail_score`: the ``|z|`` whose score is ``score``."""
    if not 0.0 <= score < 1.0:
        raise ValueError(f"score threshold must be in [0, 1), got {score!r}")
    return float(special.erfinv(score) * _SQRT2)
