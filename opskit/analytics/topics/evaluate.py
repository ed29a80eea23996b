"""Evaluation helpers: the shared real-text data sets and clustering agreement.

The shared data folder is ``<repo>/../shared/data`` (override with the
environment variable ``OPSKIT_SHARED_DATA``); see its README, section 4.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from opskit import provenance as prov

__all__ = [
    "agreement",
    "load_cfpb_narratives",
    "load_netflix_reviews",
    "shared_data_dir",
]

NETFLIX = "complaints/netflix_playstore_reviews_2024.csv"
CFPB = "complaints/cfpb_complaints_sample.csv"


def shared_data_dir() -> Path:
    """``$OPSKIT_SHARED_DATA`` or ``<repo>/../shared/data`` (may not exist)."""
    env = os.environ.get("OPSKIT_SHARED_DATA")
    if env:
        return Path(env)
    return (Path(__file__).resolve().parents[3] / ".." / "shared" / "data").resolve()


def agreement(truth: pd.Series | np.ndarray, clusters: pd.Series | np.ndarray) -> dict[str, float]:
    """NMI (arithmetic normalisation) and ARI of ``clusters`` against ``truth`` labels."""
    t = np.asarray(truth)
    c = np.asarray(clusters)
    return {
        "nmi": float(normalized_mutual_info_score(t, c)),
        "ari": float(adjusted_rand_score(t, c)),
    }


def _snapshot(system: str, as_of: pd.Timestamp, name: str) -> prov.Provenance:
    return prov.Provenance(
        kind="cache",
        systems=(system,),
        as_of=as_of.to_pydatetime(),
        fetched_at=as_of.to_pydatetime(),
        detail=f"static snapshot {name} in shared/data",
    )


def load_netflix_reviews(max_score: int | None = None, path: Path | None = None) -> pd.DataFrame:
    """The Netflix Play Store reviews (``content``, ``score``, ``at`` ...), with provenance.

    Parameters
    ----------
    max_score
        Keep reviews with at most this many stars (``2`` = the complaints).
    path
        The CSV (default: in :func:`shared_data_dir`).

    Raises
    ------
    FileNotFoundError
        If the file is missing.
    """
    frame = pd.read_csv(path or shared_data_dir() / NETFLIX)
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    if max_score is not None:
        frame = frame[frame["score"] <= max_score].reset_index(drop=True)
    as_of = frame["at"].max() if len(frame) else pd.Timestamp(datetime(2024, 6, 12, tzinfo=UTC))
    frame.attrs[prov.ATTR] = _snapshot("google_play", as_of, NETFLIX).to_dict()
    return frame


def load_cfpb_narratives(path: Path | None = None) -> pd.DataFrame:
    """CFPB complaints that have a narrative (``text``, ``product``, ``issue``, ``created_at``).

    Raises
    ------
    FileNotFoundError
        If the file is missing.
    """
    raw = pd.read_csv(path or shared_data_dir() / CFPB)
    raw = raw[raw["Consumer complaint narrative"].notna()]
    frame = pd.DataFrame(
        {
            "complaint_id": raw["Complaint ID"].to_numpy(),
            "created_at": pd.to_datetime(raw["Date received"], utc=True).to_numpy(),
            "product": raw["Product"].to_numpy(),
            "issue": raw["Issue"].to_numpy(),
            "text": raw["Consumer complaint narrative"].to_numpy(),
        }
    )
    frame.attrs[prov.ATTR] = _snapshot("cfpb", frame["created_at"].max(), CFPB).to_dict()
    return frame
