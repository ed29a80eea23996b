"""Jira-like production issues with status transitions.

Delays and cost overruns are heavy-tailed (log-normal times a per-component
multiplier drawn from a Pareto distribution), so a few components and shows end
up holding most of the delay and cost: the concentration *emerges* from the
distributions, it is not hand-tuned. Parameters go to ``demo_truth``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from opskit.demo._common import Calendar
from opskit.demo.truth import Truth

COMPONENTS = (
    "player", "encoding", "drm", "cdn_routing", "billing", "recommendations", "search",
    "ads_insertion", "subtitles", "metadata", "live_events", "auth", "smart_tv_app",
    "mobile_app", "content_ingest",
)  # fmt: skip
TEAMS = {
    "player": "playback", "encoding": "media", "drm": "media", "cdn_routing": "delivery",
    "billing": "commerce", "recommendations": "personalization", "search": "personalization",
    "ads_insertion": "ads", "subtitles": "media", "metadata": "content_ops",
    "live_events": "delivery", "auth": "identity", "smart_tv_app": "devices",
    "mobile_app": "devices", "content_ingest": "content_ops",
}  # fmt: skip
PROJECTS = {"playback": "STREAM", "media": "MEDIA", "delivery": "STREAM", "commerce": "BILL",
            "personalization": "DISCO", "ads": "ADS", "content_ops": "CONTENT",
            "identity": "PLAT", "devices": "APPS"}  # fmt: skip
ROOT_CAUSES = ("vendor_dependency", "requirements_change", "tech_debt", "capacity",
               "third_party_outage", "config_error", "code_defect", "rewrite_redesign")  # fmt: skip
SEVERITIES = ("critical", "high", "medium", "low")
SEVERITY_P = (0.06, 0.22, 0.44, 0.28)
PRIORITY = {"critical": "Highest", "high": "High", "medium": "Medium", "low": "Low"}
PLANNED_DAYS = {"critical": 5, "high": 12, "medium": 25, "low": 40}
VERBS = ("fails", "is slow", "drops frames", "times out", "returns errors", "crashes", "stalls",
         "shows wrong data", "leaks memory", "misses deadline")  # fmt: skip
OBJECTS = {
    "player": "4K playback", "encoding": "HDR transcode", "drm": "Widevine licence", "cdn_routing":
    "edge failover", "billing": "renewal job", "recommendations": "home row", "search": "autocomplete",
    "ads_insertion": "SSAI break", "subtitles": "caption sync", "metadata": "episode metadata",
    "live_events": "live stream", "auth": "token refresh", "smart_tv_app": "TV launcher",
    "mobile_app": "download manager", "content_ingest": "delivery pipeline",
}  # fmt: skip


def issues_tables(
    rng: np.random.Generator, cal: Calendar, n: int, shows: np.ndarray, truth: Truth
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``production_issues`` (one row per issue) and ``issue_transitions``."""
    alpha = 1.3
    comp_mult = rng.pareto(alpha, len(COMPONENTS)) + 1.0
    for c, v in zip(COMPONENTS, comp_mult, strict=True):
        truth.add("production", "component_delay_multiplier", v, subject=c)
    truth.add("production", "component_multiplier_pareto_alpha", alpha)
    show_mult = rng.pareto(alpha, len(shows)) + 1.0
    for s, v in zip(shows, show_mult, strict=True):
        truth.add("production", "show_cost_multiplier", v, subject=str(s))

    comp_i = rng.integers(0, len(COMPONENTS), n)
    comp = np.asarray(COMPONENTS, dtype=object)[comp_i]
    sev = np.asarray(SEVERITIES, dtype=object)[rng.choice(4, n, p=SEVERITY_P)]
    has_show = np.isin(
        comp, ["encoding", "subtitles", "metadata", "content_ingest", "live_events"]
    ) | (rng.random(n) < 0.15)
    show_i = rng.integers(0, len(shows), n)
    created = np.sort(rng.random(n) * (cal.days - 1))
    planned = np.array([PLANNED_DAYS[s] for s in sev], dtype=float)
    # Work time: log-normal around the plan, stretched by the component's multiplier.
    work = planned * rng.lognormal(-0.55, 0.5, n) * comp_mult[comp_i] ** 0.6
    cause = np.asarray(ROOT_CAUSES, dtype=object)[rng.integers(0, len(ROOT_CAUSES), n)]
    work *= np.where(np.isin(cause, ["vendor_dependency", "rewrite_redesign"]), 1.6, 1.0)
    budget = rng.lognormal(np.log(40_000), 0.8, n) * np.array(
        [{"critical": 3, "high": 2, "medium": 1, "low": 0.5}[s] for s in sev]
    )
    overrun = (
        budget * np.maximum(0, work / planned - 1) * np.where(has_show, show_mult[show_i], 1.0)
    )

    rows, trans = [], []
    for i in range(n):
        t = created[i]
        key = f"{PROJECTS[TEAMS[comp[i]]]}-{1000 + i}"
        path = [("open", t)]
        t += rng.exponential(0.15 * planned[i])
        path.append(("in_progress", t))
        total_work = work[i]
        if rng.random() < 0.25:  # blocked for part of the time
            block_at = t + total_work * rng.random()
            block_len = total_work * rng.uniform(0.1, 0.6)
            path += [("blocked", block_at), ("in_progress", block_at + block_len)]
            t = block_at + block_len + total_work * 0.3
        else:
            t += total_work
        path.append(("in_review", t))
        t += rng.exponential(1.5)
        path.append(("done", t))
        if rng.random() < 0.08:
            t += rng.exponential(4.0)
            path += [("in_progress", t)]
            t += work[i] * 0.4
            path += [("in_review", t), ("done", t + rng.exponential(1.0))]
        path = [(s, d) for s, d in path if d < cal.days]  # what has happened by the end
        status, resolved = path[-1][0], path[-1][1] if path[-1][0] == "done" else np.nan
        for (a, _da), (b, db) in zip([(None, created[i]), *path[:-1]], path, strict=True):
            if a is not None:
                trans.append((key, a, b, db))
        due = created[i] + planned[i]
        end_ref = resolved if status == "done" else cal.days
        rows.append(
            {
                "key": key,
                "project": PROJECTS[TEAMS[comp[i]]],
                "summary": f"{OBJECTS[comp[i]]} {VERBS[rng.integers(0, len(VERBS))]}"
                + (f" for '{shows[show_i[i]]}'" if has_show[i] else ""),
                "issue_type": "Bug" if rng.random() < 0.7 else "Task",
                "priority": PRIORITY[sev[i]],
                "severity": sev[i],
                "status": status,
                "component": comp[i],
                "show": shows[show_i[i]] if has_show[i] else None,
                "team": TEAMS[comp[i]],
                "root_cause": cause[i],
                "created_day": created[i],
                "resolved_day": resolved,
                "due_day": due,
                "budget_usd": round(float(budget[i]), 2),
                # Cost is booked as work is done: pro rata for unfinished issues.
                "actual_cost_usd": round(
                    float(
                        budget[i]
                        + overrun[i] * min(1.0, (end_ref - created[i]) / max(work[i], 1e-9))
                    ),
                    2,
                ),
                "reopen_count": sum(
                    1
                    for (a, _), (b, _) in itertools.pairwise(path)
                    if a == "done" and b == "in_progress"
                ),
            }
        )
    issues = pd.DataFrame(rows)
    for col in ("created", "resolved", "due"):
        issues[col] = cal.to_time(issues.pop(f"{col}_day").to_numpy())
    tr = pd.DataFrame(trans, columns=["key", "from_status", "to_status", "day"])
    tr["transitioned_at"] = cal.to_time(tr.pop("day").to_numpy())
    return issues, tr
