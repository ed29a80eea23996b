"""Minute-level APM series for a dozen services, with planted anomalies, and
Dynatrace-style problems for the whole year.

Throughput follows a daily cycle (evening peak) and a weekly one (weekend
lift) with multiplicative noise; latency rises with load; error rate and apdex
follow latency. Planted anomalies (recorded in ``demo_truth``):

- ``spike``: latency x3-6 for 10-40 minutes,
- ``level_shift``: latency +35-80 % from a deploy until the end of the window,
- ``error_burst``: error rate x8-20 for 10-30 minutes,
- ``outage``: throughput -60-90 % and error rate x10 for 5-25 minutes.

Each APM anomaly that is not a level shift also opens a problem; further
problems over the year come from a Poisson process with heavy-tailed durations.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from opskit.demo._common import Calendar
from opskit.demo.truth import Truth

SERVICES = {
    # name: (peak rpm, base p50 latency ms)
    "playback-api": (42_000, 85), "manifest-service": (38_000, 40), "drm-license": (21_000, 120),
    "auth-service": (15_000, 60), "catalog-api": (26_000, 70), "search-api": (9_000, 140),
    "recommendations": (18_000, 180), "billing-api": (2_500, 220), "payments-gateway": (1_800, 340),
    "user-profile": (12_000, 55), "cdn-edge-router": (55_000, 25), "ads-decisioning": (14_000, 95),
}  # fmt: skip
METRICS = ("throughput_rpm", "latency_p50_ms", "latency_p95_ms", "error_rate", "apdex")
SHAPES = ("spike", "level_shift", "error_burst", "outage")
PROBLEM_TITLE = {
    "spike": ("Response time degradation", "PERFORMANCE", "SERVICES"),
    "error_burst": ("Failure rate increase", "ERROR", "SERVICES"),
    "outage": ("Service unavailable", "AVAILABILITY", "APPLICATION"),
}


def apm_table(
    rng: np.random.Generator, cal: Calendar, days: int, truth: Truth
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Long ``apm_metrics`` table for the last ``days`` days, plus planted incidents."""
    minutes = days * 1440
    t0 = cal.days - days  # day offset of the window start
    tod = (np.arange(minutes) % 1440) / 60.0  # hour of day
    dow = ((cal.start + pd.Timedelta(days=t0)).dayofweek + np.arange(minutes) // 1440) % 7
    daily = (
        0.55
        + 0.45 * np.exp(-0.5 * ((tod - 20.5) / 3.2) ** 2)
        + 0.18 * np.exp(-0.5 * ((tod - 12.5) / 2.5) ** 2)
    )
    weekly = np.where(dow >= 5, 1.15, 1.0)
    frames, incidents = [], []
    for name, (peak, p50) in SERVICES.items():
        load = daily * weekly * np.exp(rng.normal(0, 0.03, minutes))
        noise = np.exp(np.convolve(rng.normal(0, 0.05, minutes), np.ones(5) / 5, mode="same"))
        thr = peak * load
        lat = p50 * (0.85 + 0.3 * load) * noise
        err = 0.002 * (0.7 + 0.6 * load) * np.exp(rng.normal(0, 0.25, minutes))
        n_anom = rng.integers(1, 4)
        for _ in range(n_anom):
            shape = str(rng.choice(SHAPES, p=(0.35, 0.15, 0.3, 0.2)))
            start = int(rng.integers(1440, minutes - 60))
            if shape == "level_shift":
                end = minutes
                lat[start:] *= rng.uniform(1.35, 1.8)
                metric = "latency_p95_ms"
            elif shape == "spike":
                end = start + int(rng.integers(10, 41))
                lat[start:end] *= rng.uniform(3, 6)
                metric = "latency_p95_ms"
            elif shape == "error_burst":
                end = start + int(rng.integers(10, 31))
                err[start:end] *= rng.uniform(8, 20)
                metric = "error_rate"
            else:
                end = start + int(rng.integers(5, 26))
                thr[start:end] *= rng.uniform(0.1, 0.4)
                err[start:end] *= 10
                metric = "throughput_rpm"
            s_day, e_day = t0 + start / 1440, t0 + end / 1440
            truth.add(
                "apm_anomaly", shape, None, subject=name,
                start=cal.to_time(np.array([s_day]))[0], end=cal.to_time(np.array([e_day]))[0],
                detail=metric,
            )  # fmt: skip
            incidents.append(
                {"service": name, "shape": shape, "start_day": s_day, "end_day": e_day}
            )
        err = np.minimum(err, 0.95)
        p95 = lat * rng.uniform(2.6, 3.4) * np.exp(rng.normal(0, 0.06, minutes))
        t_apdex = p50 * 4  # apdex threshold: 4x the healthy median
        satisfied = 1 / (1 + np.exp((lat - t_apdex * 0.5) / (0.15 * t_apdex)))
        apdex = np.clip(satisfied * (1 - err) + 0.5 * (1 - satisfied) * (1 - err) * 0.6, 0, 1)
        values = np.column_stack(
            [
                np.round(thr, 1),
                np.round(lat, 2),
                np.round(p95, 2),
                np.round(err, 5),
                np.round(apdex, 4),
            ]
        )
        # Telemetry gaps: ~0.1 % of minutes missing for everyone on this service.
        values[rng.random(minutes) < 0.001] = np.nan
        frames.append((name, values))
    stamps = cal.to_time(t0 + np.arange(minutes) / 1440)
    service = np.repeat(np.array([f[0] for f in frames], dtype=object), minutes * len(METRICS))
    stacked = np.concatenate([f[1].T.reshape(-1) for f in frames])
    out = pd.DataFrame(
        {
            "timestamp": np.tile(stamps, len(frames) * len(METRICS)),
            "service": service,
            "metric": np.tile(np.repeat(np.array(METRICS, dtype=object), minutes), len(frames)),
            "value": stacked,
        }
    )
    return out, incidents


def problems_table(
    rng: np.random.Generator, cal: Calendar, incidents: list[dict[str, Any]], n_background: int
) -> pd.DataFrame:
    """Dynatrace-style problems: one per planted APM incident (bar level shifts),
    plus ``n_background`` over the whole year with log-normal durations."""
    rows = []
    for inc in incidents:
        if inc["shape"] == "level_shift":
            continue
        title, sev, impact = PROBLEM_TITLE[str(inc["shape"])]
        delay = rng.uniform(2, 6) / 1440  # Dynatrace opens a few minutes after onset
        rows.append(
            (
                inc["service"],
                title,
                sev,
                impact,
                float(inc["start_day"]) + delay,
                float(inc["end_day"]) + delay,
            )
        )
    names = list(SERVICES)
    weights = rng.pareto(1.2, len(names)) + 1
    for _ in range(n_background):
        svc = names[rng.choice(len(names), p=weights / weights.sum())]
        shape = str(rng.choice(("spike", "error_burst", "outage"), p=(0.5, 0.35, 0.15)))
        title, sev, impact = PROBLEM_TITLE[shape]
        start = rng.random() * (cal.days - 0.2)
        rows.append((svc, title, sev, impact, start, start + rng.lognormal(np.log(35), 1.0) / 1440))
    rows.sort(key=lambda r: r[4])
    df = pd.DataFrame(
        rows, columns=["service", "title", "severity_level", "impact_level", "start", "end"]
    )
    open_ = df["end"] > cal.days
    df["problem_id"] = [
        f"{1_000_000_000_000 + i * 7919}_{int(s * 86_400_000)}V2" for i, s in enumerate(df["start"])
    ]
    df["display_id"] = [f"P-{24_000 + i}" for i in range(len(df))]
    df["status"] = np.where(open_, "OPEN", "CLOSED")
    df["start_time"] = cal.to_time(df.pop("start").to_numpy())
    df["end_time"] = cal.to_time(np.where(open_, np.nan, df.pop("end").to_numpy()))
    df["root_cause"] = np.where(rng.random(len(df)) < 0.6, df["service"], None)
    df["management_zone"] = "streaming-prod"
    return df[["problem_id", "display_id", "title", "impact_level", "severity_level", "status",
               "start_time", "end_time", "service", "root_cause", "management_zone"]]  # fmt: skip
