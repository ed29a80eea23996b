"""What a dashboard page shows for one filter selection: computed once, then read.

:func:`board_view` is the one way every surface gets a page: it reads the
:class:`~opskit.dashboards.store.BoardView` stored for this warehouse build and
selection, and only when nobody asked for it before computes it (importing the
catalog and Altair, see :mod:`opskit.dashboards.builders`) and stores it for the
next viewer. ``opskit dashboard`` stores the default views before Voila starts and,
in the background, every view one filter away (:mod:`opskit.dashboards.serving.warm`),
so a viewer kernel reads one small JSON document per filter change.

Views are stored only while no live source is in play (every source in ``demo``
mode, or ``auto`` without credentials): everything shown then comes from the
warehouse build and is fixed with it. With a live source configured, views are
computed on every request, so live numbers are never frozen.
"""

from __future__ import annotations

from opskit.config import Settings, load_settings
from opskit.dashboards import builders
from opskit.dashboards.data import DashboardData
from opskit.dashboards.filters import Filters
from opskit.dashboards.store import BOARDS, Board, BoardView, is_memoisable, read_view, write_view

__all__ = ["board_view"]


def board_view(
    board: Board,
    filters: Filters | None = None,
    *,
    settings: Settings | None = None,
    data: DashboardData | None = None,
    svg: bool = False,
    compute: bool = True,
) -> BoardView | None:
    """The view of ``board`` for ``filters``: stored, else computed (and stored).

    Parameters
    ----------
    board
        ``overview`` or ``health`` (service health ignores ``filters``).
    filters
        Filter bar selection (default: the default view).
    settings
        Settings to use (default: read from the environment).
    data
        Frames to compute from when needed (default: a new :class:`DashboardData`).
    svg
        Require static SVGs of the charts (recomputes a stored view that lacks them).
    compute
        ``False`` returns ``None`` instead of computing a missing view.

    Raises
    ------
    ValueError
        ``board`` is not one of :data:`~opskit.dashboards.store.BOARDS`.
    """
    if board not in BOARDS:
        raise ValueError(f"unknown board {board!r}; boards: {', '.join(BOARDS)}")
    settings = settings or load_settings()
    filters = filters or Filters()
    memo = is_memoisable(settings)
    if memo:
        stored = read_view(board, filters, settings)
        if stored is not None and (stored.svgs or not svg):
            return stored
    if not compute:
        return None
    data = data or DashboardData(settings=settings)
    view = (
        builders.compute_overview(data, filters, svg=svg)
        if board == "overview"
        else builders.compute_health(data, svg=svg)
    )
    if memo:
        write_view(view, filters, settings)
    return view
