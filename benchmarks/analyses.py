"""Benchmark: every analysis function, and every report notebook through papermill.

Targets (issue 6): each analysis function under 1 s (the seed's target for "AI
processing" was 500 ms, printed beside it); all seven notebooks through
``opskit report run --all`` under 120 s on this 2-core machine.

Per analysis the table shows

* **first**: the first call in this process, after a warm-up that only imports the
  libraries (so it is the cost of the data loads and models, not of ``import sklearn``);
  the memoised service-health scan is cleared first, so this is the full computation;
* **warm**: the median of ``--repeat`` further calls (dataset loads and the
  service-health scan come from the memo store, everything else is recomputed).

Run: ``python -m benchmarks.analyses [--repeat 5] [--reports] [--jobs 2]`` on the
default warehouse (built first if missing).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEED_TARGET_S = 0.5
TARGET_S = 1.0
REPORTS_TARGET_S = 120.0


def _analyses(repeat: int) -> None:
    import altair  # noqa: F401  (import cost is not the analysis' cost)
    import sklearn.linear_model  # noqa: F401
    import statsmodels.api  # noqa: F401

    from opskit.analyses import ANALYSES
    from opskit.cache import ResultCache
    from opskit.config import load_settings

    settings = load_settings()
    ResultCache.for_settings(settings).clear("health_scan", purpose="memo")
    print(
        f"| analysis | first s | warm median s | target {TARGET_S:.0f} s | seed {SEED_TARGET_S} s |"
    )
    print("|---|---|---|---|---|")
    for name, fn in ANALYSES.items():
        t0 = time.perf_counter()
        fn(settings=settings)
        first = time.perf_counter() - t0
        warm = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn(settings=settings)
            warm.append(time.perf_counter() - t0)
        med = statistics.median(warm)
        ok = "met" if max(first, med) < TARGET_S else ("warm only" if med < TARGET_S else "MISSED")
        seed = "met" if med < SEED_TARGET_S else "missed"
        print(f"| {name} | {first:.3f} | {med:.3f} | {ok} | {seed} |")


def _reports(jobs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="opskit-bench-reports-") as tmp:
        cmd = [sys.executable, "-m", "opskit.cli", "report", "run", "--all", "--jobs", str(jobs),
               "--output", tmp]  # fmt: skip
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        total = time.perf_counter() - t0
        print(proc.stdout.strip())
        if proc.returncode:
            print(proc.stderr.strip()[-2000:])
        runs = len(list(Path(tmp).glob("*/*/*/run.json")))
        verdict = "met" if total < REPORTS_TARGET_S and not proc.returncode else "MISSED"
        print(f"\nreport run --all --jobs {jobs}: {runs} reports in {total:.1f} s "
              f"(target {REPORTS_TARGET_S:.0f} s: {verdict}; exit {proc.returncode})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reports", action="store_true", help="also time report run --all")
    parser.add_argument("--jobs", type=int, default=2, help="parallel report kernels")
    args = parser.parse_args()
    from opskit.config import load_settings

    settings = load_settings()
    if settings.warehouse_path is not None and not settings.warehouse_path.exists():
        subprocess.run([sys.executable, "-m", "opskit.cli", "demo", "build"], check=True)
    _analyses(args.repeat)
    if args.reports:
        print()
        _reports(args.jobs)


if __name__ == "__main__":
    main()
