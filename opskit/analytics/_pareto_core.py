"""Numeric kernels behind :func:`opskit.analytics.pareto.pareto` (private).

Everything here works on NumPy arrays: rows are mapped to integer item codes
(``pandas.factorize`` or a categorical's codes), summed with ``np.bincount``
and ranked with one ``np.argsort``. The slow, label-aware tie-break (a
``np.lexsort``) only runs when two items have exactly the same value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Float tolerance when comparing cumulative shares with the target.
TOL = 1e-9
ABC = ("A", "B", "C")
NegativeRule = Literal["error", "clip", "drop"]
MissingRule = Literal["error", "drop"]


@dataclass(frozen=True)
class Level:
    """One grouping column: the codes of its distinct labels and how to show them."""

    name: str
    labels: pd.Index  # distinct non-missing labels; code len(labels) means "missing"
    dtype: Any  # categorical dtype to rebuild, or None
    is_sorted: bool  # codes already follow label order (categories, integer ranges)

    @cached_property
    def rank(self) -> IntArray:
        """Tie-break rank per code (missing last); computed only when needed."""
        if self.is_sorted:
            return np.arange(len(self.labels) + 1, dtype=np.int64)
        return np.append(_label_rank(self.labels), len(self.labels))

    def column(self, codes: IntArray) -> Any:
        """The labels for ``codes`` (``len(labels)`` = missing) as a column."""
        missing = codes >= len(self.labels)
        if self.dtype is not None:
            return pd.Categorical.from_codes(np.where(missing, -1, codes), dtype=self.dtype)
        if not missing.any():
            return self.labels.take(codes)
        return pd.api.extensions.take(
            self.labels.to_numpy(), np.where(missing, -1, codes), allow_fill=True
        )

    def text(self, code: int) -> str:
        return "(missing)" if code >= len(self.labels) else str(self.labels[code])


@dataclass(frozen=True)
class Items:
    """Rows aggregated to items: per-item value, row count and level codes."""

    values: FloatArray
    n_rows: IntArray | None  # None when every row is an item (by=None)
    codes: list[IntArray]  # per level, the code of each item
    levels: list[Level]
    index_labels: pd.Index | None = None  # when by=None: the rows' own labels

    def tie_rank(self) -> IntArray:
        """A unique-ish integer per item ordering its labels (first level first)."""
        if self.index_labels is not None:
            return _label_rank(self.index_labels)
        keys = [
            lv.rank[c] for lv, c in zip(reversed(self.levels), reversed(self.codes), strict=True)
        ]
        return np.lexsort(keys).argsort().astype(np.int64) if len(keys) > 1 else keys[0]


def clean_values(
    frame: pd.DataFrame, value: str | None, negative: NegativeRule, missing: MissingRule
) -> tuple[FloatArray, BoolArray | None, dict[str, int]]:
    """The value column as float64, the rows to keep (None = all) and what was dropped."""
    if value is None:
        return np.ones(len(frame)), None, {}
    col = frame[value]
    if isinstance(col, pd.DataFrame):
        raise ValueError(f"column {value!r} appears more than once in the frame")
    dtype = col.dtype
    if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)) or (
        pd.api.types.is_complex_dtype(dtype)
    ):
        raise ValueError(
            f"value column {value!r} must be numeric, got dtype {dtype}; "
            "convert it first (e.g. pd.to_numeric(frame[col], errors='coerce'))"
        )
    if dtype == np.float64:
        v: FloatArray = col.to_numpy()
    else:
        v = col.to_numpy(dtype=np.float64, na_value=np.nan)
    notes: dict[str, int] = {}
    keep: BoolArray | None = None
    lo, hi = (float(v.min()), float(v.max())) if len(v) else (0.0, 0.0)  # NaN propagates
    if lo >= 0 and hi < np.inf:  # the common case: nothing to check further
        return v, None, notes
    if not np.isfinite(v).all():
        if np.isinf(v).any():
            raise ValueError(
                f"value column {value!r} has {int(np.isinf(v).sum())} infinite value(s)"
            )
        nan = np.isnan(v)
        n_nan = int(nan.sum())
        if missing == "error":
            raise ValueError(
                f"value column {value!r} has {n_nan} missing (NaN) value(s); drop or fill them, "
                "or pass missing='drop' to leave those rows out"
            )
        keep = ~nan
        notes["rows_dropped_missing"] = n_nan
    neg = v < 0  # NaN compares False
    if neg.any():
        n_neg = int(neg.sum())
        if negative == "error":
            raise ValueError(
                f"value column {value!r} has {n_neg} negative value(s) (min {np.nanmin(v):g}); "
                "a Pareto analysis ranks non-negative impacts: pass negative='clip' "
                "(count them as 0) or negative='drop' (leave those rows out)"
            )
        if negative == "clip":
            v = np.where(neg, 0.0, v)
            notes["rows_clipped_negative"] = n_neg
        else:
            keep = ~neg if keep is None else keep & ~neg
            notes["rows_dropped_negative"] = n_neg
    return v, keep, notes


def _label_rank(labels: pd.Index) -> IntArray:
    """Rank of each label in ascending order (missing last, position breaks ties)."""
    n = len(labels)
    if (isinstance(labels, pd.RangeIndex) and labels.step > 0) or labels.is_monotonic_increasing:
        return np.arange(n, dtype=np.int64)
    na = np.asarray(labels.isna())
    valid = np.flatnonzero(~na)
    vals = labels[valid]
    try:
        order = np.asarray(vals.argsort(kind="stable"))
    except TypeError:  # mixed types: compare as text
        order = np.asarray(vals.astype(str).argsort(kind="stable"))
    rank = np.empty(n, dtype=np.int64)
    rank[valid[order]] = np.arange(len(valid))
    rank[np.flatnonzero(na)] = np.arange(len(valid), n)
    return rank


def _level(frame: pd.DataFrame, name: str) -> tuple[IntArray, Level]:
    col = frame[name]
    if isinstance(col.dtype, pd.CategoricalDtype):
        labels = col.cat.categories
        codes = col.cat.codes.to_numpy().astype(np.int64)
        dtype: Any = col.dtype
        is_sorted = True  # category order
    elif (dense := _dense_int_codes(col)) is not None:
        codes, labels = dense
        dtype, is_sorted = None, True
    else:
        raw, labels = pd.factorize(col, use_na_sentinel=True)
        codes = raw.astype(np.int64, copy=False)
        dtype, is_sorted = None, False
    if len(codes) and codes.min() < 0:
        codes = np.where(codes < 0, len(labels), codes)
    return codes, Level(name, labels, dtype, is_sorted)


def _dense_int_codes(col: pd.Series) -> tuple[IntArray, pd.Index] | None:
    """Integer keys in a compact range are their own codes (no hashing): ``key - min``.

    Labels that do not occur get no rows and are left out by :func:`aggregate`.
    """
    if not isinstance(col.dtype, np.dtype) or col.dtype.kind not in "iu" or len(col) == 0:
        return None
    arr = col.to_numpy()
    lo, hi = int(arr.min()), int(arr.max())
    if hi - lo >= max(len(arr), 1 << 16) or hi >= 1 << 62:
        return None
    codes = arr.astype(np.int64, copy=False)
    if lo:
        codes = codes - lo
    return codes, pd.RangeIndex(lo, hi + 1, name=None)


def aggregate(
    frame: pd.DataFrame, by: Sequence[str], v: FloatArray, keep: BoolArray | None
) -> Items:
    """Sum ``v`` per item (the distinct combinations of ``by``; every row if ``by`` is empty)."""
    if not by:
        labels = frame.index if keep is None else frame.index[keep]
        vals = v if keep is None else v[keep]
        return Items(vals, None, [], [], labels)
    pairs = [_level(frame, b) for b in by]
    levels = [lv for _, lv in pairs]
    row_codes = [c if keep is None else c[keep] for c, _ in pairs]
    vals = v if keep is None else v[keep]
    sizes = [len(lv.labels) + 1 for lv in levels]
    if len(by) == 1:
        gid, n_groups = row_codes[0], sizes[0]
    else:
        gid, n_groups = combine_codes(row_codes, sizes)
    sums = np.bincount(gid, weights=vals, minlength=n_groups).astype(np.float64, copy=False)
    counts = np.bincount(gid, minlength=n_groups).astype(np.int64)
    present = np.flatnonzero(counts)
    item_gid = present.astype(np.int64)
    codes = _decode(item_gid, row_codes, gid, sizes) if len(by) > 1 else [item_gid]
    return Items(sums[present], counts[present], codes, levels)


def combine_codes(codes: list[IntArray], sizes: list[int]) -> tuple[IntArray, int]:
    """One dense group id per row from several level codes (re-factorized when sparse)."""
    gid = codes[0]
    span = sizes[0]
    for c, s in zip(codes[1:], sizes[1:], strict=True):
        gid = gid * s + c
        span *= s
        if span > max(4 * len(gid), 1 << 20):
            raw, uniq = pd.factorize(gid, sort=False)
            gid, span = raw.astype(np.int64), len(uniq)
    return gid, span


def _decode(
    item_gid: IntArray, row_codes: list[IntArray], gid: IntArray, sizes: list[int]
) -> list[IntArray]:
    """Level codes of each item: read them from one representative row per group."""
    first = np.full(int(gid.max()) + 1 if len(gid) else 0, -1, dtype=np.int64)
    first[gid[::-1]] = np.arange(len(gid) - 1, -1, -1)  # last write wins: the first row
    rows = first[item_gid]
    return [c[rows] for c in row_codes]


def rank_desc(values: FloatArray, tie_rank: Callable[[], IntArray]) -> IntArray:
    """Positions sorting ``values`` largest first; equal values ordered by ``tie_rank``."""
    order = _argsort_desc(values)
    if len(values) > 1:
        vs = values[order]
        if (vs[1:] == vs[:-1]).any():
            order = np.lexsort((tie_rank(), -values))
    return order


def _argsort_desc(v: FloatArray) -> IntArray:
    """Descending order of non-negative values (order among equal values unspecified).

    Packs the complement of the value's leading bits (the bits of a non-negative
    float sort like the float) and the row position into one uint64, and sorts
    that with NumPy's vectorised ``sort``, about twice as fast as ``argsort``.
    Values whose truncated keys collide are then put in exact order; if many
    collide, plain ``argsort`` is used instead.
    """
    n = len(v)
    if n < 4096:
        return np.argsort(-v)
    bits = np.uint64((n - 1).bit_length())
    key = (v + 0.0).view(np.uint64)  # a fresh copy; + 0.0 turns -0.0 into 0.0
    key >>= bits
    np.invert(key, out=key)  # largest value first
    key <<= bits
    key |= np.arange(n, dtype=np.uint64)
    key.sort()
    high = key >> bits
    same = high[1:] == high[:-1]
    key &= (np.uint64(1) << bits) - np.uint64(1)
    idx: IntArray = key.view(np.int64)
    n_same = int(np.count_nonzero(same))
    if n_same > n // 256:
        return np.argsort(-v)
    if n_same:  # put each run of colliding keys in exact order
        pos = np.flatnonzero(same)
        members = np.union1d(pos, pos + 1)
        new_run = np.ones(len(members), dtype=bool)
        new_run[1:] = ~((members[1:] == members[:-1] + 1) & same[members[:-1]])
        sub = idx[members]
        idx[members] = sub[np.lexsort((-v[sub], np.cumsum(new_run)))]
    return idx


@dataclass(frozen=True)
class Ranked:
    """Sorted values and their Pareto statistics."""

    values: FloatArray  # largest first
    cum: FloatArray  # cumulative share
    share: FloatArray
    total: float
    k: int  # vital few count
    abc: npt.NDArray[np.int8]


def pareto_stats(vs: FloatArray, target: float, b_limit: float) -> Ranked:
    """Shares, the vital-few count and ABC codes of values sorted largest first.

    An item is in the vital few (class A) when the cumulative share before it is
    below ``target``, in class B when it is below ``b_limit``. The cumulative
    shares never decrease and end at exactly 1.
    """
    cum = np.cumsum(vs)
    total = float(cum[-1])
    cum /= total
    share = vs / total
    # count of items with cumulative share before them < x  =  1 + #(cum < x), capped at n
    n = len(vs)
    k = min(n, 1 + int(np.searchsorted(cum, target - TOL, side="left")))
    kb = max(k, min(n, 1 + int(np.searchsorted(cum, b_limit - TOL, side="left"))))
    abc = np.full(n, 2, dtype=np.int8)
    abc[:kb] = 1
    abc[:k] = 0
    return Ranked(vs, cum, share, total, k, abc)


def gini(cum: FloatArray) -> float:
    """Gini coefficient from the cumulative shares of values sorted largest first.

    ``G = (n + 1) / n - 2 / n * sum_j j * share_j`` (``j`` = rank, 1 = largest),
    computed as ``(2 * sum(cum) - n - 1) / n``: 0 when all items are equal,
    ``(n - 1) / n`` when one item holds everything.
    """
    n = len(cum)
    return min(1.0, max(0.0, (2.0 * float(cum.sum()) - n - 1) / n))


def top_fraction_share(cum: FloatArray, fraction: float = 0.2) -> tuple[float, int]:
    """Share held by the top ``ceil(fraction * n)`` items (at least one), and that count."""
    m = max(1, math.ceil(fraction * len(cum) - 1e-9))
    return float(cum[m - 1]), m


def abc_column(codes: npt.NDArray[np.int8]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=list(ABC))
