"""The regular grid a clock-time detector reads: its step, its origin, rows placed on it.

Rows are placed on the grid ``origin + k * step`` by rounding; the step is fitted so that
a long series does not slip by whole steps (see :func:`sampling_step`), and the origin
so that jitter around the nominal times does not push rows onto a neighbouring step.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["cells", "grid_origin", "nanoseconds", "sampling_step"]

_SECOND_NS = 10**9


def nanoseconds(times: pd.DatetimeIndex) -> np.ndarray:
    """Timestamps as int64 nanoseconds since the epoch (UTC for tz-aware ones)."""
    return np.asarray(times.as_unit("ns").asi8, dtype=np.int64)


def _base_gap(gaps: np.ndarray) -> float:
    """Median of the one-step gaps: the cluster around the smallest common gap.

    Starts from the lower quartile (a one-step gap even with many rows missing) and takes
    the median of the gaps within half a step of the estimate, which is unbiased for
    jitter that is symmetric and smaller than a quarter step.
    """
    step = float(np.quantile(gaps, 0.25))
    for _ in range(5):
        near = gaps[(gaps > 0.5 * step) & (gaps < 1.5 * step)]
        if not len(near) or float(np.median(near)) == step:
            break
        step = float(np.median(near))
    return step


def _phase(t: np.ndarray, step: float) -> float:
    """Circular mean of ``t`` modulo ``step``: the grid offset nearest to all of them."""
    angle = 2.0 * np.pi * np.mod(t, step) / step
    return float(np.arctan2(np.sin(angle).mean(), np.cos(angle).mean())) / (2.0 * np.pi) * step


def _lock(ns: np.ndarray, step: float) -> float:
    """The step that best fits ``ns`` to a grid (least squares), over a growing stretch.

    Fitting the whole series at once would need a step already exact enough not to slip a
    grid position over its span; each round fits twice as many steps as the last (twice,
    re-placing the rows with the refined step), so a slight error in the first guess
    never accumulates.
    """
    t = (ns - ns[0]).astype(float)
    limit = 16.0
    origin = _phase(t[t <= limit * step], step)
    while True:
        for _ in range(2):
            k = np.rint((t - origin) / step)
            use = k <= limit
            kk, tt = k[use], t[use]
            if kk.max() > kk.min():
                dk = kk - kk.mean()
                slope = float(np.dot(dk, tt - tt.mean()) / np.dot(dk, dk))
                if slope > 0:
                    step, origin = slope, float(tt.mean() - slope * kk.mean())
        if limit >= k[-1]:
            return step
        limit *= 2.0


def sampling_step(times: pd.DatetimeIndex) -> int:
    """Typical spacing of the timestamps, in nanoseconds (0 without two distinct ones).

    Repeated timestamps do not count, nor do gaps of missing rows. On a regular grid
    (most gaps exactly equal) it is that gap. On jittered timestamps the median one-step
    gap is only a first guess (a small error in it would slip the grid by whole steps over
    a long series): the step is fitted to all timestamps by least squares, and rounded to
    whole seconds when within 0.1 % of them.

    Examples
    --------
    >>> t = pd.date_range("2024-01-01", periods=2000, freq="5min")
    >>> rng = np.random.default_rng(0)
    >>> jittered = t + pd.to_timedelta(rng.integers(-40, 40, len(t)), unit="s")
    >>> sampling_step(jittered.delete(rng.choice(len(t), 200, replace=False))) == 300 * 10**9
    True
    >>> sampling_step(t.append(t[:12]).sort_values()) == 300 * 10**9  # a repeated hour
    True
    """
    ns = nanoseconds(times)
    gaps = np.diff(ns)
    gaps = gaps[gaps > 0]
    if not len(gaps):
        return 0
    step = _base_gap(gaps.astype(float))
    if np.mean(gaps == step) >= 0.5:
        return int(step)
    step = _lock(ns, step)
    if step >= _SECOND_NS:
        whole = round(step / _SECOND_NS) * _SECOND_NS
        if abs(step - whole) <= 1e-3 * whole:
            step = whole
    return max(1, round(step))


def grid_origin(times: pd.DatetimeIndex, step_ns: int) -> int:
    """The grid offset (ns) that puts the timestamps nearest to grid steps.

    The circular mean of the timestamps' phases within a step, so jitter around the
    nominal times does not push rows onto a neighbouring step (the first timestamp for a
    regular series).
    """
    ns = nanoseconds(times)
    if not len(ns) or step_ns <= 0:
        return 0
    offsets = (ns - ns[0]) % step_ns
    if not offsets.any():  # on the grid already
        return int(ns[0])
    return int(ns[0] + round(_phase(offsets, step_ns)))


def cells(values: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid steps holding observations (ascending), their mean values and row counts."""
    new = np.r_[True, pos[1:] != pos[:-1]]
    if new.all():  # one row per step
        return pos, values, np.ones(len(pos), dtype=np.int64)
    start = np.flatnonzero(new)
    counts = np.diff(np.r_[start, len(pos)])
    return pos[start], np.add.reduceat(values, start) / counts, counts
