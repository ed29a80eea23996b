"""The project's own Numenta Anomaly Benchmark scorer.

Implements the rules in ``shared/docs/nab-scoring.md``:

* windows: ``int(0.10 * N / n_labels)`` rows centred on each label, clipped and merged
  (:func:`windows_from_labels`; the corpus ships the same windows precomputed);
* probationary period: the first ``min(floor(0.15 N), 750)`` rows are ignored, and a
  window lying entirely inside it is dropped from the file's score;
* scaled sigmoid ``2 / (1 + exp(5 y)) - 1`` (exactly -1 for ``y > 3``);
* true positives: only the earliest detection per window counts, worth
  ``A_TP * sigma(y) / sigma(-1)``; a missed window costs ``-A_FN``;
* every false positive counts, weighted ``A_FP * sigma((i - b_prev) / (w_prev - 1))`` after a
  window and ``-A_FP`` before the first window;
* three profiles; corpus-wide threshold optimisation over every distinct score
  (ties go to the highest threshold, as NAB's stable sort does); normalisation
  ``100 (S - S_null) / (S_perfect - S_null)`` with ``S_null = -A_FN * windows`` and
  ``S_perfect = A_TP * windows`` over *all* windows of the corpus.

Everything is vectorised with numpy; the only Python loops are over files and windows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "PROFILES",
    "Profile",
    "Sweep",
    "normalize",
    "optimize_threshold",
    "probationary_length",
    "row_scores",
    "scaled_sigmoid",
    "score_corpus",
    "score_file",
    "sweep_file",
    "windows_from_labels",
]

#: Threshold NAB starts its sweep at (nothing detected).
START_THRESHOLD = 1.1
PROBATION_PERCENT = 0.15
WINDOW_PERCENT = 0.10


@dataclass(frozen=True)
class Profile:
    """An application profile: weights for true positives, false positives, misses."""

    name: str
    tp: float
    fp: float
    fn: float


PROFILES: dict[str, Profile] = {
    "standard": Profile("standard", 1.0, 0.11, 1.0),
    "reward_low_FP_rate": Profile("reward_low_FP_rate", 1.0, 0.22, 1.0),
    "reward_low_FN_rate": Profile("reward_low_FN_rate", 1.0, 0.11, 2.0),
}


def scaled_sigmoid(y: np.ndarray | float) -> np.ndarray:
    """NAB's scaled sigmoid ``2 / (1 + exp(5 y)) - 1``, set to exactly -1 for ``y > 3``."""
    y = np.asarray(y, dtype=float)
    with np.errstate(over="ignore"):
        out = 2.0 / (1.0 + np.exp(5.0 * y)) - 1.0
    return np.where(y > 3.0, -1.0, out)


MAX_TP = float(scaled_sigmoid(-1.0))


def probationary_length(n_rows: int, percent: float = PROBATION_PERCENT) -> int:
    """Rows ignored at the start of a file: ``min(floor(percent * N), percent * 5000)``."""
    return int(min(math.floor(percent * n_rows), percent * 5000))


def windows_from_labels(
    n_rows: int, label_rows: Sequence[int], percent: float = WINDOW_PERCENT
) -> list[tuple[int, int]]:
    """NAB windows (inclusive row ranges) around labelled anomaly rows, merged when overlapping."""
    if not label_rows:
        return []
    length = int(percent * n_rows / len(label_rows))
    half = length // 2
    spans = sorted((max(r - half, 0), min(r + half, n_rows - 1)) for r in label_rows)
    merged = [spans[0]]
    for a, b in spans[1:]:
        if a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


@dataclass(frozen=True)
class Sweep:
    """Per-row, profile-independent scoring geometry of one file.

    ``sigma`` is the unweighted sigmoid value of a detection at each row, ``window`` the
    file-local window id (``-1`` outside windows) and ``probation`` the number of ignored
    leading rows.
    """

    sigma: np.ndarray
    window: np.ndarray
    probation: int
    n_windows: int

    @property
    def scored_windows(self) -> np.ndarray:
        """Ids of windows with at least one row after the probationary period."""
        ids = self.window[self.probation :]
        return np.unique(ids[ids >= 0])

    def weighted(self, profile: Profile) -> np.ndarray:
        """Per-row value of a detection under ``profile`` (0 in the probationary period)."""
        inside = self.window >= 0
        out = np.where(inside, self.sigma * profile.tp / MAX_TP, self.sigma * profile.fp)
        out[: self.probation] = 0.0
        return out


def sweep_file(n_rows: int, windows: Sequence[tuple[int, int]]) -> Sweep:
    """Compute the sigmoid value of a detection at every row of a file."""
    idx = np.arange(n_rows, dtype=float)
    sigma = np.full(n_rows, -1.0)
    window = np.full(n_rows, -1, dtype=np.int64)
    for k, (a, b) in enumerate(windows):
        width = float(b - a + 1)
        rows = np.arange(a, b + 1)
        sigma[a : b + 1] = scaled_sigmoid(-(b - rows + 1) / width)
        window[a : b + 1] = k
        stop = windows[k + 1][0] if k + 1 < len(windows) else n_rows
        if stop > b + 1:
            past = np.abs(idx[b + 1 : stop] - b) / (width - 1.0)
            sigma[b + 1 : stop] = scaled_sigmoid(past)
    return Sweep(sigma, window, probationary_length(n_rows), len(windows))


def row_scores(sweep: Sweep, scores: np.ndarray, threshold: float, profile: Profile) -> np.ndarray:
    """NAB's per-row ``S(t)`` at a threshold; the rows sum to the file's raw score.

    A false-positive row carries its weighted value. Each scored window puts its
    contribution (the earliest detection's value, or ``-A_FN`` when missed) on its first
    row after the probationary period; other rows are 0.
    """
    scores = np.asarray(scores, dtype=float)
    value = sweep.weighted(profile)
    hit = scores >= threshold
    hit[: sweep.probation] = False
    out = np.where(hit & (sweep.window < 0), value, 0.0)
    for k in sweep.scored_windows:
        rows = np.flatnonzero(sweep.window == k)
        rows = rows[rows >= sweep.probation]
        detected = rows[hit[rows]]
        out[rows[0]] = value[detected[0]] if len(detected) else -profile.fn
    return out


def score_file(sweep: Sweep, scores: np.ndarray, threshold: float, profile: Profile) -> float:
    """Raw NAB score of one file at a threshold (earliest detection per window counts)."""
    return float(row_scores(sweep, scores, threshold, profile).sum())


def _events(sweep: Sweep, scores: np.ndarray, profile: Profile) -> tuple[np.ndarray, np.ndarray]:
    """(score, delta) pairs: how the file's raw score changes as each row becomes detected."""
    value = sweep.weighted(profile)
    delta = np.zeros(len(scores))
    outside = sweep.window < 0
    outside[: sweep.probation] = False
    delta[outside] = value[outside]
    for k in sweep.scored_windows:
        rows = np.flatnonzero(sweep.window == k)
        rows = rows[rows >= sweep.probation]
        order = rows[np.argsort(-scores[rows], kind="stable")]
        best = np.maximum.accumulate(np.concatenate([[-profile.fn], value[order]]))
        delta[order] = np.diff(best)
    return scores, delta


def _sweep_curve(
    sweeps: Sequence[Sweep], scores: Sequence[np.ndarray], profile: Profile
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate thresholds (descending, starting at 1.1) and the corpus raw score at each."""
    base = -profile.fn * sum(len(s.scored_windows) for s in sweeps)
    parts = [
        _events(sw, np.asarray(sc, dtype=float), profile)
        for sw, sc in zip(sweeps, scores, strict=True)
    ]
    all_scores = np.concatenate([p[0] for p in parts])
    all_delta = np.concatenate([p[1] for p in parts])
    order = np.argsort(-all_scores, kind="stable")
    s_sorted = all_scores[order]
    csum = np.cumsum(all_delta[order])
    # last row of each group of equal scores
    last = np.flatnonzero(np.r_[s_sorted[1:] != s_sorted[:-1], True])
    thresholds = np.r_[START_THRESHOLD, s_sorted[last]]
    totals = base + np.r_[0.0, csum[last]]
    return thresholds, totals


def optimize_threshold(
    sweeps: Sequence[Sweep], scores: Sequence[np.ndarray], profile: Profile
) -> tuple[float, float]:
    """The corpus-wide threshold maximising the raw score, and that raw score.

    Ties (within 1e-9) go to the highest threshold, as NAB's stable sort does.
    """
    thresholds, totals = _sweep_curve(sweeps, scores, profile)
    best = int(np.flatnonzero(totals >= totals.max() - 1e-9)[0])
    return float(thresholds[best]), float(totals[best])


def score_corpus(
    sweeps: Sequence[Sweep], scores: Sequence[np.ndarray], threshold: float, profile: Profile
) -> float:
    """Raw corpus score at a given threshold (sum of per-file scores)."""
    return sum(
        score_file(sw, sc, threshold, profile) for sw, sc in zip(sweeps, scores, strict=True)
    )


def normalize(raw: float, n_windows: int, profile: Profile) -> float:
    """``100 (S - S_null) / (S_perfect - S_null)`` over a corpus with ``n_windows`` windows."""
    null = -profile.fn * n_windows
    perfect = profile.tp * n_windows
    return 100.0 * (raw - null) / (perfect - null)
