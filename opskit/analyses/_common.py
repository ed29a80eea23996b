"""What the analyses share: validated parameters, the window clock, cohort checks."""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import numpy as np
import pandas as pd
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, validate_call

from opskit import inputs
from opskit.analytics._result import Result
from opskit.catalog import load
from opskit.config import Settings, load_settings
from opskit.errors import ParameterError
from opskit.present.glossary import label
from opskit.present.units import fmt_timestamp
from opskit.sources import live_sources

__all__ = [
    "Clock", "Days", "as_of", "check_arguments", "check_cohort", "clock", "start_of",
    "tenure_band", "validated",
]  # fmt: skip

F = TypeVar("F", bound=Callable[..., Result])

#: A look-back window in days.
Days = Annotated[int, Field(ge=7, le=365, description="look-back window in days")]


def validated(fn: F) -> F:
    """Validate arguments against the annotations; errors become :class:`ParameterError`.

    On top of the annotations' types and ranges, the input rules of
    :mod:`opskit.inputs` hold: numbers are finite (NaN and infinity are refused),
    ``True``/``False`` are not numbers, and a number is not a boolean.
    """
    checked = validate_call(config=_CONFIG)(fn)
    kinds = _kinds(fn)
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Result:
        bound = signature.bind_partial(*args, **kwargs)
        _check_kinds(fn.__name__, kinds, bound.arguments)
        try:
            return checked(*args, **kwargs)
        except ValidationError as exc:
            raise ParameterError(f"{fn.__name__}: {_problems(exc)}") from None

    wrapper.__signature__ = checked.__signature__ if hasattr(checked, "__signature__") else None  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def check_arguments(
    fn: Callable[..., Any], values: Mapping[str, Any], *, name: str | None = None
) -> dict[str, Any]:
    """Check ``values`` against ``fn``'s parameters without calling it.

    Report parameters are checked this way before a kernel starts. Names ``fn``
    does not take are passed through unchecked (the caller checks names);
    ``name`` starts the error message (default: the function's name).

    Raises
    ------
    ParameterError
        Naming the parameter and the valid type or range.

    Examples
    --------
    >>> from opskit.analyses import service_health
    >>> check_arguments(service_health, {"days": 7})
    {'days': 7}
    >>> check_arguments(service_health, {"days": 1000})
    Traceback (most recent call last):
    ...
    opskit.errors.ParameterError: service_health: days: Input should be less than or equal to 30
    """
    target = inspect.unwrap(fn)
    name = name or str(getattr(target, "__name__", "analysis"))
    hints = typing.get_type_hints(target, include_extras=True)
    known = {k: v for k, v in values.items() if k in hints}
    _check_kinds(name, _kinds(target), known)
    out = dict(values)
    for key, value in known.items():
        try:
            out[key] = TypeAdapter(hints[key], config=_CONFIG).validate_python(value)
        except ValidationError as exc:
            raise ParameterError(f"{name}: {_problems(exc, key)}") from None
    return out


_CONFIG = ConfigDict(arbitrary_types_allowed=True, allow_inf_nan=False)


def _problems(exc: ValidationError, prefix: str = "") -> str:
    problems = []
    for e in exc.errors():
        where = ".".join(str(p) for p in (prefix, *e["loc"]) if p != "") or "arguments"
        problems.append(f"{where}: {e['msg']}")
    return "; ".join(problems)


def _kinds(fn: Callable[..., Any]) -> dict[str, str]:
    """``number`` or ``bool`` for each parameter annotated as such (optional or not)."""
    out = {}
    for name, hint in typing.get_type_hints(fn, include_extras=True).items():
        bases = set(_bases(hint))
        if bases == {bool}:
            out[name] = "bool"
        elif bases and bases <= {int, float}:
            out[name] = "number"
    return out


def _bases(hint: Any) -> list[Any]:
    if typing.get_origin(hint) is typing.Annotated:
        return _bases(typing.get_args(hint)[0])
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return [b for a in typing.get_args(hint) if a is not type(None) for b in _bases(a)]
    return [hint]


def _check_kinds(name: str, kinds: Mapping[str, str], values: Mapping[str, Any]) -> None:
    for key, value in values.items():
        kind = kinds.get(key)
        if value is None or kind is None:
            continue
        if kind == "number" and isinstance(value, bool | np.bool_):
            inputs.number(value, where=f"{name}: {key}")
        elif kind == "bool" and not isinstance(value, str):
            inputs.boolean(value, where=f"{name}: {key}")


def as_of(settings: Settings | None) -> pd.Timestamp:
    """The warehouse data's as-of time (the end of every default window on demo data)."""
    return pd.Timestamp(load("kpi_summary", settings=settings).attrs["as_of"])


def start_of(settings: Settings | None, days: int) -> pd.Timestamp:
    """The start of a window of ``days`` days ending at the data's as-of time."""
    return as_of(settings) - pd.Timedelta(days=days)


@dataclass(frozen=True)
class Clock:
    """Where an analysis window ends, and why.

    Attributes
    ----------
    end
        The window end (UTC).
    live
        The live sources among the analysis's inputs (empty: every input comes
        from the warehouse, so the window ends at the warehouse data's end).
    """

    end: pd.Timestamp
    live: tuple[str, ...] = ()

    def window(self, days: float) -> tuple[pd.Timestamp, pd.Timestamp]:
        """``(start, end)`` of the last ``days`` days before :attr:`end`."""
        return self.end - pd.Timedelta(days=days), self.end

    @property
    def note(self) -> str:
        """Which clock the window uses, in words (for the page and the provenance)."""
        if self.live:
            systems = ", ".join(label(s) for s in self.live)
            return (
                f"The window ends now ({fmt_timestamp(self.end)}), because {systems} data is live."
            )
        return f"The window ends where the warehouse data ends ({fmt_timestamp(self.end)})."

    @property
    def clause(self) -> str:
        """:attr:`note` as a clause of a provenance line (``...; the window ends now ...``)."""
        return self.note[:1].lower() + self.note[1:].rstrip(".")


def clock(settings: Settings | None, *datasets: str, now: datetime | None = None) -> Clock:
    """The clock of an analysis reading ``datasets``: now when any of them is live.

    A window anchored at the warehouse's as-of time would ask a live source for
    last month's data; a window anchored at now over demo data would be empty.
    So the window ends now (to the minute) as soon as one input comes live
    (:func:`opskit.sources.live_sources`), and at the warehouse data's end
    otherwise.

    Parameters
    ----------
    settings
        Settings (default: :func:`~opskit.config.load_settings`).
    datasets
        The datasets the analysis windows.
    now
        The current time (tests).
    """
    from opskit.datasets import REGISTRY

    s = settings or load_settings()
    live_now = set(live_sources(s))
    live = tuple(
        sorted(
            {str(REGISTRY[d].live_source) for d in datasets if REGISTRY[d].live_source in live_now}
        )
    )
    if live:
        return Clock(pd.Timestamp(now or datetime.now(UTC)).tz_convert("UTC").floor("min"), live)
    return Clock(as_of(s))


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
