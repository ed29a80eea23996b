"""Shared vocabulary and helpers of the demo business generator.

Everything here is a *distribution parameter* of the synthetic business, not a
result: analytics must recover effects from the generated rows, never read
these constants.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: The demo year ends on this (inclusive) day; fixed so the same seed gives the
#: same bytes whatever day the build runs. Override with ``build(end=...)``.
DEFAULT_END = pd.Timestamp("2026-10-31", tz="UTC")
MONTHS = 12

PLANS = ("ad_supported", "ad_free", "annual")
PLAN_SHARE = (0.45, 0.38, 0.17)
#: Monthly list price in USD (annual is billed yearly: 119.99 / 12).
PLAN_PRICE = {"ad_supported": 7.99, "ad_free": 12.99, "annual": 119.99 / 12}


@dataclass(frozen=True)
class PriceIncrease:
    """The planted list-price rise: ``plan`` goes ``old -> new`` from month ``effective_month``."""

    plan: str
    old: float
    new: float
    effective_month: int
    #: Months after the rise in which churn is raised (the ``price_increase`` driver).
    exposure_months: int = 3

    def exposed(self, month: int) -> bool:
        return self.effective_month <= month < self.effective_month + self.exposure_months


PRICE_INCREASE = PriceIncrease("ad_free", 12.99, 14.99, effective_month=6)

REGIONS = ("us", "canada", "uk", "germany", "brazil", "india")
REGION_SHARE = (0.42, 0.08, 0.14, 0.10, 0.14, 0.12)
ISPS = {
    "us": ("comcast", "charter", "att", "verizon"),
    "canada": ("rogers", "bell", "telus"),
    "uk": ("bt", "virgin_media", "sky"),
    "germany": ("telekom", "vodafone_de", "o2_de"),
    "brazil": ("vivo", "claro", "oi"),
    "india": ("jio", "airtel", "bsnl"),
}
#: Median rebuffering (percent of watch time) by region: emerging markets worse.
REGION_REBUFFER = {
    "us": 0.55,
    "canada": 0.6,
    "uk": 0.55,
    "germany": 0.5,
    "brazil": 1.1,
    "india": 1.5,
}
DEVICES = ("smart_tv", "mobile_ios", "mobile_android", "web", "roku", "fire_tv", "game_console")
DEVICE_SHARE = (0.31, 0.15, 0.17, 0.12, 0.11, 0.09, 0.05)
DEVICE_BITRATE = {
    "smart_tv": 7200, "mobile_ios": 2600, "mobile_android": 2200, "web": 4800,
    "roku": 6000, "fire_tv": 5800, "game_console": 6800,
}  # fmt: skip
CDNS = ("akamai", "cloudfront", "fastly", "edge_inhouse")
CDN_SHARE = (0.36, 0.27, 0.22, 0.15)
CHANNELS = ("organic", "paid_search", "social", "partner_bundle", "referral", "free_trial")
CHANNEL_SHARE = (0.34, 0.2, 0.14, 0.12, 0.08, 0.12)
PAYMENT_METHODS = ("card", "paypal", "carrier_billing", "gift_card")
PAYMENT_SHARE = (0.68, 0.18, 0.09, 0.05)
#: Monthly probability of a failed payment by method.
PAYMENT_FAIL = {"card": 0.022, "paypal": 0.012, "carrier_billing": 0.07, "gift_card": 0.05}
GENRES = ("drama", "comedy", "reality", "sports", "kids", "documentary", "thriller", "anime")
GENRE_SHARE = (0.2, 0.17, 0.12, 0.13, 0.11, 0.07, 0.13, 0.07)


@dataclass(frozen=True)
class Calendar:
    """The demo year: ``MONTHS`` calendar months ending on ``end`` (inclusive)."""

    end: pd.Timestamp

    @property
    def start(self) -> pd.Timestamp:
        return (self.end + pd.Timedelta(days=1)) - pd.DateOffset(months=MONTHS)

    @property
    def days(self) -> int:
        return int((self.end - self.start).days) + 1

    def month_bounds(self) -> list[tuple[int, int]]:
        """``(first_day, end_day_exclusive)`` of each month, as day offsets from ``start``."""
        out = []
        for m in range(MONTHS):
            a = self.start + pd.DateOffset(months=m)
            b = self.start + pd.DateOffset(months=m + 1)
            out.append((int((a - self.start).days), int((b - self.start).days)))
        return out

    def to_time(self, day_offset: np.ndarray) -> pd.DatetimeIndex:
        """Float day offsets (fractional = time of day) to UTC timestamps (microsecond)."""
        days = np.asarray(day_offset, dtype="float64")
        missing = np.isnan(days)
        us = np.round(np.where(missing, 0.0, days) * 86_400e6).astype("int64")
        stamps = (self.start.value // 1000 + us).astype("datetime64[us]")
        stamps[missing] = np.datetime64("NaT")
        return pd.DatetimeIndex(stamps).tz_localize("UTC")


def pick(
    rng: np.random.Generator, options: tuple[str, ...], p: tuple[float, ...], n: int
) -> np.ndarray:
    """Draw ``n`` labels with probabilities ``p`` (normalised)."""
    probs = np.asarray(p, dtype="float64")
    return np.asarray(options, dtype=object)[
        rng.choice(len(options), size=n, p=probs / probs.sum())
    ]


def diurnal_hours(rng: np.random.Generator, n: int) -> np.ndarray:
    """Hour-of-day (fractional) for viewing: evening peak around 21:00, low at 05:00."""
    hours = np.arange(24)
    weight = (
        0.25
        + np.exp(-0.5 * ((hours - 21) / 2.6) ** 2)
        + 0.35 * np.exp(-0.5 * ((hours - 13) / 3) ** 2)
    )
    h = rng.choice(24, size=n, p=weight / weight.sum())
    return h + rng.random(n)
