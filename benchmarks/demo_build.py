"""Benchmark: time and peak memory of ``opskit demo build`` at 0.1x, 1x and 3x scale.

Target (issue 2): the default (1x) build in under 60 s with peak memory under
4 GiB on the 2-core reference machine. Each build runs in a fresh subprocess so
its peak RSS is measured on its own.

Run: ``python -m benchmarks.demo_build [--scales 0.1 1 3]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, sys, time
from opskit.demo import build_demo
from opskit.warehouse import Warehouse
t0 = time.perf_counter()
r = build_demo(Warehouse("duckdb://" + sys.argv[1], read_only=False), seed=7, scale=float(sys.argv[2]))
print(json.dumps({"seconds": time.perf_counter() - t0, "rows": r.rows, "steps": r.seconds}))
"""


def run_one(scale: float, folder: Path) -> dict[str, object]:
    path = folder / f"demo_{scale}.duckdb"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(scale)],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result.update(
        scale=scale,
        wall=wall,
        peak_gib=max(peak_kb, before) / 2**20,
        size_mb=path.stat().st_size / 1e6,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[0.1, 1.0, 3.0])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for scale in args.scales:
            rows.append(run_one(scale, Path(tmp)))
            print(f"scale {scale}: {rows[-1]['seconds']:.1f} s", file=sys.stderr)
    base = next((r for r in rows if r["scale"] == 1.0), rows[0])
    print(
        "| scale | subscribers | sessions | build s | wall s (incl. imports) | peak RSS GiB | file MB | time vs 1x |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        n = r["rows"]  # type: ignore[index]
        print(
            f"| {r['scale']} | {n['subscribers']:,} | {n['viewing_sessions']:,} | {r['seconds']:.1f} | "  # type: ignore[index]
            f"{r['wall']:.1f} | {r['peak_gib']:.2f} | {r['size_mb']:.0f} | {r['seconds'] / base['seconds']:.2f}x |"  # type: ignore[operator]
        )
    one = next((r for r in rows if r["scale"] == 1.0), None)
    if one is not None:
        ok = one["seconds"] < 60 and one["peak_gib"] < 4  # type: ignore[operator]
        print(f"\ntarget (1x under 60 s and 4 GiB): {'met' if ok else 'NOT met'}")
        steps = one["steps"]  # type: ignore[index]
        print("1x steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()))  # type: ignore[union-attr]


if __name__ == "__main__":
    main()
