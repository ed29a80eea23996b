"""Fixtures for complaint-topic tests: small planted corpora and the shared real data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from opskit.analytics.topics.evaluate import shared_data_dir
from opskit.provenance import Provenance

THEMES = {
    "buffering": [
        "video keeps buffering on my tv",
        "stream freezes and buffering every evening",
        "constant buffering during the show, stream stutters",
        "buffering spinner never stops, video freezes",
    ],
    "billing": [
        "charged twice this month, refund the duplicate charge",
        "payment declined although my card is valid",
        "billing error, card charged but account unpaid",
        "duplicate charge on my card, billing please refund",
    ],
    "login": [
        "cannot log in, password reset email never arrives",
        "account locked, verification code never comes",
        "password reset fails and the login code is missing",
        "login keeps failing, account locked after password reset",
    ],
}


def _prov() -> Provenance:
    return Provenance(kind="demo", systems=("test",), as_of=datetime(2026, 3, 1, tzinfo=UTC))


@pytest.fixture(scope="session")
def planted_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    """900 tickets over 12 weeks in three themes; billing grows; login complainants churn.

    Returns the tickets (``text, theme, created_at, subscriber_id``, provenance in
    ``attrs``) and the planted cancellations (subscription events).
    """
    rng = np.random.default_rng(3)
    rows = []
    start = pd.Timestamp("2025-12-01", tz="UTC")
    for theme, phrases in THEMES.items():
        for i in range(300):
            # billing: most tickets in the last four weeks
            day = rng.integers(56, 84) if theme == "billing" and i < 150 else rng.integers(0, 84)
            rows.append(
                {
                    "text": str(rng.choice(phrases)) + rng.choice(["", ".", "!", " today"]),
                    "theme": theme,
                    "created_at": start + pd.Timedelta(days=int(day), hours=int(rng.integers(24))),
                }
            )
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=1).reset_index(drop=True)
    frame["subscriber_id"] = np.arange(1, len(frame) + 1)
    p_cancel = np.where(frame["theme"] == "login", 0.5, 0.05)
    churned = rng.random(len(frame)) < p_cancel
    cancels = pd.DataFrame(
        {
            "subscriber_id": frame.loc[churned, "subscriber_id"].to_numpy(),
            "event_type": "cancel",
            "event_time": frame.loc[churned, "created_at"]
            + pd.to_timedelta(rng.integers(1, 20, int(churned.sum())), unit="D"),
        }
    )
    frame.attrs["provenance"] = _prov().to_dict()
    return frame, cancels


@pytest.fixture()
def planted(planted_data: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    frame = planted_data[0].copy()
    frame.attrs = dict(planted_data[0].attrs)
    return frame


@pytest.fixture()
def cancels(planted_data: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    return planted_data[1].copy()


@pytest.fixture()
def prov() -> Provenance:
    return _prov()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real data folder; skips the test when it is absent."""
    path = shared_data_dir()
    if not (path / "complaints").is_dir():
        pytest.skip(f"shared data not found at {path} (set OPSKIT_SHARED_DATA)")
    return path
