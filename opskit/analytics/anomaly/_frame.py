"""``AnomalyFrame``: the one result shape of every detector, and its pandera schema.

Scores
------
Every detector turns its test statistic into a two-sided tail probability ``p`` (how
likely a value at least this unusual is under the detector's model of the past). The
score is the *surprise* ``S = -log10 p`` squashed into [0, 1)::

    score = S / (S + 4)          # p = 1e-4  <=>  score = 0.5

The map is monotone in ``p`` alone, so scores mean the same on every series, and it
never saturates (plain ``1 - p`` rounds to 1.0 beyond about 8 sigma, which would tie all
large deviations). Landmarks:

====================  ===========  =============  ==========
p                     1e-4         1e-6           1e-9
score                 0.5          0.6            0.692
Gaussian ``|z|``      3.89         4.89           6.11
severity from here    ``medium``   ``high``       ``critical``
====================  ===========  =============  ==========

``is_anomaly`` is ``score >= threshold`` (default 0.5, i.e. p <= 1e-4); severity is
``low`` below ``medium``. Rows with a NaN value, or too little history to judge, get a
NaN score, ``<NA>`` label and ``<NA>`` severity - never ``False``.

Provenance
----------
If the input carries ``attrs["provenance"]`` (as every opskit frame does) it is copied
to the result's attrs and a categorical ``provenance`` column is added. Input without
provenance gives a result without either (nothing is invented).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from opskit import provenance as prov

__all__ = [
    "DEFAULT_THRESHOLD",
    "SEVERITIES",
    "AnomalyFrame",
    "AnomalyFrameSchema",
    "build_frame",
    "p_from_score",
    "score_from_logp",
    "score_from_p",
    "severity_of",
]

#: Surprise (``-log10 p``) that maps to score 0.5: ``score = S / (S + SCORE_HALF)``.
SCORE_HALF = 4.0
SEVERITIES = ("low", "medium", "high", "critical")
_LN10 = float(np.log(10.0))

#: A DataFrame validated by :class:`AnomalyFrameSchema` (an alias for documentation).
AnomalyFrame = pd.DataFrame


def score_from_logp(logp: np.ndarray) -> np.ndarray:
    """Score from the natural log of a tail probability (NaN stays NaN)."""
    surprise = np.maximum(-np.asarray(logp, dtype=float) / _LN10, 0.0)
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(surprise), 1.0, surprise / (surprise + SCORE_HALF))


def score_from_p(p: float) -> float:
    """Score of a tail probability ``p`` in (0, 1]."""
    if not 0.0 < p <= 1.0:
        raise ValueError(f"p must be in (0, 1], got {p!r}")
    return float(score_from_logp(np.array(np.log(p))))


def p_from_score(score: float) -> float:
    """Inverse of :func:`score_from_p`."""
    if not 0.0 <= score < 1.0:
        raise ValueError(f"score threshold must be in [0, 1), got {score!r}")
    return float(10.0 ** (-SCORE_HALF * score / (1.0 - score)))


DEFAULT_THRESHOLD = 0.5  # == score_from_p(1e-4)
_SEVERITY_EDGES = np.array([score_from_p(1e-4), score_from_p(1e-6), score_from_p(1e-9)])
_SEVERITY_DTYPE = pd.CategoricalDtype(list(SEVERITIES), ordered=True)


def severity_of(score: np.ndarray) -> pd.Categorical:
    """``low`` / ``medium`` / ``high`` / ``critical`` from the score (``<NA>`` for NaN)."""
    score = np.asarray(score, dtype=float)
    codes = np.searchsorted(_SEVERITY_EDGES, score, side="right")
    codes = np.where(np.isnan(score), -1, codes)
    return pd.Categorical.from_codes(codes, dtype=_SEVERITY_DTYPE)


class AnomalyFrameSchema(pa.DataFrameModel):
    """Schema of an :data:`AnomalyFrame`: one row per input point.

    Grouped input (``detect(frame)`` with ``entity``/``metric`` columns) adds those key
    columns in front; they are allowed because the schema is not strict.
    """

    timestamp: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs={"unit": "ns", "tz": "UTC"})
    value: Series[float] = pa.Field(nullable=True)
    score: Series[float] = pa.Field(nullable=True, ge=0.0, le=1.0)
    is_anomaly: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    detector: Series[str]
    severity: Series[pd.CategoricalDtype] = pa.Field(
        nullable=True, dtype_kwargs={"categories": list(SEVERITIES), "ordered": True}
    )
    expected: Series[float] = pa.Field(nullable=True)
    lower: Series[float] = pa.Field(nullable=True)
    upper: Series[float] = pa.Field(nullable=True)
    provenance: Series[pd.CategoricalDtype] | None = pa.Field(
        nullable=False, dtype_kwargs={"categories": list(prov.KINDS), "ordered": False}
    )

    class Config:
        coerce = True
        strict = False
        title = "AnomalyFrame"
        description = "Per-point anomaly scores, labels, severities and expected bands."


def _utc(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    return index.as_unit("ns")


def build_frame(
    series: pd.Series,
    *,
    score: np.ndarray,
    expected: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    threshold: float,
    detector: str,
    validate: bool = True,
) -> pd.DataFrame:
    """Assemble and validate an AnomalyFrame (naive timestamps are taken as UTC).

    ``validate=False`` is for callers that concatenate many parts and validate the
    whole once (schema checks cost ~30 ms per call, more than scoring a short series).
    """
    score = np.asarray(score, dtype=float)
    label = pd.array(score >= threshold, dtype="boolean")
    label[np.isnan(score)] = pd.NA
    frame = pd.DataFrame(
        {
            "timestamp": _utc(pd.DatetimeIndex(series.index)),
            "value": series.to_numpy(dtype=float),
            "score": score,
            "is_anomaly": label,
            "detector": pd.array([detector] * len(series), dtype="str"),
            "severity": severity_of(score),
            "expected": np.asarray(expected, dtype=float),
            "lower": np.asarray(lower, dtype=float),
            "upper": np.asarray(upper, dtype=float),
        }
    )
    raw = series.attrs.get(prov.ATTR)
    if raw is not None:
        prov.attach(frame, prov.Provenance.from_dict(raw))
    return validate_frame(frame) if validate else frame


def validate_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate against :class:`AnomalyFrameSchema`, raising ``SchemaViolation``."""
    from opskit.errors import SchemaViolation

    attrs = dict(frame.attrs)
    try:
        out = AnomalyFrameSchema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        raise SchemaViolation(
            "AnomalyFrame does not match its schema", failure_cases=exc.failure_cases
        ) from exc
    out.attrs = attrs
    return out
