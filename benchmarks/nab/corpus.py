"""Loading the NAB corpus kept in the shared data folder.

The shared folder sits beside the repository (``<repo>/../shared/data``); the
environment variable ``OPSKIT_SHARED_DATA`` overrides it. Nothing here copies
data into the project.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "DataFile",
    "detector_names",
    "load_corpus",
    "load_detections",
    "nab_root",
    "shared_data",
]

ENV_VAR = "OPSKIT_SHARED_DATA"
#: Published detectors whose saved outputs we score (``random`` is a partial run).
PUBLISHED = (
    "ARTime",
    "numenta",
    "numentaTM",
    "htmjava",
    "contextOSE",
    "knncad",
    "earthgeckoSkyline",
    "relativeEntropy",
    "randomCutForest",
    "twitterADVec",
    "windowedGaussian",
    "skyline",
    "bayesChangePt",
    "expose",
    "random",
    "null",
)


def shared_data() -> Path:
    """The shared data folder: ``$OPSKIT_SHARED_DATA`` or ``<repo>/../shared/data``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "data"


def nab_root() -> Path:
    """The NAB folder inside the shared data folder (may not exist)."""
    return shared_data() / "nab"


@dataclass(frozen=True)
class DataFile:
    """One NAB series with its scoring windows as inclusive row ranges."""

    name: str
    timestamps: pd.DatetimeIndex
    values: np.ndarray
    windows: tuple[tuple[int, int], ...]
    labels: tuple[int, ...]

    def series(self) -> pd.Series:
        """The series as a float Series on a DatetimeIndex."""
        return pd.Series(self.values, index=self.timestamps, name="value")


def _strip(ts: str) -> pd.Timestamp:
    return pd.Timestamp(ts.split(".")[0])


def _rows(index: pd.DatetimeIndex, stamps: list[str]) -> list[int]:
    """Row of the first occurrence of each stamp (NAB uses ``list.index``)."""
    first = pd.Series(np.arange(len(index))).groupby(index.to_numpy()).min()
    try:
        return [int(first[_strip(s)]) for s in stamps]
    except KeyError as exc:
        raise ValueError(f"label timestamp {exc} not found in data") from exc


@cache
def load_corpus(root: Path | None = None) -> tuple[DataFile, ...]:
    """Read every series, window and label of the corpus (sorted by file name)."""
    root = root or nab_root()
    windows = json.loads((root / "labels" / "combined_windows.json").read_text())
    labels = json.loads((root / "labels" / "combined_labels.json").read_text())
    files = []
    for name in sorted(windows):
        frame = pd.read_csv(root / name)
        index = pd.DatetimeIndex(pd.to_datetime(frame["timestamp"]))
        wins = tuple((a, b) for a, b in (_rows(index, [s, e]) for s, e in windows[name]))
        files.append(
            DataFile(
                name=name,
                timestamps=index,
                values=frame["value"].to_numpy(dtype=float),
                windows=wins,
                labels=tuple(_rows(index, labels.get(name, []))),
            )
        )
    return tuple(files)


def detector_names(root: Path | None = None) -> list[str]:
    """Published detectors whose saved outputs are present."""
    root = root or nab_root()
    return [d for d in PUBLISHED if (root / "results" / "detections" / f"{d}.csv.gz").exists()]


def load_detections(detector: str, root: Path | None = None) -> pd.DataFrame:
    """The saved per-row output of a published detector (all files, in file order)."""
    root = root or nab_root()
    return pd.read_csv(root / "results" / "detections" / f"{detector}.csv.gz")


def load_thresholds(root: Path | None = None) -> dict[str, dict[str, dict[str, float]]]:
    """NAB's optimised thresholds (``config/thresholds.json``)."""
    root = root or nab_root()
    data: dict[str, dict[str, dict[str, float]]] = json.loads(
        (root / "results" / "thresholds.json").read_text()
    )
    return data
