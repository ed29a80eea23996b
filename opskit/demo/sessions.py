"""Viewing sessions with quality-of-experience measures, and planted CDN incidents.

A session's QoE comes from its subscriber's network quality (region and ISP
dependent, log-normal), its device and CDN, plus planted incidents: windows of a
few hours in which one CDN (optionally in one region) degrades. Each incident is
recorded in ``demo_truth`` with its exact window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from opskit.demo._common import (
    CDN_SHARE,
    CDNS,
    DEVICE_BITRATE,
    DEVICE_SHARE,
    DEVICES,
    GENRE_SHARE,
    GENRES,
    REGIONS,
    Calendar,
    diurnal_hours,
)

SESSION_COLUMNS = (
    "session_id", "subscriber_id", "start_time", "content_id", "device", "cdn", "isp", "region",
    "startup_time_ms", "rebuffering_ratio", "avg_bitrate_kbps", "video_start_failure",
    "exit_before_video_start", "watch_minutes",
)  # fmt: skip


@dataclass(frozen=True)
class Incident:
    """A planted CDN degradation window (day offsets from the calendar start)."""

    cdn: str
    region: str | None
    start_day: float
    end_day: float
    severity: float  # multiplier on rebuffering and start failures


def plan_incidents(rng: np.random.Generator, cal: Calendar, n: int = 10) -> list[Incident]:
    """``n`` incidents at random times, 2-9 hours long, severity 3-8x, spaced apart."""
    starts = np.sort(rng.choice(np.arange(5, cal.days - 2), size=n, replace=False))
    out = []
    for s in starts:
        hour = rng.integers(0, 24)
        dur_h = rng.uniform(2, 9)
        region = None if rng.random() < 0.5 else str(rng.choice(REGIONS))
        out.append(
            Incident(
                cdn=str(rng.choice(CDNS)),
                region=region,
                start_day=float(s + hour / 24),
                end_day=float(s + (hour + dur_h) / 24),
                severity=float(rng.uniform(3, 8)),
            )
        )
    return out


_DEVICES = np.asarray(DEVICES, dtype=object)
_CDNS = np.asarray(CDNS, dtype=object)
_GENRES = np.asarray(GENRES, dtype=object)
_BITRATE = np.array([DEVICE_BITRATE[d] for d in DEVICES], dtype="float64")


class SessionGenerator:
    """Generates one month of sessions at a time for the population simulation."""

    def __init__(
        self,
        rng: np.random.Generator,
        cal: Calendar,
        content: pd.DataFrame,
        incidents: list[Incident],
        *,
        device: np.ndarray,
        region: np.ndarray,
        isp: np.ndarray,
        quality: np.ndarray,
        genre: np.ndarray,
    ) -> None:
        """``device`` and ``genre`` are integer codes into DEVICES / GENRES;
        ``region``/``isp`` are label arrays; ``quality`` is base rebuffering in percent."""
        self.rng = rng
        self.cal = cal
        self.incidents = incidents
        self.device = device
        self.region = region
        self.isp = isp
        self.quality = quality  # subscriber's base rebuffering, in percent
        self.genre = genre
        self._content = content
        self._release_day = (content["release_date"] - cal.start).dt.days.to_numpy()
        self._next_id = 1
        self._cdn_factor = np.exp(rng.normal(0, 0.12, len(CDNS)))

    def month(
        self, idx: np.ndarray, lo: np.ndarray, hi: np.ndarray, counts: np.ndarray, month_start: int
    ) -> pd.DataFrame:
        """Sessions of subscribers ``idx``, each active on days ``[lo, hi)``, ``counts`` sessions."""
        rng = self.rng
        sub = np.repeat(idx, counts)
        n = len(sub)
        a = np.repeat(lo, counts)
        b = np.repeat(hi, counts)
        day = np.floor(a + rng.random(n) * (b - a))
        t = day + diurnal_hours(rng, n) / 24
        # The active window starts or ends mid-day: draw those sessions uniformly inside it.
        outside = (t < a) | (t >= b)
        t = np.where(outside, a + rng.random(n) * (b - a), t)
        order = np.argsort(t, kind="stable")
        sub, t = sub[order], t[order]

        own = rng.random(n) < 0.75
        dev_idx = np.where(own, self.device[sub], rng.choice(len(DEVICES), n, p=DEVICE_SHARE))
        cdn_idx = rng.choice(len(CDNS), n, p=np.asarray(CDN_SHARE))
        device = _DEVICES[dev_idx]
        cdn = _CDNS[cdn_idx]
        region = self.region[sub]
        sev = np.ones(n)
        for inc in self.incidents:
            hit = (cdn == inc.cdn) & (t >= inc.start_day) & (t < inc.end_day)
            if inc.region is not None:
                hit &= region == inc.region
            sev[hit] = inc.severity
        cdn_f = self._cdn_factor[cdn_idx]

        q = self.quality[sub] * cdn_f  # percent
        qrel = q / 0.8
        vsf = rng.random(n) < np.minimum(0.5, 0.011 * sev * qrel**0.3)
        startup = rng.lognormal(np.log(1050.0) + 0.18 * np.log(qrel), 0.42, n) * np.sqrt(sev)
        ebvs = ~vsf & (rng.random(n) < 0.018 + 0.06 * (startup > 4000))
        started = ~vsf & ~ebvs
        rebuf = np.minimum(0.6, q / 100 * sev * rng.exponential(1.0, n))
        base_rate = _BITRATE[dev_idx]
        bitrate = base_rate * np.exp(-0.25 * np.log(qrel) + rng.normal(0, 0.12, n)) / np.sqrt(sev)
        watch = rng.lognormal(np.log(38.0), 0.9, n) * np.clip(1.0 - 3.0 * rebuf, 0.05, 1.0)

        content_id = self._pick_content(sub, month_start)
        ids = np.arange(self._next_id, self._next_id + n, dtype="int64")
        self._next_id += n
        return pd.DataFrame(
            {
                "session_id": ids,
                "subscriber_id": sub.astype("int64"),
                "start_time": t,  # day offset; converted to timestamps by the caller
                "content_id": content_id,
                "device": device,
                "cdn": cdn,
                "isp": self.isp[sub],
                "region": region,
                "startup_time_ms": np.where(started, np.round(startup), np.nan),
                "rebuffering_ratio": np.where(started, np.round(rebuf, 5), np.nan),
                "avg_bitrate_kbps": np.where(started, np.round(bitrate), np.nan),
                "video_start_failure": vsf,
                "exit_before_video_start": ebvs,
                "watch_minutes": np.where(started, np.round(watch, 1), 0.0),
            }
        )

    def _pick_content(self, sub: np.ndarray, month_start: int) -> np.ndarray:
        rng = self.rng
        n = len(sub)
        fav = rng.random(n) < 0.6
        genre = _GENRES[np.where(fav, self.genre[sub], rng.choice(len(GENRES), n, p=GENRE_SHARE))]
        out = np.empty(n, dtype=object)
        eligible = self._release_day <= month_start
        ids = self._content["content_id"].to_numpy()
        pop = self._content["popularity"].to_numpy()
        genres = self._content["genre"].to_numpy()
        for g in GENRES:
            rows = np.flatnonzero(genre == g)
            pool = np.flatnonzero(eligible & (genres == g))
            if not len(pool):
                pool = np.flatnonzero(eligible)
            w = pop[pool] / pop[pool].sum()
            out[rows] = ids[pool[rng.choice(len(pool), len(rows), p=w)]]
        return out
