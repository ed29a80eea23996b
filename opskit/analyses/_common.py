"""What the analyses share: validated parameters, the data's as-of time, cohort checks."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import pandas as pd
from pydantic import Field, ValidationError, validate_call

from opskit.analytics._result import Result
from opskit.catalog import load
from opskit.config import Settings
from opskit.errors import ParameterError

__all__ = ["Days", "as_of", "check_cohort", "start_of", "tenure_band", "validated"]

F = TypeVar("F", bound=Callable[..., Result])

#: A look-back window in days.
Days = Annotated[int, Field(ge=7, le=365, description="look-back window in days")]


def validated(fn: F) -> F:
    """Validate arguments against the annotations; errors become :class:`ParameterError`."""
    checked = validate_call(config={"arbitrary_types_allowed": True})(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Result:
        try:
            return checked(*args, **kwargs)
        except ValidationError as exc:
            problems = []
            for e in exc.errors():
                where = ".".join(str(p) for p in e["loc"]) or "arguments"
                problems.append(f"{where}: {e['msg']}")
            raise ParameterError(f"{fn.__name__}: " + "; ".join(problems)) from None

    wrapper.__signature__ = checked.__signature__ if hasattr(checked, "__signature__") else None  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def as_of(settings: Settings | None) -> pd.Timestamp:
    """The data's as-of time (the end of every default window)."""
    return pd.Timestamp(load("kpi_summary", settings=settings).attrs["as_of"])


def start_of(settings: Settings | None, days: int) -> pd.Timestamp:
    """The start of a window of ``days`` days ending at the data's as-of time."""
    return as_of(settings) - pd.Timedelta(days=days)


def check_cohort(cohorts: pd.DataFrame, cohort: str) -> None:
    """Raise :class:`ParameterError` naming at-risk cohorts if ``cohort`` is unknown."""
    valid = cohorts["cohort_id"].tolist()
    if cohort not in valid:
        top = ", ".join(cohorts.loc[cohorts["is_at_risk"], "cohort_id"].head(8)) or ", ".join(
            valid[:8]
        )
        raise ParameterError(f"unknown cohort {cohort!r}; at-risk cohorts include: {top}")


def tenure_band(days: float) -> str:
    """The ``churn_signals`` tenure band of a tenure in days."""
    return "0-3m" if days < 91 else "3-12m" if days < 365 else "1-2y" if days < 730 else "2y+"
