"""Benchmark: CPU time of the demo build into DuckDB and into PostgreSQL.

Target (the PostgreSQL issue): a PostgreSQL build within 3x DuckDB's CPU at scale 0.05.
Each build runs in a fresh subprocess; its CPU (user + system, all threads, after imports)
is the client's. DuckDB does all its work there. PostgreSQL does part of it in the server,
so for a server on this machine the server's CPU over the build is added: the postmaster's
own and reaped children's time plus its live children's, read from ``/proc``.

Run: ``python -m benchmarks.engines --postgres postgres://user@127.0.0.1:5432/db [--scale 0.05]``
(the database is overwritten; ``tests/engines/conftest.py`` shows how to start a throwaway one).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, resource, sys, time
from opskit.demo import build_demo
from opskit.warehouse import Warehouse

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

with Warehouse(sys.argv[1], read_only=False) as wh:
    pid = wh.con.raw_sql("SELECT pg_backend_pid()").fetchone()[0] if wh.con.name == "postgres" else 0
    c0, t0 = cpu(), time.perf_counter()
    build_demo(wh, seed=7, scale=float(sys.argv[2]))
    print(json.dumps({"cpu": cpu() - c0, "wall": time.perf_counter() - t0, "backend_pid": pid}))
"""

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2 :].split()  # fields from "state" on


def server_cpu(postmaster: int) -> float:
    """CPU seconds of a local PostgreSQL server: the postmaster, reaped and live children."""
    fields = _stat(postmaster)
    total = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                child = _stat(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(child[1]) == postmaster:  # ppid
                total += int(child[11]) + int(child[12])
    return total / TICKS


def postmaster_of(url: str) -> int | None:
    """The local postmaster's pid (``None`` when the server is not on this machine)."""
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as con:
        row = con.execute("SELECT pg_backend_pid()").fetchone()
    assert row is not None
    try:
        return int(_stat(int(row[0]))[1])
    except FileNotFoundError:
        return None


def run_build(url: str, scale: float) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, url, str(scale)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", required=True, help="postgres://user@host:port/database")
    parser.add_argument("--scale", type=float, default=0.05)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        duck = run_build(f"duckdb://{Path(tmp) / 'opskit.duckdb'}", args.scale)
    postmaster = postmaster_of(args.postgres)
    s0 = server_cpu(postmaster) if postmaster else 0.0
    pg = run_build(args.postgres, args.scale)
    server = server_cpu(postmaster) - s0 if postmaster else float("nan")
    pg_total = pg["cpu"] + (server if postmaster else 0.0)
    print(f"| engine (scale {args.scale}) | client CPU s | server CPU s | total CPU s | wall s |")
    print("|---|---|---|---|---|")
    print(f"| DuckDB | {duck['cpu']:.1f} | - | {duck['cpu']:.1f} | {duck['wall']:.1f} |")
    print(f"| PostgreSQL | {pg['cpu']:.1f} | {server:.1f} | {pg_total:.1f} | {pg['wall']:.1f} |")
    ratio = pg_total / duck["cpu"]
    print(f"\nPostgreSQL / DuckDB CPU: {ratio:.2f}x (target: within 3x)")


if __name__ == "__main__":
    main()
