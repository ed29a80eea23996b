"""Run opskit detectors over the NAB corpus the NAB way.

One parameter set for all files; each detector is fitted on the file's probationary
prefix only (the rows NAB lets a detector learn from, ignored by the scorer) and then
scores every point causally (from that point and earlier ones). Four files repeat one
timestamp (daylight-saving artefacts). The detectors accept repeated timestamps, but the
regular run moves the k-th repeat of a stamp k s later (values and order unchanged), as it
always has, so its numbers stay comparable with earlier runs; ``unique=False`` passes the
timestamps as they are (the ``--irregular`` run).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmarks.nab.corpus import DataFile
from benchmarks.nab.scorer import probationary_length
from opskit.analytics.anomaly import BaseDetector

__all__ = ["RunResult", "run_detector", "unique_series"]


@dataclass(frozen=True)
class RunResult:
    """Per-file scores of one detector and the wall time it took."""

    name: str
    scores: list[np.ndarray]
    seconds: float


def unique_series(data: DataFile) -> pd.Series:
    """The file as a Series, the k-th repeat of a timestamp moved k seconds later."""
    index = data.timestamps
    if not index.is_unique:
        repeat = pd.Series(index).groupby(index).cumcount().to_numpy()
        index = index + pd.to_timedelta(repeat, unit="s")
    return pd.Series(data.values, index=index, name="value")


def run_detector(
    name: str,
    factory: Callable[[], BaseDetector],
    files: Sequence[DataFile],
    *,
    unique: bool = True,
) -> RunResult:
    """Fit on each file's probationary prefix, score the whole file; NaN scores become 0."""
    start = time.perf_counter()
    out = []
    for data in files:
        series = unique_series(data) if unique else data.series()
        det = factory().fit(series.iloc[: probationary_length(len(series))])
        out.append(np.nan_to_num(det.score(series).to_numpy(), nan=0.0))
    return RunResult(name, out, time.perf_counter() - start)
