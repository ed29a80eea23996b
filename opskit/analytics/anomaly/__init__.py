"""Anomaly detection: one detector contract, eight detectors, one result shape.

``detect(data)`` is the one-line entry point::

    frame = detect(series)                       # ensemble on one series
    frame = detect(metrics, method="seasonal")   # long frame, one run per entity/metric

Detectors (all causal: a point is scored from itself and the past only):

=======================  ==========================================================
class                    detects
=======================  ==========================================================
``ZScoreDetector``       spikes/dips against the rolling mean and std
``MADDetector``          spikes/dips, robust to outliers in the past (median/MAD)
``IQRDetector``          values beyond interquartile fences (skewed noise)
``SeasonalDetector``     breaks of a daily/weekly pattern (seasonal residuals)
``LevelShiftDetector``   sustained steps up/down (change points)
``VarianceChangeDetector`` noise turning jittery or flat
``RangeDetector``        values beyond the range seen over the last weeks (new max/min)
``EnsembleDetector``     all of the above, calibrated per series, one alert per episode
=======================  ==========================================================

Results are :data:`AnomalyFrame` s validated by :class:`AnomalyFrameSchema`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from opskit import provenance as prov
from opskit.analytics.anomaly._base import BaseDetector
from opskit.analytics.anomaly._frame import (
    DEFAULT_THRESHOLD,
    SEVERITIES,
    AnomalyFrame,
    AnomalyFrameSchema,
    p_from_score,
    score_from_p,
    validate_frame,
)
from opskit.analytics.anomaly._validate import TIME, VALUE, as_series
from opskit.analytics.anomaly.change import LevelShiftDetector, VarianceChangeDetector
from opskit.analytics.anomaly.ensemble import EnsembleDetector, default_components
from opskit.analytics.anomaly.seasonal import SeasonalDetector, detect_period
from opskit.analytics.anomaly.statistical import (
    IQRDetector,
    MADDetector,
    RangeDetector,
    ZScoreDetector,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "DETECTORS",
    "SEVERITIES",
    "AnomalyFrame",
    "AnomalyFrameSchema",
    "BaseDetector",
    "EnsembleDetector",
    "IQRDetector",
    "LevelShiftDetector",
    "MADDetector",
    "RangeDetector",
    "SeasonalDetector",
    "VarianceChangeDetector",
    "ZScoreDetector",
    "default_components",
    "detect",
    "detect_period",
    "get_detector",
    "p_from_score",
    "score_from_p",
]

logger = logging.getLogger(__name__)

#: Registry: method name -> detector class (``"auto"`` means ``"ensemble"``).
DETECTORS: dict[str, type[BaseDetector]] = {
    cls.name: cls
    for cls in (
        ZScoreDetector,
        MADDetector,
        IQRDetector,
        SeasonalDetector,
        LevelShiftDetector,
        VarianceChangeDetector,
        RangeDetector,
        EnsembleDetector,
    )
}
_NOT_KEYS = {TIME, VALUE, "provenance", "fetched_at"}


def get_detector(method: str = "auto", **params: Any) -> BaseDetector:
    """A new, unfitted detector by registry name (``"auto"`` is the ensemble).

    Raises
    ------
    ValueError
        For an unknown method (the message lists the valid ones) or parameter.
    """
    name = "ensemble" if method == "auto" else method
    try:
        cls = DETECTORS[name]
    except KeyError:
        raise ValueError(
            f"unknown anomaly method {method!r}; choose one of {['auto', *DETECTORS]}"
        ) from None
    unknown = sorted(set(params) - set(cls._param_names))
    if unknown:
        raise ValueError(
            f"{cls.__name__} got unknown parameter(s) {unknown}; valid: {list(cls._param_names)}"
        )
    return cls(**params)


def _keys(frame: pd.DataFrame, by: Sequence[str] | None) -> list[str]:
    if by is not None:
        missing = [c for c in by if c not in frame.columns]
        if missing:
            raise ValueError(f"group columns {missing} not in frame columns {list(frame.columns)}")
        return list(by)
    return [
        c
        for c in frame.columns
        if c not in _NOT_KEYS
        and (
            pd.api.types.is_string_dtype(frame[c])
            or isinstance(frame[c].dtype, pd.CategoricalDtype)
            or frame[c].dtype == object
        )
    ]


def detect(
    data: pd.Series | pd.DataFrame,
    method: str = "auto",
    *,
    by: Sequence[str] | None = None,
    **params: Any,
) -> pd.DataFrame:
    """Fit a detector to each series in ``data`` and return its AnomalyFrame.

    Parameters
    ----------
    data
        A numeric Series on a DatetimeIndex, or a long frame with ``timestamp`` and
        ``value`` columns. Text/categorical columns of a frame (e.g. ``entity``,
        ``metric``) are grouping keys: each group is one series, detected separately.
    method
        ``"auto"`` (the ensemble) or a name in :data:`DETECTORS`.
    by
        Grouping columns, overriding the automatic choice (``[]`` for none).
    **params
        Detector parameters, e.g. ``window=100``.

    Returns
    -------
    AnomalyFrame
        Validated by :class:`AnomalyFrameSchema`; grouping columns come first. Provenance
        of the input (``attrs["provenance"]``) is carried over when present.

    Raises
    ------
    ValueError, TypeError
        On unknown methods/parameters and on invalid input (see ``as_series``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> s = pd.Series(np.r_[np.zeros(200), 5.0, np.zeros(99)] + np.random.default_rng(0).normal(0, 0.1, 300),
    ...               index=pd.date_range("2024", periods=300, freq="min"))
    >>> detect(s, "zscore").query("is_anomaly == True").timestamp.dt.minute.tolist()
    [20]
    """
    if isinstance(data, pd.Series):
        return get_detector(method, **params).fit_detect(data)
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"detect() needs a Series or DataFrame, got {type(data).__name__}")
    keys = _keys(data, by)
    get_detector(method, **params)  # fail fast on bad method/params
    if not keys:
        return get_detector(method, **params).fit_detect(data)
    parts, labels = [], []
    for key, group in data.groupby(keys, sort=True, observed=True, dropna=False):
        series = as_series(group)
        # Parts carry no attrs (pandas deep-copies attrs on every operation) and are
        # validated with the whole below, once.
        series.attrs = {}
        out = get_detector(method, **params).fit(series)._detect(series, validate=False)
        logger.debug(
            "detected %s over %d points: %d flagged", key, len(out), int(out.is_anomaly.sum())
        )
        parts.append(out)
        labels.append(key if isinstance(key, tuple) else (key,))
    if not parts:
        empty = get_detector(method, **params).fit_detect(
            pd.Series([], dtype=float, index=pd.DatetimeIndex([]))
        )
        for col in reversed(keys):
            empty.insert(0, col, pd.Series([], dtype=data[col].dtype))
        return empty
    body = pd.concat(parts, ignore_index=True)
    sizes = np.array([len(p) for p in parts])
    key_columns = {
        col: pd.Series(np.repeat(np.array([lab[i] for lab in labels], dtype=object), sizes)).astype(
            data[col].dtype
        )
        for i, col in enumerate(keys)
    }
    result = pd.concat([pd.DataFrame(key_columns), body], axis=1)
    raw = data.attrs.get(prov.ATTR)
    if raw is not None:
        prov.attach(result, prov.Provenance.from_dict(raw))
    return validate_frame(result)
