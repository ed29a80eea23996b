"""Plain window-level metrics next to the NAB score, and the corpus-level report row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks.nab.corpus import DataFile
from benchmarks.nab.scorer import PROFILES, Sweep, normalize, optimize_threshold, score_corpus

__all__ = ["Row", "evaluate", "window_metrics"]


@dataclass(frozen=True)
class Row:
    """One detector's line of the results table."""

    name: str
    scores: dict[str, float]
    thresholds: dict[str, float]
    held_out: float
    precision: float
    recall: float
    f1: float
    median_delay: float
    seconds: float | None = None


def window_metrics(
    files: Sequence[DataFile],
    sweeps: Sequence[Sweep],
    scores: Sequence[np.ndarray],
    threshold: float,
) -> tuple[float, float, float, float]:
    """Window-level precision, recall, F1 and median detection delay (rows) at a threshold.

    A scored window is found when any row in it (after the probationary period) is at
    or above the threshold. A false alarm is a run of consecutive detected rows outside
    every window. Delay is the first detection's row minus the window's first label row
    (negative: found before the labelled point).
    """
    found = missed = false_alarms = 0
    delays: list[int] = []
    for data, sweep, score in zip(files, sweeps, scores, strict=True):
        hit = np.asarray(score) >= threshold
        hit[: sweep.probation] = False
        outside = hit & (sweep.window < 0)
        false_alarms += int(np.sum(outside & ~np.r_[False, outside[:-1]]))
        for k in sweep.scored_windows:
            a, b = data.windows[k]
            rows = np.flatnonzero(hit[a : b + 1])
            if len(rows) == 0:
                missed += 1
                continue
            found += 1
            labels = [r for r in data.labels if a <= r <= b]
            anchor = labels[0] if labels else (a + b) // 2
            delays.append(int(a + rows[0] - anchor))
    precision = found / (found + false_alarms) if found + false_alarms else 0.0
    recall = found / (found + missed) if found + missed else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    delay = float(np.median(delays)) if delays else float("nan")
    return precision, recall, f1, delay


def _held_out(sweeps: Sequence[Sweep], scores: Sequence[np.ndarray]) -> float:
    """Standard profile, threshold chosen on alternate files and applied to the others."""
    profile = PROFILES["standard"]
    raw = 0.0
    for fold in (0, 1):
        train = [i for i in range(len(sweeps)) if i % 2 == fold]
        test = [i for i in range(len(sweeps)) if i % 2 != fold]
        thr, _ = optimize_threshold([sweeps[i] for i in train], [scores[i] for i in train], profile)
        raw += score_corpus([sweeps[i] for i in test], [scores[i] for i in test], thr, profile)
    n_windows = sum(s.n_windows for s in sweeps)
    return normalize(raw, n_windows, profile)


def evaluate(
    name: str,
    files: Sequence[DataFile],
    sweeps: Sequence[Sweep],
    scores: Sequence[np.ndarray],
    seconds: float | None = None,
) -> Row:
    """Score one detector's outputs under all profiles (thresholds optimised per profile)."""
    n_windows = sum(s.n_windows for s in sweeps)
    result: dict[str, float] = {}
    thresholds: dict[str, float] = {}
    for pname, profile in PROFILES.items():
        thr, raw = optimize_threshold(sweeps, scores, profile)
        result[pname] = normalize(raw, n_windows, profile)
        thresholds[pname] = thr
    p, r, f1, delay = window_metrics(files, sweeps, scores, thresholds["standard"])
    return Row(name, result, thresholds, _held_out(sweeps, scores), p, r, f1, delay, seconds)
