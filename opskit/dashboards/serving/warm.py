"""The warm-up: what ``opskit dashboard`` stores before (and while) Voila serves.

Heavy work never runs per viewer. :func:`precompute` stores what is slow to compute
in the view store, keyed by the warehouse build (a rebuilt warehouse or edited
dataset code makes new keys):

- the tables of :func:`opskit.health.service_health` (~10 s);
- Kaplan-Meier retention curves by plan, overall and per region;
- the board views (cards, insights, chart specs and the first-paint SVGs) of the
  default pages, plus (``grid=True``) every overview one filter away from a default,
  so a filter change reads one stored view.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from opskit.config import Settings, load_settings
from opskit.dashboards.data import (
    DashboardData,
    compute_health_tables,
    compute_retention,
    stored_frame,
)
from opskit.dashboards.filters import Filters, one_filter_away
from opskit.dashboards.views import board_view

__all__ = ["precompute"]

logger = logging.getLogger(__name__)


def precompute(
    *,
    settings: Settings | None = None,
    grid: bool = False,
    log: Callable[[str], None] | None = None,
) -> dict[str, float]:
    """Store the slow results and warm the memo of the default overview; return seconds per step.

    Parameters
    ----------
    settings
        Settings to use (default: read from the environment).
    grid
        Also warm every view one filter away from a default (a few minutes at scale 1).
    log
        Called with one line per step (``opskit dashboard`` prints them).
    """
    settings = settings or load_settings()
    say = log or logger.info
    timings: dict[str, float] = {}

    def step(name: str, fn: Callable[[], Any]) -> None:
        t0 = time.perf_counter()
        fn()
        timings[name] = time.perf_counter() - t0
        say(f"precompute {name}: {timings[name]:.1f} s")

    data = DashboardData(settings=settings)
    step("overview", lambda: data.view(Filters()))
    if stored_frame("health_summary", settings=settings, compute=False) is None:
        step("service_health", lambda: compute_health_tables(settings))
    if stored_frame("retention", settings=settings, compute=False, region=None) is None:
        regions = [None, *data.options["region"]]
        step("retention", lambda: compute_retention(settings, regions))
    # What viewer kernels read: the default pages, with static SVGs for the first paint.
    step("board views", lambda: [board_view(b, settings=settings, data=data, svg=True)
                                 for b in ("overview", "health")])  # fmt: skip
    if grid:
        step("filter grid", lambda: [board_view("overview", f, settings=settings, data=data)
                                     for f in one_filter_away(data.options)])  # fmt: skip
    return timings
