"""Build the demo warehouse: a seeded, deterministic streaming business."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from opskit.demo import apm, content, initiatives, issues, population, revenue, sessions
from opskit.demo._common import DEFAULT_END, MONTHS, Calendar
from opskit.demo.complaints import complaints_table
from opskit.demo.truth import Truth
from opskit.tables import TABLES
from opskit.warehouse import Warehouse, building, meta_frame

__all__ = ["BuildReport", "build_demo"]

logger = logging.getLogger(__name__)

#: Version of the generator: bump when the generated data changes on purpose.
GENERATOR_VERSION = "2"


@dataclass(frozen=True)
class BuildReport:
    """What a demo build wrote and how long each step took."""

    seed: int
    scale: float
    rows: dict[str, int]
    seconds: dict[str, float]

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


def build_demo(
    target: Warehouse,
    *,
    seed: int = 7,
    scale: float = 1.0,
    end: pd.Timestamp | str | None = None,
    progress: bool = False,
) -> BuildReport:
    """Generate the demo business and write it to ``target`` atomically.

    Parameters
    ----------
    target
        Warehouse to (re)create. For a DuckDB file, the old file is replaced only
        when the build completes.
    seed
        Random seed: the same seed, scale and end give identical tables.
    scale
        Size factor: 1.0 is about 230,000 subscribers and 5 million sessions;
        0.05 is a small warehouse for tests.
    end
        Last day of the demo year (default 2026-10-31).
    progress
        Show a progress bar (tqdm, on standard error) through the steps.

    Returns
    -------
    BuildReport
        Row counts and step timings.
    """
    if not 0.001 <= scale <= 10:
        raise ValueError(f"scale must be between 0.001 and 10, got {scale}")
    cal = Calendar(
        pd.Timestamp(end or DEFAULT_END).tz_localize("UTC")
        if pd.Timestamp(end or DEFAULT_END).tzinfo is None
        else pd.Timestamp(end or DEFAULT_END)
    )
    streams = np.random.SeedSequence([seed, 20_261_031]).spawn(10)
    rng = [np.random.default_rng(s) for s in streams]
    truth = Truth()
    timings: dict[str, float] = {}
    tables: dict[str, pd.DataFrame] = {}

    # Seven generation steps, one tick per simulated month, one per table written.
    bar = tqdm(total=7 + MONTHS + len(TABLES) + 1, desc="demo build", unit="step",
               disable=not progress, file=sys.stderr, leave=False)  # fmt: skip

    def step(name: str, t0: float) -> float:
        now = time.perf_counter()
        timings[name] = now - t0
        logger.info("demo build: %s in %.2f s", name, now - t0)
        bar.set_postfix_str(name)
        bar.update(1)
        return now

    t = time.perf_counter()
    n_titles = max(60, round(300 * min(1.0, scale) ** 0.5))
    titles = content.content_table(rng[0], cal, n_titles)
    droughts = content.drought_months(titles, cal)
    for g, flags in droughts.items():
        for m, hit in enumerate(flags):
            if hit:
                start = cal.start + pd.DateOffset(months=m)
                truth.add("content_drought", "no_release_60d", 1.0, subject=g, start=start,
                          end=start + pd.DateOffset(months=1))  # fmt: skip
    incidents = sessions.plan_incidents(rng[1], cal)
    for inc in incidents:
        truth.add(
            "qoe_incident", "cdn_degradation", inc.severity, subject=inc.cdn,
            start=cal.to_time(np.array([inc.start_day]))[0], end=cal.to_time(np.array([inc.end_day]))[0],
            unit="multiplier", detail=inc.region or "all",
        )  # fmt: skip
    t = step("content", t)

    def factory(**attrs: np.ndarray) -> sessions.SessionGenerator:
        return sessions.SessionGenerator(rng[2], cal, titles, incidents, **attrs)

    bar.set_postfix_str("population")
    pop = population.simulate(rng[3], cal, scale, titles, droughts, factory, truth,
                              tick=lambda: bar.update(1))  # fmt: skip
    t = step("population", t)

    sess = pd.concat(pop.sessions, ignore_index=True)
    sess["subscriber_id"] += 1
    sess["start_time"] = cal.to_time(sess["start_time"].to_numpy())
    tables["viewing_sessions"] = sess
    tables["content_daily"] = _content_daily(sess)
    rev = revenue.revenue_table(
        rng[9],
        cal,
        pop.subscribers["region"].to_numpy(),
        pop.intervals,
        pop.sessions,
        pop.session_plans,
        truth,
    )
    tables["revenue"] = rev
    t = step("sessions+revenue", t)

    tickets, themes = complaints_table(
        rng[4], cal, pop.complaints, titles, pop.subscribers["favourite_genre"].to_numpy()
    )
    t = step("complaints", t)
    show_names = titles.loc[titles["tier"] == "flagship", "title"].to_numpy()
    if len(show_names) < 5:
        show_names = titles["title"].to_numpy()[:10]
    n_issues = max(120, round(700 * scale**0.5))
    prod, transitions = issues.issues_tables(rng[5], cal, n_issues, show_names, truth)
    t = step("production_issues", t)
    apm_days = int(np.clip(round(30 * scale**0.5), 7, 60))
    apm_metrics, apm_incidents = apm.apm_table(rng[6], cal, apm_days, truth)
    probs = apm.problems_table(rng[7], cal, apm_incidents, max(40, round(160 * scale**0.5)))
    t = step("apm+problems", t)
    plans = initiatives.initiatives_table(rng[8], truth, scale)
    t = step("initiatives", t)

    tables.update(
        subscribers=pop.subscribers,
        subscriptions=pop.events,
        content=titles.drop(columns=["popularity"]),
        complaints=tickets,
        production_issues=prod,
        issue_transitions=transitions,
        apm_metrics=apm_metrics,
        problems=probs,
        campaigns=pop.campaigns,
        campaign_assignments=pop.assignments,
        initiatives=plans,
        demo_truth=truth.frame(),
        demo_truth_tickets=pd.DataFrame({"ticket_id": tickets["ticket_id"], "theme": themes}),
    )
    meta = {
        "kind": "demo",
        "seed": seed,
        "scale": scale,
        "generator_version": GENERATOR_VERSION,
        "data_start": cal.start.isoformat(),
        "data_end": (cal.end + pd.Timedelta(days=1)).isoformat(),
        "apm_days": apm_days,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    tables["opskit_meta"] = meta_frame(meta)
    bar.total = bar.n + len(tables)
    bar.refresh()
    with building(target) as wh:
        for name, frame in tables.items():
            bar.set_postfix_str(f"writing {name}")
            wh.write(name, frame)
            bar.update(1)
    target.close()
    bar.close()
    timings["write"] = time.perf_counter() - t
    logger.info("demo build: write in %.2f s", timings["write"])
    return BuildReport(seed, scale, {k: len(v) for k, v in tables.items()}, timings)


def _content_daily(sess: pd.DataFrame) -> pd.DataFrame:
    day = sess["start_time"].dt.floor("D")
    g = sess.assign(date=day, hours=sess["watch_minutes"] / 60).groupby(
        ["date", "content_id"], sort=True
    )
    out = g.agg(
        plays=("session_id", "size"),
        viewers=("subscriber_id", "nunique"),
        viewing_hours=("hours", "sum"),
    )
    out = out.reset_index()
    out["viewing_hours"] = out["viewing_hours"].round(3)
    return out
