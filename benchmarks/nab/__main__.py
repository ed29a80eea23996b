"""``python -m benchmarks.nab``: score opskit's detectors and the published ones on NAB.

Prints markdown: the S(t) reproduction check, the results table (all detectors scored by
the same scorer and threshold optimiser on the same files) and the speed section.

``python -m benchmarks.nab --irregular`` instead scores opskit's detectors on each file as
it is and with a repeated hour and missing rows (:mod:`benchmarks.nab.irregular`), and
prints both scores side by side.
"""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks.nab import corpus, irregular, speed
from benchmarks.nab.metrics import Row, evaluate
from benchmarks.nab.runner import run_detector
from benchmarks.nab.scorer import PROFILES, row_scores, sweep_file
from opskit.analytics.anomaly import DETECTORS

REPRODUCE = ("numenta", "contextOSE", "windowedGaussian", "null")


def _reproduction(files: list[corpus.DataFile], sweeps: list) -> list[str]:
    thresholds = corpus.load_thresholds()
    lines = [
        "| detector | profile | our sum S(t) | NAB's sum S(t) | max per-file diff |",
        "|---|---|---|---|---|",
    ]
    for det in REPRODUCE:
        saved = dict(tuple(corpus.load_detections(det).groupby("file", sort=False)))
        for pname, profile in PROFILES.items():
            thr = thresholds[det][pname]["threshold"]
            ours = theirs = worst = 0.0
            for data, sweep in zip(files, sweeps, strict=True):
                frame = saved[data.name]
                a = row_scores(sweep, frame["anomaly_score"].to_numpy(float), thr, profile).sum()
                b = frame[f"S(t)_{pname}"].to_numpy(float).sum()
                ours, theirs, worst = ours + a, theirs + b, max(worst, abs(a - b))
            lines.append(f"| {det} | {pname} | {ours:.6f} | {theirs:.6f} | {worst:.1e} |")
    return lines


def _table(rows: list[Row]) -> list[str]:
    head = (
        "| detector | standard | low FP | low FN | held-out standard | precision | recall | F1 "
        "| median delay (rows) | run time (s) |"
    )
    lines = [head, "|" + "---|" * 10]
    for r in sorted(rows, key=lambda r: -r.scores["standard"]):
        secs = f"{r.seconds:.1f}" if r.seconds is not None else "-"
        lines.append(
            f"| {r.name} | {r.scores['standard']:.2f} | {r.scores['reward_low_FP_rate']:.2f} "
            f"| {r.scores['reward_low_FN_rate']:.2f} | {r.held_out:.2f} | {r.precision:.2f} "
            f"| {r.recall:.2f} | {r.f1:.2f} | {r.median_delay:.0f} | {secs} |"
        )
    return lines


def _irregular(files: list[corpus.DataFile], args: argparse.Namespace, start: float) -> int:
    rows = irregular.compare(
        files, drop=args.drop, jitter=args.jitter, repeat=args.repeat, seed=args.seed
    )
    print(
        f"## Regular vs irregular input (repeat={args.repeat}, drop={args.drop:.0%}, "
        f"jitter=+/-{args.jitter:g} s, seed={args.seed})\n"
    )
    print("\n".join(irregular.table(rows)))
    print(
        "\nNormalised NAB scores, thresholds optimised per run; paired: the regular run's "
        "detections scored on the irregular files' rows. "
        f"Whole run {time.perf_counter() - start:.1f} s.\n"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.nab", description=__doc__)
    parser.add_argument("--no-speed", action="store_true", help="skip the 1M-point speed test")
    parser.add_argument("--speed-points", type=int, default=1_000_000)
    parser.add_argument(
        "--irregular",
        action="store_true",
        help="compare opskit's detectors on regular and irregular versions of the files",
    )
    parser.add_argument("--drop", type=float, default=irregular.DROP, help="share of rows removed")
    parser.add_argument("--jitter", type=float, default=0.0, help="timestamp jitter, +/- seconds")
    parser.add_argument("--repeat", choices=irregular.REPEATS, default="copy")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    root = corpus.nab_root()
    if not (root / "labels" / "combined_windows.json").exists():
        print(f"NAB data not found at {root} (set OPSKIT_SHARED_DATA)", file=sys.stderr)
        return 2
    start = time.perf_counter()
    files = list(corpus.load_corpus())
    sweeps = [sweep_file(len(f.values), f.windows) for f in files]
    n_points = sum(len(f.values) for f in files)
    n_windows = sum(len(f.windows) for f in files)
    print(f"# NAB on {len(files)} files, {n_points:,} points, {n_windows} windows\n")
    if args.irregular:
        return _irregular(files, args, start)

    print("## Scorer check: per-row S(t) at NAB's thresholds vs NAB's saved S(t)\n")
    print("\n".join(_reproduction(files, sweeps)) + "\n")

    rows = []
    opskit_time = 0.0
    for name, cls in DETECTORS.items():
        result = run_detector(name, cls, files)
        opskit_time += result.seconds
        rows.append(evaluate(f"**opskit {name}**", files, sweeps, result.scores, result.seconds))
    for det in corpus.detector_names():
        saved = dict(tuple(corpus.load_detections(det).groupby("file", sort=False)))
        scores = [saved[f.name]["anomaly_score"].to_numpy(float) for f in files]
        label = f"{det} (partial run)" if det == "random" else det
        rows.append(evaluate(label, files, sweeps, scores))
    print("## Results (normalised NAB scores; thresholds optimised per detector and profile)\n")
    print("\n".join(_table(rows)))
    print(
        "\nPrecision/recall/F1/delay at each detector's standard-profile threshold; "
        "held-out: threshold chosen on alternate files, scored on the others. "
        f"All opskit detectors over the corpus: {opskit_time:.1f} s; "
        f"whole benchmark so far {time.perf_counter() - start:.1f} s.\n"
    )

    if not args.no_speed:
        print(f"## Speed: scoring one {args.speed_points:,}-point series (best of 2)\n")
        print("| detector | seconds | x pandas baseline |\n|---|---|---|")
        for name, seconds, ratio in speed.time_detectors(args.speed_points):
            print(f"| {name} | {seconds:.3f} | {ratio:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
