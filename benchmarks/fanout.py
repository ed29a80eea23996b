"""Benchmark: ``opskit schedule run --once --jobs N`` over the 7 report notebooks, 1 vs 2 workers.

One demo warehouse (``--scale``) and one temporary project home holding the 7
notebooks of ``notebooks/analyses`` and a schedule of the jobs (names and
parameters) of ``reports/schedule.toml``, each due once (a yearly cron, no retries,
no publishing). Each worker count runs the same schedule into an empty
``reports/`` folder, in the order given; reported per run: wall time, the ratio to
the first run, jobs that succeeded, and the load average (``uptime``) before and
after, since other work on the machine changes the numbers. The product target
is 2 workers <= 0.6x the time of 1 worker on a quiet 2-core machine.

Run: ``python -m benchmarks.fanout [--scale 0.05] [--workers 1,2]`` (markdown to stdout).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opskit.demo import build_demo
from opskit.reports import load_schedule
from opskit.warehouse import Warehouse

REPO = Path(__file__).resolve().parents[1]
TARGET = 0.6


@dataclass(frozen=True)
class FanoutRun:
    workers: int
    wall_s: float
    succeeded: int
    jobs: int
    load_before: str
    load_after: str


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def schedule_text(source: Path = REPO / "reports" / "schedule.toml") -> str:
    """The jobs of ``source``, each due once now: yearly cron, no retries, no publishing."""
    blocks = []
    for e in load_schedule(source):
        blocks.append(
            f'[[report]]\nname = "{e.name}"\nid = "{e.slug}"\ncron = "0 0 1 1 *"\n'
            f"parameters = {_toml(e.parameters)}\ntimeout_s = 900\n"
        )
    return "\n".join(blocks)


def _uptime() -> str:
    try:
        out = subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    return out.rsplit("load average:", 1)[-1].strip()


def run(workers: list[int], *, scale: float = 0.05) -> list[FanoutRun]:
    """Build the warehouse and home, then time one ``schedule run --once`` per worker count."""
    out = []
    with tempfile.TemporaryDirectory(prefix="opskit-fanout-") as tmp:
        root = Path(tmp)
        db = root / "opskit.duckdb"
        build_demo(Warehouse(f"duckdb://{db}", read_only=False), seed=7, scale=scale)
        home = root / "home"
        shutil.copytree(REPO / "notebooks" / "analyses", home / "notebooks" / "analyses")
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPSKIT_")}
        env |= {"OPSKIT_HOME": str(home), "OPSKIT_WAREHOUSE_URL": f"duckdb://{db}"}
        exe = str(Path(sys.executable).parent / "opskit")
        text = schedule_text()
        for n in workers:
            reports = home / "reports"
            shutil.rmtree(reports, ignore_errors=True)
            reports.mkdir(parents=True)
            (reports / "schedule.toml").write_text(text)
            before = _uptime()
            t0 = time.perf_counter()
            proc = subprocess.run(
                [exe, "schedule", "run", "--once", "--jobs", str(n)],
                env=env, cwd=home, capture_output=True, text=True, check=False, timeout=3600,
            )  # fmt: skip
            wall = time.perf_counter() - t0
            state = json.loads((reports / ".scheduler" / "state.json").read_text())["jobs"]
            ok = sum(v["status"] == "succeeded" for v in state.values())
            if proc.returncode:
                print(proc.stderr[-2000:], file=sys.stderr)
            out.append(FanoutRun(n, wall, ok, len(state), before, _uptime()))
    return out


def markdown_table(runs: list[FanoutRun]) -> str:
    base = runs[0].wall_s
    lines = [
        "| workers | wall s | vs first | jobs ok | load avg before (1, 5, 15 min) | load avg after |",
        "| ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in runs:
        lines.append(
            f"| {r.workers} | {r.wall_s:.1f} | {r.wall_s / base:.2f}x | {r.succeeded}/{r.jobs} | "
            f"{r.load_before} | {r.load_after} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    runs = run(workers, scale=args.scale)
    print(f"# Fan-out: 7 reports, `opskit schedule run --once --jobs N` ({os.cpu_count()} CPUs)\n")
    print(markdown_table(runs))
    by = {r.workers: r.wall_s for r in runs}
    if 1 in by and 2 in by:
        ratio = by[2] / by[1]
        verdict = "meets" if ratio <= TARGET else "misses"
        print(f"\n2 workers took {ratio:.2f}x the time of 1: {verdict} the {TARGET}x target.")


if __name__ == "__main__":
    main()
