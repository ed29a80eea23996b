"""Where numbers come from: ``live``, ``cache`` (with age) or ``demo``.

Every frame opskit returns carries a ``provenance`` column (categorical, one of
:data:`KINDS`) and a :class:`Provenance` record in ``DataFrame.attrs["provenance"]``
(as a plain dict, so it survives pickling and copies). Aggregates over mixed
inputs take the *weakest* kind: ``demo < cache < live``. Demo data never passes
as live: :func:`combine` can only weaken, never strengthen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from opskit.present.units import fmt_timestamp

__all__ = ["KINDS", "Provenance", "ProvenanceKind", "attach", "combine", "of", "utc_timestamp"]

ProvenanceKind = Literal["demo", "cache", "live"]
#: Ordered weakest first; the categorical column uses this order.
KINDS: tuple[ProvenanceKind, ...] = ("demo", "cache", "live")
ATTR = "provenance"
COLUMN = "provenance"


def utc_timestamp(value: str | datetime | pd.Timestamp) -> pd.Timestamp:
    """``value`` as a UTC :class:`pandas.Timestamp` (naive values are taken as UTC)."""
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


@dataclass(frozen=True)
class Provenance:
    """Where a frame's numbers came from.

    Parameters
    ----------
    kind
        ``"live"`` (fetched from the source just now), ``"cache"`` (an earlier
        live fetch, see ``fetched_at``) or ``"demo"`` (synthetic data).
    systems
        Source systems behind the numbers, e.g. ``("warehouse",)`` or
        ``("newrelic", "dynatrace")``.
    as_of
        When the underlying data was produced (demo build time, live fetch time).
    fetched_at
        For ``cache``: when the cached copy was fetched from the live source.
    detail
        Free text: demo seed, fallback reason, ...
    """

    kind: ProvenanceKind
    systems: tuple[str, ...]
    as_of: datetime
    fetched_at: datetime | None = None
    detail: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"provenance kind must be one of {KINDS}, got {self.kind!r}")
        object.__setattr__(self, "as_of", _utc(self.as_of))
        if self.fetched_at is not None:
            object.__setattr__(self, "fetched_at", _utc(self.fetched_at))
        object.__setattr__(self, "systems", tuple(sorted(set(self.systems))))

    def age(self, now: datetime | None = None) -> pd.Timedelta:
        """How old the data is (from ``fetched_at`` for cache, else ``as_of``)."""
        now = _utc(now or datetime.now(UTC))
        return pd.Timedelta(now - (self.fetched_at or self.as_of))

    def label(self, now: datetime | None = None) -> str:
        """A one-line, human statement of where the numbers came from."""
        systems = ", ".join(self.systems)
        stamp = fmt_timestamp(self.as_of)
        if self.kind == "demo":
            text = f"DEMO DATA (synthetic, not live) from {systems}, data up to {stamp}"
        elif self.kind == "cache":
            fetched = fmt_timestamp(self.fetched_at or self.as_of)
            text = f"CACHED data from {systems}, fetched {fetched} ({_human(self.age(now))} old)"
        else:
            text = f"LIVE data from {systems}, fetched {stamp}"
        return f"{text}; {self.detail}" if self.detail else text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (ISO timestamps)."""
        d = asdict(self)
        d["systems"] = list(self.systems)
        d["as_of"] = self.as_of.isoformat()
        d["fetched_at"] = self.fetched_at.isoformat() if self.fetched_at else None
        d["extra"] = dict(self.extra)
        d["label"] = self.label()
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Provenance:
        """Inverse of :meth:`to_dict`."""
        return cls(
            kind=d["kind"],
            systems=tuple(d["systems"]),
            as_of=datetime.fromisoformat(d["as_of"]),
            fetched_at=datetime.fromisoformat(d["fetched_at"]) if d.get("fetched_at") else None,
            detail=d.get("detail", ""),
            extra=dict(d.get("extra") or {}),
        )


def _human(delta: pd.Timedelta) -> str:
    secs = max(0, int(delta.total_seconds()))
    if secs < 90:
        return f"{secs} s"
    if secs < 90 * 60:
        return f"{secs // 60} min"
    if secs < 48 * 3600:
        return f"{secs / 3600:.1f} h"
    return f"{secs / 86400:.1f} days"


def combine(provenances: Iterable[Provenance], *, detail: str = "") -> Provenance:
    """The provenance of a result built from several inputs: the weakest kind wins.

    Raises
    ------
    ValueError
        If no provenance is given.
    """
    items = list(provenances)
    if not items:
        raise ValueError("combine() needs at least one provenance")
    weakest = min(items, key=lambda p: KINDS.index(p.kind))
    systems = tuple(s for p in items for s in p.systems)
    fetched = [p.fetched_at for p in items if p.fetched_at is not None]
    return Provenance(
        kind=weakest.kind,
        systems=systems,
        as_of=min(p.as_of for p in items),
        fetched_at=min(fetched) if fetched else None,
        detail=detail or "; ".join(dict.fromkeys(p.detail for p in items if p.detail)),
    )


def attach(frame: pd.DataFrame, prov: Provenance) -> pd.DataFrame:
    """Stamp ``frame`` (in place, and return it) with a provenance column and attrs."""
    codes = np.full(len(frame), KINDS.index(prov.kind), dtype=np.int8)
    frame[COLUMN] = pd.Categorical.from_codes(codes, categories=list(KINDS))
    frame.attrs[ATTR] = prov.to_dict()
    return frame


def of(obj: Any) -> Provenance:
    """Read the provenance of a frame (or anything with ``.provenance``).

    Raises
    ------
    ValueError
        If ``obj`` carries no provenance.
    """
    if isinstance(obj, Provenance):
        return obj
    if isinstance(obj, pd.DataFrame | pd.Series):
        raw = obj.attrs.get(ATTR)
        if raw is None:
            raise ValueError("this frame carries no provenance (was it built by opskit?)")
        return Provenance.from_dict(raw)
    prov = getattr(obj, "provenance", None)
    if isinstance(prov, Provenance):
        return prov
    raise ValueError(f"{type(obj).__name__} carries no provenance")
