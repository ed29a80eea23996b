"""Turn any raw tabular frame into clean numeric and categorical columns.

:class:`FramePreparer` is the first step of every churn model. At ``fit`` it
decides, per column, what the column *is*:

- ``numeric``: a numeric dtype;
- ``boolean``: a bool dtype, or text/objects that are only true/false, yes/no,
  y/n, t/f (any case) and missing values; encoded 0/1;
- ``text_number``: text whose non-missing values parse as numbers once
  thousands separators, spaces and currency signs are removed (``"1,234"``,
  ``"$12.50"``); a trailing ``%`` divides by 100 (``"12%"`` is 0.12);
- ``categorical``: any other text or a pandas category; levels rarer than
  ``min_frequency`` (or beyond ``max_categories``) are pooled into ``"other"``,
  missing values become the level ``"missing"``.

Datetimes, timedeltas, complex numbers and containers (lists, dicts) are
rejected with a :class:`TypeError` naming the columns; a column with at most one
distinct value raises :class:`ValueError` (or is dropped with a logged warning
when ``constant="drop"``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = ["FramePreparer", "as_frame", "parse_numbers"]

logger = logging.getLogger(__name__)

ColumnKind = Literal["numeric", "boolean", "text_number", "categorical"]
MISSING_TEXT = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "?", "<na>"})
TRUE_TEXT = frozenset({"true", "yes", "y", "t"})
FALSE_TEXT = frozenset({"false", "no", "n", "f"})
#: Share of non-missing values that must parse for text to count as numbers.
NUMBER_SHARE = 0.95
MISSING_LEVEL = "missing"
OTHER_LEVEL = "other"


def as_frame(X: Any) -> pd.DataFrame:
    """``X`` as a DataFrame with string column names (arrays get ``x0, x1, ...``).

    Raises
    ------
    TypeError
        If ``X`` is not tabular.
    ValueError
        If it has no rows, no columns or duplicate column names.
    """
    if isinstance(X, pd.DataFrame):
        df = X
    elif isinstance(X, np.ndarray | list):
        arr = np.asarray(X, dtype=object) if isinstance(X, list) else X
        if arr.ndim != 2:
            raise TypeError(f"X must be 2-D (rows x features), got {arr.ndim}-D")
        df = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
    else:
        raise TypeError(f"X must be a pandas DataFrame or a 2-D array, got {type(X).__name__}")
    if df.shape[0] == 0:
        raise ValueError("X is empty (0 rows): nothing to learn from or score")
    if df.shape[1] == 0:
        raise ValueError("X has no feature columns")
    if df.columns.has_duplicates:
        dup = df.columns[df.columns.duplicated()].unique().tolist()
        raise ValueError(f"X has duplicate column names: {dup}")
    return df.set_axis([str(c) for c in df.columns], axis=1)


def _by_unique(s: pd.Series, fn: Any, missing: Any = pd.NA) -> pd.Series:
    """Apply a vectorised ``fn`` (Series -> Series) to the distinct values only."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    res = fn(pd.Series(np.asarray(uniques, dtype=object)))
    vals = np.append(res.to_numpy(dtype=object), [missing])
    return pd.Series(vals[codes], index=s.index)


def _clean_text(u: pd.Series) -> pd.Series:
    text = u.astype("string").str.strip()
    return text.mask(text.str.lower().isin(MISSING_TEXT))


def _null_text(s: pd.Series) -> pd.Series:
    """Values as stripped text, with missing-like text (``"n/a"``, ``""`` ...) as NA."""
    return _by_unique(s, _clean_text).astype("string")


def _parse_unique(u: pd.Series) -> pd.Series:
    text = _clean_text(u)
    pct = text.str.endswith("%").fillna(False).to_numpy(dtype=bool)
    clean = text.str.replace(r"[\s,$€£%]", "", regex=True)
    clean = clean.str.replace(r"^\((.*)\)$", r"-\1", regex=True)  # accounting negatives
    num = pd.to_numeric(clean, errors="coerce").astype("float64")
    return num.where(~pct, num / 100.0)


def parse_numbers(s: pd.Series) -> pd.Series:
    """Parse text-coded numbers: ``"1,234"`` -> 1234.0, ``"12%"`` -> 0.12, else NaN."""
    return _by_unique(s, _parse_unique, np.nan).astype("float64")


def _bad_dtype(s: pd.Series) -> str | None:
    if (
        pd.api.types.is_datetime64_any_dtype(s)
        or pd.api.types.is_timedelta64_dtype(s)
        or isinstance(s.dtype, pd.PeriodDtype | pd.IntervalDtype)
    ):
        return f"{s.dtype} (convert to a number, e.g. days since an event)"
    if pd.api.types.is_complex_dtype(s):
        return "complex numbers"
    if s.dtype == object:
        sample = s.dropna().head(1000)
        if sample.map(lambda v: isinstance(v, list | dict | set | tuple)).any():
            return "containers (lists/dicts) in cells"
        if sample.map(lambda v: isinstance(v, pd.Timestamp | np.datetime64)).any():
            return "timestamps in an object column"
    return None


def _kind(s: pd.Series) -> ColumnKind:
    if pd.api.types.is_bool_dtype(s):
        return "boolean"
    if pd.api.types.is_numeric_dtype(s):
        return "numeric"
    if isinstance(s.dtype, pd.CategoricalDtype):
        return "categorical"
    text = _null_text(s).dropna()
    if text.empty:
        return "numeric"  # all missing: caught as constant
    low = text.str.lower()
    if low.isin(TRUE_TEXT | FALSE_TEXT).all():
        return "boolean"
    if parse_numbers(text).notna().mean() >= NUMBER_SHARE:
        return "text_number"
    return "categorical"


def _to_float(s: pd.Series, kind: ColumnKind) -> pd.Series:
    if kind == "numeric":
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            return s.astype("float64")
        return parse_numbers(s)
    if kind == "boolean":
        if pd.api.types.is_bool_dtype(s):
            return s.astype("float64")
        low = _null_text(s).str.lower()
        out = pd.Series(np.nan, index=s.index, dtype="float64")
        out[low.isin(TRUE_TEXT).fillna(False).to_numpy(dtype=bool)] = 1.0
        out[low.isin(FALSE_TEXT).fillna(False).to_numpy(dtype=bool)] = 0.0
        return out
    return parse_numbers(s)


def _to_text(s: pd.Series) -> pd.Series:
    return _null_text(s).fillna(MISSING_LEVEL).astype(object)


class FramePreparer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Learn column kinds and category levels; output float and category columns.

    Parameters
    ----------
    max_categories
        Most levels kept per categorical column (the rest pool into ``"other"``).
    min_frequency
        Levels rarer than this share of rows pool into ``"other"``.
    reference
        Reference level per categorical column (default: its most frequent level).
        Odds ratios of the other levels are relative to it.
    constant
        ``"raise"`` (default) or ``"drop"`` columns with at most one distinct value.
    """

    def __init__(
        self,
        *,
        max_categories: int = 30,
        min_frequency: float = 0.001,
        reference: Mapping[str, str] | None = None,
        constant: Literal["raise", "drop"] = "raise",
    ) -> None:
        self.max_categories = max_categories
        self.min_frequency = min_frequency
        self.reference = reference
        self.constant = constant

    def fit(self, X: Any, y: Any = None) -> FramePreparer:
        df = as_frame(X)
        bad = {c: why for c in df.columns if (why := _bad_dtype(df[c])) is not None}
        if bad:
            detail = "; ".join(f"{c!r}: {why}" for c, why in bad.items())
            raise TypeError(f"unsupported column type(s): {detail}")
        kinds: dict[str, ColumnKind] = {c: _kind(df[c]) for c in df.columns}
        constant = [c for c in df.columns if self._distinct(df[c], kinds[c]) <= 1]
        if constant and self.constant == "raise":
            raise ValueError(
                f"constant feature(s) with at most one distinct value: {constant}; "
                "drop them, or pass constant='drop'"
            )
        if constant:
            logger.warning("dropping constant feature(s): %s", constant)
        self.feature_names_in_ = np.asarray(df.columns, dtype=object)
        self.dropped_ = constant
        self.kinds_ = {c: k for c, k in kinds.items() if c not in constant}
        self.levels_: dict[str, list[str]] = {}
        self.reference_: dict[str, str] = {}
        ref = dict(self.reference or {})
        for c, k in self.kinds_.items():
            if k != "categorical":
                continue
            counts = _to_text(df[c]).value_counts()
            keep = counts[counts >= max(1.0, self.min_frequency * len(df))]
            keep = keep.iloc[: self.max_categories]
            levels = sorted(map(str, keep.index))
            if len(keep) < len(counts) and OTHER_LEVEL not in levels:
                levels.append(OTHER_LEVEL)
            if c in ref and ref[c] not in levels:
                raise ValueError(f"reference level {ref[c]!r} of {c!r} is not among {levels}")
            self.levels_[c] = levels
            self.reference_[c] = ref.get(c, str(keep.index[0]))
        unknown = set(ref) - set(self.levels_)
        if unknown:
            raise ValueError(f"reference given for non-categorical column(s): {sorted(unknown)}")
        return self

    @staticmethod
    def _distinct(s: pd.Series, kind: ColumnKind) -> int:
        if kind == "categorical":
            return int(_to_text(s).nunique())
        return int(_to_float(s, kind).nunique(dropna=True))

    @property
    def numeric_(self) -> list[str]:
        return [c for c, k in self.kinds_.items() if k != "categorical"]

    @property
    def categorical_(self) -> list[str]:
        return [c for c, k in self.kinds_.items() if k == "categorical"]

    def transform(self, X: Any) -> pd.DataFrame:
        df = as_frame(X)
        missing = [c for c in self.kinds_ if c not in df.columns]
        if missing:
            raise ValueError(f"X lacks column(s) the model was fitted with: {missing}")
        out: dict[str, pd.Series] = {}
        for c, k in self.kinds_.items():
            s = df[c]
            if k == "categorical":
                text = _to_text(s)
                levels = self.levels_[c]
                fallback = OTHER_LEVEL if OTHER_LEVEL in levels else self.reference_[c]
                text = text.where(text.isin(levels), fallback)
                out[c] = pd.Series(pd.Categorical(text, categories=levels), index=df.index)
            else:
                out[c] = _to_float(s, k)
        return pd.DataFrame(out, index=df.index)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(list(self.kinds_), dtype=object)
