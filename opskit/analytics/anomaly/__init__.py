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

Results are :data:`AnomalyFrame` s validated by :class:`AnomalyFrameSchema`, one row per
input row. Repeated timestamps (a daylight-saving hour), missing rows and jittered
timestamps are accepted; :func:`detect` documents the policy and records what it did in
``attrs["regularised"]``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from opskit import provenance as prov
from opskit.analytics.anomaly import _regular as regular
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


def _detect_one(
    series: pd.Series, method: str, params: dict[str, Any], duplicates: str, *, validate: bool
) -> pd.DataFrame:
    """Fit and detect one checked series under the ``duplicates`` policy."""
    det = get_detector(method, **params)
    if duplicates == "keep":
        return det.fit(series)._detect(series, validate=validate)
    combined, rows = regular.combine_repeated(series, duplicates)
    scored = det.fit(combined)._detect(combined, validate=False)
    out = regular.expand(scored, rows, series)
    out.attrs[regular.ATTR] = regular.record(
        pd.DatetimeIndex(series.index),
        combined.to_numpy()[rows],
        det._grid_use(pd.DatetimeIndex(combined.index[np.isfinite(combined.to_numpy())])),
        duplicates,
    )
    return validate_frame(out) if validate else out


def _log_record(frame: pd.DataFrame) -> pd.DataFrame:
    entry = frame.attrs.get(regular.ATTR, {})
    if entry.get("infinite_values"):
        logger.warning(
            "%d infinite values scored 1 (critical) and left out of the history",
            entry["infinite_values"],
        )
    logger.debug("regularised: %s", entry)
    return frame


def detect(
    data: pd.Series | pd.DataFrame,
    method: str = "auto",
    *,
    by: Sequence[str] | None = None,
    duplicates: str = "keep",
    **params: Any,
) -> pd.DataFrame:
    """Fit a detector to each series in ``data`` and return its AnomalyFrame.

    Every input row gets a row in the result, in input order (a long frame: grouped by
    its keys, each series in input order). Real series need not be regular:

    * **Time order**: timestamps must not decrease (sort first; a stable sort keeps
      repeated timestamps in their order).
    * **Repeated timestamps** (a daylight-saving hour written twice, a collector that
      re-sends): ``duplicates="keep"`` scores every row as its own observation, in input
      order. A reducer (``"mean"``, ``"median"``, ``"max"``, ``"min"``, ``"sum"``,
      ``"first"``, ``"last"``) combines the rows of one timestamp into one observation
      (NaN ignored) and gives each of them its score; every row keeps its own ``value``.
    * **Irregular sampling** (missing rows, jittered timestamps): rolling detectors
      count observations and need nothing; the seasonal detector (alone or in the
      ensemble) reads its baseline from a regular grid at the series' step (the typical
      one-step gap, fitted to the timestamps), averaging the rows that share a step,
      skipping empty steps and, for a row whose same-phase steps are all empty,
      interpolating across a short run of them; every row is scored with its own value.
    * **NaN** values score NaN (label ``<NA>``), **+/-inf** values score 1; neither
      enters the history. Apart from those and each detector's warm-up (too little
      history to judge, also NaN), every row gets a finite score.

    What was done is recorded in ``attrs["regularised"]``: the ``duplicates`` policy, the
    number of ``repeated_timestamps``, ``missing_values`` and ``infinite_values``, the
    ``grid`` step (None when no detector used one) and its ``shared_steps``,
    ``empty_steps`` and ``filled_steps`` (see :mod:`~opskit.analytics.anomaly._regular`).

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
    duplicates
        ``"keep"`` or a reducer for rows that share a timestamp (see above).
    **params
        Detector parameters, e.g. ``window=100``.

    Returns
    -------
    AnomalyFrame
        Validated by :class:`AnomalyFrameSchema`; grouping columns come first. Provenance
        of the input (``attrs["provenance"]``) is carried over when present;
        ``attrs["regularised"]`` says how repeated and irregular timestamps were handled.

    Raises
    ------
    ValueError, TypeError
        On unknown methods/parameters/policies and on invalid input (non-numeric values,
        missing or decreasing timestamps; see ``as_series``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> s = pd.Series(np.r_[np.zeros(200), 5.0, np.zeros(99)] + np.random.default_rng(0).normal(0, 0.1, 300),
    ...               index=pd.date_range("2024", periods=300, freq="min"))
    >>> detect(s, "zscore").query("is_anomaly == True").timestamp.dt.minute.tolist()
    [20]

    A week of 5-minute data written in local time, so the hour after 02:00 on 27
    October comes twice (daylight saving ends), with 30 rows missing:

    >>> utc = pd.date_range("2024-10-21", "2024-10-28", freq="5min", tz="UTC", inclusive="left")
    >>> local = utc.tz_convert("Europe/Berlin").tz_localize(None)
    >>> rng = np.random.default_rng(1)
    >>> hours = local.hour + local.minute / 60
    >>> s = pd.Series(50 + 10 * np.sin(2 * np.pi * hours / 24) + rng.normal(0, 1, len(local)),
    ...               index=local).drop(local[rng.choice(len(local), 30, replace=False)])
    >>> s = s.sort_index(kind="stable")  # local time: the repeated hour's rows side by side
    >>> frame = detect(s, "seasonal")
    >>> len(frame) == len(s), bool(frame.score.iloc[400:].notna().all())
    (True, True)
    >>> done = frame.attrs["regularised"]
    >>> done["duplicates"], done["repeated_timestamps"], done["grid"], done["empty_steps"]
    ('keep', 12, '5min', 30)
    >>> detect(s, "seasonal", duplicates="mean").attrs["regularised"]["shared_steps"]
    0
    """
    regular.check_duplicates(duplicates)
    if isinstance(data, pd.Series):
        get_detector(method, **params)  # fail fast on bad method/params
        series = as_series(data, allow_repeated=True)
        return _log_record(_detect_one(series, method, params, duplicates, validate=True))
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"detect() needs a Series or DataFrame, got {type(data).__name__}")
    keys = _keys(data, by)
    get_detector(method, **params)  # fail fast on bad method/params
    if not keys:
        series = as_series(data, allow_repeated=True)
        return _log_record(_detect_one(series, method, params, duplicates, validate=True))
    parts, labels, records = [], [], []
    for key, group in data.groupby(keys, sort=True, observed=True, dropna=False):
        series = as_series(group, allow_repeated=True)
        # Parts carry no attrs (pandas deep-copies attrs on every operation) and are
        # validated with the whole below, once.
        series.attrs = {}
        out = _detect_one(series, method, params, duplicates, validate=False)
        records.append(out.attrs.get(regular.ATTR, {}))
        out.attrs = {}
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
        empty.attrs[regular.ATTR] = {**regular.merge_records([], []), "duplicates": duplicates}
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
    names = ["/".join(str(v) for v in lab) for lab in labels]
    result.attrs[regular.ATTR] = regular.merge_records(records, names)
    return _log_record(validate_frame(result))
