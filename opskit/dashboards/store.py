"""The view store: board views and precomputed tables, kept per warehouse build.

Everything a dashboard page shows is stored in opskit's result cache
(:class:`opskit.cache.ResultCache`, purpose ``memo``) under a key made of a name,
the selection and the memo scope of the warehouse build
(:func:`opskit.cache.settings_scope`: warehouse identity plus the code fingerprint).
A rebuilt warehouse or edited view code therefore makes new keys, and nothing stale
is read.

- A :class:`BoardView` (one page for one :class:`~opskit.dashboards.filters.Filters`
  value) is stored as one JSON document under ``board_<board>``.
- A precomputed table (``health_alerts``, ``retention`` ...) is stored as a frame
  under ``dashboard_<name>``.

This module only reads and writes; what computes a missing entry is in
:mod:`opskit.dashboards.data` and :mod:`opskit.dashboards.views`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from opskit import provenance as prov
from opskit.cache import ResultCache, cache_key, settings_scope
from opskit.config import Settings
from opskit.dashboards.filters import Filters

__all__ = [
    "BOARDS",
    "Board",
    "BoardView",
    "is_memoisable",
    "read_table",
    "read_view",
    "write_table",
    "write_view",
]

Board = Literal["overview", "health"]
BOARDS: tuple[Board, ...] = ("overview", "health")


@dataclass(frozen=True)
class BoardView:
    """One dashboard page for one filter selection.

    Attributes
    ----------
    board
        ``overview`` or ``health``.
    label
        The selection in words (``last 30 days · region brazil``).
    provenance
        Where every number on the page came from.
    cards
        KPI cards (HTML, the page contract's ``opskit-kpi`` elements).
    charts
        Vega-Lite spec per chart panel.
    insights
        Ranked findings (HTML list), overview only.
    svgs
        Static SVG per chart panel for the first paint (empty when not rendered).
    options
        Filter bar choices (``region``/``device``/``plan``).
    extra
        Board-specific parts (service health: series list, drill targets, specs).
    """

    board: Board
    label: str
    provenance: prov.Provenance
    cards: str
    charts: dict[str, dict[str, Any]]
    insights: str = ""
    svgs: dict[str, str] = field(default_factory=dict)
    options: dict[str, list[str]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """The view as one JSON document (what the store holds)."""
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["provenance"] = self.provenance.to_dict()
        return json.dumps(data, default=str, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> BoardView:
        """Inverse of :meth:`to_json`."""
        data = json.loads(text)
        data["provenance"] = prov.Provenance.from_dict(data["provenance"])
        return cls(**data)


def is_memoisable(settings: Settings) -> bool:
    """True when no source would give live numbers (see :func:`opskit.sources.live_sources`).

    Views are stored only then: everything shown comes from the warehouse build and
    is fixed with it. With a live source, views are computed on every request.
    """
    from opskit.sources import live_sources

    return not live_sources(settings)


def _view_key(board: Board, filters: Filters) -> dict[str, Any]:
    if board == "health":  # service health ignores the filter bar
        return {}
    return {
        "days": filters.days,
        "region": filters.region,
        "device": filters.device,
        "plan": filters.plan,
    }


def read_view(board: Board, filters: Filters, settings: Settings) -> BoardView | None:
    """The stored view of ``board`` for ``filters`` in this warehouse build, or ``None``."""
    dataset = f"board_{board}"
    store, scope = ResultCache.for_settings(settings), settings_scope(settings)
    hit = store.get(cache_key(dataset, _view_key(board, filters), memo=scope), dataset=dataset,
                    purpose="memo")  # fmt: skip
    return None if hit is None else BoardView.from_json(str(hit.frame["view"].iloc[0]))


def write_view(view: BoardView, filters: Filters, settings: Settings) -> None:
    """Store ``view`` as the view of its board for ``filters`` in this warehouse build."""
    dataset = f"board_{view.board}"
    store, scope = ResultCache.for_settings(settings), settings_scope(settings)
    key = _view_key(view.board, filters)
    frame = prov.attach(pd.DataFrame({"view": [view.to_json()]}), view.provenance)
    store.put(cache_key(dataset, key, memo=scope), frame, dataset=dataset, filters=key,
              system="warehouse", purpose="memo", tag=scope)  # fmt: skip


def read_table(name: str, settings: Settings, **key: Any) -> pd.DataFrame | None:
    """The stored table ``name`` (``health_alerts``, ``retention`` ...) for ``key``, or ``None``."""
    dataset = f"dashboard_{name}"
    store, scope = ResultCache.for_settings(settings), settings_scope(settings)
    hit = store.get(cache_key(dataset, key, memo=scope), dataset=dataset, purpose="memo")
    return None if hit is None else hit.frame


def write_table(name: str, frame: pd.DataFrame, settings: Settings, **key: Any) -> None:
    """Store ``frame`` as table ``name`` for ``key`` in this warehouse build."""
    dataset = f"dashboard_{name}"
    store, scope = ResultCache.for_settings(settings), settings_scope(settings)
    store.put(cache_key(dataset, key, memo=scope), frame, dataset=dataset, filters=key,
              system="warehouse", purpose="memo", tag=scope)  # fmt: skip
