"""``ForecastFrame``: the one result shape of every forecaster, and its pandera schema.

One row per future step: ``timestamp`` (UTC), ``step`` (1 = the first period after the
data), the point forecast ``yhat`` and the central prediction interval
``[yhat_lower, yhat_upper]`` at ``level`` (e.g. 0.8 = 10 % / 90 % quantiles), the
``model`` that produced it, and ``provenance`` copied from the input (input without
provenance gives a frame without it: nothing is invented).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.errors as pa_errors
import pandera.pandas as pa
from pandera.typing import Series

from opskit import provenance as prov
from opskit.errors import SchemaViolation

__all__ = ["ForecastFrame", "ForecastFrameSchema", "build_forecast_frame", "validate_forecast"]

#: A DataFrame validated by :class:`ForecastFrameSchema` (an alias for documentation).
ForecastFrame = pd.DataFrame


class ForecastFrameSchema(pa.DataFrameModel):
    """Schema of a :data:`ForecastFrame`: one row per forecast step, intervals ordered."""

    timestamp: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs={"unit": "ns", "tz": "UTC"})
    step: Series[int] = pa.Field(ge=1)
    yhat: Series[float]
    yhat_lower: Series[float]
    yhat_upper: Series[float]
    level: Series[float] = pa.Field(gt=0.0, lt=1.0)
    model: Series[str]
    provenance: Series[pd.CategoricalDtype] | None = pa.Field(
        nullable=False, dtype_kwargs={"categories": list(prov.KINDS), "ordered": False}
    )

    @pa.dataframe_check
    @classmethod
    def interval_contains_yhat(cls, df: pd.DataFrame) -> pd.Series:
        """``yhat_lower <= yhat <= yhat_upper`` (to rounding)."""
        tol = 1e-9 * np.maximum(1.0, df["yhat"].abs())
        return (df["yhat_lower"] <= df["yhat"] + tol) & (df["yhat"] <= df["yhat_upper"] + tol)

    class Config:
        coerce = True
        strict = True
        title = "ForecastFrame"
        description = "Point forecasts and central prediction intervals per future step."


def validate_forecast(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate against :class:`ForecastFrameSchema`, raising ``SchemaViolation``."""
    attrs = dict(frame.attrs)
    try:
        out = ForecastFrameSchema.validate(frame, lazy=True)
    except pa_errors.SchemaErrors as exc:
        raise SchemaViolation(
            "ForecastFrame does not match its schema", failure_cases=exc.failure_cases
        ) from exc
    out.attrs = attrs
    return out


def build_forecast_frame(
    index: pd.DatetimeIndex,
    *,
    yhat: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    level: float,
    model: str,
    attrs: dict[str, object] | None = None,
) -> pd.DataFrame:
    """Assemble and validate a ForecastFrame (naive timestamps are taken as UTC)."""
    stamps = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    frame = pd.DataFrame(
        {
            "timestamp": stamps.as_unit("ns"),
            "step": np.arange(1, len(index) + 1, dtype=np.int64),
            "yhat": np.asarray(yhat, dtype=float),
            "yhat_lower": np.minimum(np.asarray(lower, dtype=float), yhat),
            "yhat_upper": np.maximum(np.asarray(upper, dtype=float), yhat),
            "level": float(level),
            "model": pd.array([model] * len(index), dtype="str"),
        }
    )
    raw = (attrs or {}).get(prov.ATTR)
    if isinstance(raw, dict):
        prov.attach(frame, prov.Provenance.from_dict(raw))
    return validate_forecast(frame)
