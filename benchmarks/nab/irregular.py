"""NAB on series shaped like real monitoring data: a repeated hour and missing rows.

``python -m benchmarks.nab --irregular`` scores opskit's detectors on each NAB file twice:
as it is, and made irregular by :func:`make_irregular`:

1. **A repeated hour**, at a seeded place in the file, in one of two forms:

   * ``repeat="copy"`` (the default): the rows of one hour are written twice, with the
     same timestamps and values (a collector re-sending an hour). The content of the
     series is unchanged; only its timestamps repeat.
   * ``repeat="dst"``: daylight saving ends. The file is read as local wall-clock time;
     at a seeded row the clock goes back one hour, so that row and every later one is
     stamped an hour earlier and the hour before it repeats, with different values.
     This also moves the rest of the series by an hour against the clock, a real break
     of the daily pattern for a series that follows UTC (the artificial NAB files do),
     which a seasonal detector is right to notice.

   Either way the rows are sorted by timestamp (stable, as a database ordered by local
   time returns them), so the two passes of the hour interleave.
2. **Missing rows**: a seeded share of rows (``drop``, default 10 %) is removed. Labelled
   anomaly rows are kept: the benchmark measures how the detectors cope with irregular
   input, not whether an anomaly that was never recorded can be found.
3. Optionally, **jitter**: every timestamp moves by a uniform offset of up to ``jitter``
   seconds (then the rows are sorted again).

The detectors get the irregular timestamps as they are (repeats included). Windows and
labels follow their rows: a window covers the rows whose original row lies in it, so it
spans the same moments as on the regular file, and the irregular file is scored by the
same scorer (its own length, probationary period and window rows) and threshold
optimiser. :func:`compare` gives both scores per detector.

Every false-positive *row* costs NAB points, so a file with 10 % fewer rows gives a
detector that raises many false alarms (a plain z-score at its optimised threshold) a few
points more for no merit of its own. :func:`compare` therefore also scores the regular
run's detections on the irregular file's rows (``paired``: same rows, same windows, the
only difference is the input the detector saw).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmarks.nab.corpus import DataFile
from benchmarks.nab.metrics import Row, evaluate
from benchmarks.nab.runner import run_detector
from benchmarks.nab.scorer import PROFILES, Sweep, optimize_threshold, score_file, sweep_file
from opskit.analytics.anomaly import DETECTORS

__all__ = ["Comparison", "compare", "make_irregular", "table"]

_HOUR_NS = 3600 * 10**9
#: Share of rows removed by default.
DROP = 0.1
#: Forms of the repeated hour (see the module docstring).
REPEATS = ("copy", "dst")


def make_irregular(
    data: DataFile,
    *,
    drop: float = DROP,
    jitter: float = 0.0,
    repeat: str = "copy",
    seed: int = 0,
) -> tuple[DataFile, np.ndarray]:
    """``data`` with a repeated hour and ``drop`` of its rows missing; each row's source row.

    Deterministic for a file name and ``seed``. See the module docstring.
    """
    if repeat not in REPEATS:
        raise ValueError(f"repeat must be one of {REPEATS}, got {repeat!r}")
    rng = np.random.default_rng([seed, zlib.crc32(data.name.encode())])
    n = len(data.values)
    stamps = data.timestamps.as_unit("ns").asi8.copy()
    source = np.arange(n)
    start = int(rng.integers(1, n))
    if repeat == "dst":
        stamps[start:] -= _HOUR_NS
    else:
        hour = np.flatnonzero((stamps >= stamps[start]) & (stamps < stamps[start] + _HOUR_NS))
        source = np.r_[source, hour]
    keep = rng.random(len(source)) >= drop
    keep[list(data.labels)] = True
    when = stamps[source]
    if jitter:
        when = when + np.rint(rng.uniform(-jitter, jitter, len(when)) * 1e9).astype(np.int64)
    source, when = source[keep], when[keep]
    order = np.argsort(when, kind="stable")
    source, when = source[order], when[order]
    windows = []
    for a, b in data.windows:
        rows = np.flatnonzero((source >= a) & (source <= b))
        windows.append((int(rows.min()), int(rows.max())))
    first: dict[int, int] = {}
    for i, r in enumerate(source.tolist()):
        first.setdefault(r, i)
    irregular = DataFile(
        name=data.name,
        timestamps=pd.DatetimeIndex(when),
        values=data.values[source],
        windows=tuple(windows),
        labels=tuple(first[r] for r in data.labels),
    )
    return irregular, source


@dataclass(frozen=True)
class Comparison:
    """One detector's NAB scores on the regular and the irregular corpus."""

    name: str
    regular: Row
    irregular: Row
    #: The regular run's detections scored on the irregular files' rows.
    paired: Row
    #: Per-file raw standard-profile score at each run's own optimised threshold.
    regular_files: tuple[float, ...]
    irregular_files: tuple[float, ...]

    @property
    def difference(self) -> float:
        """Irregular minus regular normalised standard score (NAB points)."""
        return self.irregular.scores["standard"] - self.regular.scores["standard"]

    @property
    def paired_difference(self) -> float:
        """Irregular minus paired normalised standard score (NAB points, same rows)."""
        return self.irregular.scores["standard"] - self.paired.scores["standard"]


def _per_file(sweeps: Sequence[Sweep], scores: Sequence[np.ndarray]) -> tuple[float, ...]:
    profile = PROFILES["standard"]
    thr, _ = optimize_threshold(sweeps, scores, profile)
    return tuple(score_file(sw, sc, thr, profile) for sw, sc in zip(sweeps, scores, strict=True))


def compare(
    files: Sequence[DataFile],
    methods: Sequence[str] | None = None,
    *,
    drop: float = DROP,
    jitter: float = 0.0,
    repeat: str = "copy",
    seed: int = 0,
) -> list[Comparison]:
    """NAB scores of each detector in ``methods`` (default: all) on regular and irregular files."""
    made = [make_irregular(f, drop=drop, jitter=jitter, repeat=repeat, seed=seed) for f in files]
    irregular = [m[0] for m in made]
    sweeps = [sweep_file(len(f.values), f.windows) for f in files]
    irr_sweeps = [sweep_file(len(f.values), f.windows) for f in irregular]
    out = []
    for name in methods or list(DETECTORS):
        cls = DETECTORS[name]
        reg = run_detector(name, cls, files)
        irr = run_detector(name, cls, irregular, unique=False)
        paired = [score[source] for score, (_, source) in zip(reg.scores, made, strict=True)]
        out.append(
            Comparison(
                name,
                evaluate(name, files, sweeps, reg.scores, reg.seconds),
                evaluate(name, irregular, irr_sweeps, irr.scores, irr.seconds),
                evaluate(name, irregular, irr_sweeps, paired),
                _per_file(sweeps, reg.scores),
                _per_file(irr_sweeps, irr.scores),
            )
        )
    return out


def table(rows: Sequence[Comparison]) -> list[str]:
    """Markdown lines: normalised scores, regular vs irregular (and paired), all profiles."""
    lines = [
        "| detector | standard | irregular | diff | paired | diff vs paired | low FP | irregular "
        "| low FN | irregular | run time regular / irregular (s) |",
        "|" + "---|" * 11,
    ]
    for c in rows:
        r, i = c.regular.scores, c.irregular.scores
        lines.append(
            f"| {c.name} | {r['standard']:.2f} | {i['standard']:.2f} | {c.difference:+.2f} "
            f"| {c.paired.scores['standard']:.2f} | {c.paired_difference:+.2f} "
            f"| {r['reward_low_FP_rate']:.2f} | {i['reward_low_FP_rate']:.2f} "
            f"| {r['reward_low_FN_rate']:.2f} | {i['reward_low_FN_rate']:.2f} "
            f"| {c.regular.seconds or 0:.1f} / {c.irregular.seconds or 0:.1f} |"
        )
    return lines
