"""Small helpers shared by the churn analyses: provenance, intervals, checks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from scipy import stats

from opskit import provenance as prov

__all__ = ["provenance_of", "require_columns", "wilson"]


def provenance_of(frame: pd.DataFrame) -> prov.Provenance:
    """The frame's provenance; a frame opskit did not build counts as ``cache``.

    Caller-supplied data is never promoted to ``live``: without a record of where it
    came from it is labelled ``cache`` with an explanatory detail.
    """
    try:
        return prov.of(frame)
    except ValueError:
        return prov.Provenance(
            kind="cache",
            systems=("caller",),
            as_of=datetime.now(UTC),
            detail="caller-supplied frame without opskit provenance",
        )


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise a clear error when ``frame`` is not a non-empty frame with ``columns``.

    Raises
    ------
    TypeError
        If ``frame`` is not a DataFrame.
    ValueError
        If it is empty or lacks a column.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} needs a pandas DataFrame, got {type(frame).__name__}")
    if frame.empty:
        raise ValueError(f"{what}: the frame is empty")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing}; got {list(frame.columns)}")


def wilson(k: np.ndarray, n: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion ``k / n`` (NaN where ``n`` is 0)."""
    k = np.asarray(k, dtype="float64")
    n = np.asarray(n, dtype="float64")
    z = stats.norm.ppf(0.5 + confidence / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
