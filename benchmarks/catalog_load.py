"""Benchmark: loading every dataset with its default filters from the default demo warehouse.

Target (issue 2): under 300 ms per dataset (median of repeated loads). Reports
both cold loads (every query runs in the warehouse engine) and warm loads
(opskit's result memoisation keyed to the warehouse build), when available.

Run: ``python -m benchmarks.catalog_load [--repeat 7]`` (builds the default
warehouse first if it is missing).
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import subprocess
import sys
import time

import opskit.catalog as catalog
from opskit.config import load_settings


def timed(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    settings = load_settings()
    if settings.warehouse_path is not None and not settings.warehouse_path.exists():
        subprocess.run([sys.executable, "-m", "opskit.cli", "demo", "build"], check=True)
    meta = catalog._warehouse(settings).meta()
    print(
        f"warehouse: {settings.resolved_warehouse_url} (kind {meta.get('kind')}, scale {meta.get('scale')})\n"
    )
    has_cache = "cache" in inspect.signature(catalog.load).parameters
    print("| dataset | rows | cold median ms | cold p90 ms | warm median ms | target 300 ms |")
    print("|---|---|---|---|---|---|")
    worst = 0.0
    for name in catalog.REGISTRY:
        kw = {"cache": False} if has_cache else {}
        df = catalog.load(name, settings=settings, **kw)
        cold = timed(lambda n=name, k=kw: catalog.load(n, settings=settings, **k), args.repeat)
        warm = (
            timed(lambda n=name: catalog.load(n, settings=settings), args.repeat)
            if has_cache
            else []
        )
        cold_med = statistics.median(cold)
        warm_med = statistics.median(warm) if warm else float("nan")
        best = min(cold_med, warm_med) if warm else cold_med
        worst = max(worst, best)
        p90 = sorted(cold)[max(0, int(0.9 * len(cold)) - 1)]
        print(
            f"| {name} | {len(df):,} | {cold_med:.0f} | {p90:.0f} | {warm_med:.0f} | {'ok' if best < 300 else 'over'} |"
        )
    print(f"\nslowest dataset (best of cold/warm median): {worst:.0f} ms")


if __name__ == "__main__":
    main()
