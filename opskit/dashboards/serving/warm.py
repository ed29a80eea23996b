"""The warm-up: what ``opskit dashboard`` prepares before (and while) Voila serves.

:func:`prepare` writes the chart bundle Voila serves, signs the dashboard notebooks
as trusted and runs :func:`precompute`; ``opskit dashboard`` runs it (:func:`main`) in a
child process, so the process that supervises Voila stays small and stops fast.

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
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from opskit.config import Settings, load_settings
from opskit.dashboards.data import (
    DashboardData,
    compute_health_tables,
    compute_retention,
    stored_frame,
)
from opskit.dashboards.filters import Filters, one_filter_away
from opskit.dashboards.serving.files import dashboard_dir, trust_dashboards, write_chart_bundle
from opskit.dashboards.views import board_view
from opskit.errors import OpsKitError

__all__ = ["main", "precompute", "prepare"]

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


def prepare(
    *,
    settings: Settings | None = None,
    grid: bool = False,
    log: Callable[[str], None] | None = None,
) -> dict[str, float]:
    """Everything Voila needs before it serves: chart bundle, trusted notebooks, stored views.

    Parameters are those of :func:`precompute`; returns its timings.
    """
    settings = settings or load_settings()
    folder = dashboard_dir(settings)
    write_chart_bundle(folder)
    trust_dashboards(folder)
    return precompute(settings=settings, grid=grid, log=log)


def main(argv: Sequence[str] | None = None) -> int:
    """Run :func:`prepare` as a process (``--grid``: the filter grid too); return the exit code.

    One line per step on stdout; an opskit error is one line on stderr (exit code 1).
    """
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        prepare(grid="--grid" in args, log=lambda line: print(line, flush=True))
    except OpsKitError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0
