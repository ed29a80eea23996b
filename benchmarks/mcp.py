"""Benchmark: MCP tool-call and resource-read latency of ``opskit mcp`` on demo data.

Target (sound-numbers issue): each tool's first call with default parameters on a warm
server under 200 ms. The server runs as a subprocess over stdio and is driven by the
SDK's own client, so every figure includes JSON-RPC, validation and serialisation.
Figures per tool:

* **cold first call**: the first call in a fresh server with no stored answers (the
  stored MCP answers are cleared first; datasets may come from opskit's memo), so
  the analysis runs;
* **warm first call**: the first call in a second fresh server, started after the
  first and given ``--settle`` seconds to warm up: it answers from the stored answers
  (the ones its own warm-up, or any earlier server, computed for this warehouse build);
* **recompute**: calls with arguments not seen before (median over a few variants);
* **repeat**: the same call again (the server's response memo; median).

Run: ``python -m benchmarks.mcp [--repeat 9]`` (uses the configured warehouse,
building the default demo warehouse first if it is missing). Prints markdown.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from opskit.cache import ResultCache
from opskit.catalog import _warehouse
from opskit.config import load_settings

TARGET_MS = 200.0
#: Tool -> argument variants (the first is the "first call" and "repeat" one).
CALLS: dict[str, list[dict[str, Any]]] = {
    "analyze_churn_root_cause": [{}, {"include_recommendations": False}],
    "analyze_complaint_themes": [{}, {"target": 0.7}, {"target": 0.9}, {"max_themes": 5}],
    "analyze_production_risk": [{}, {"target": 0.7}, {"by": "team"}, {"critical_delay_days": 5}],
    "forecast_revenue_with_constraints": [{}, {"budget": 500_000}, {"scenario": "aggressive"}],
    "generate_retention_campaign": [{}, {"budget": 500}, {"control_share": 0.3}],
    "executive_summary": [{}, {"days": 7}, {"region": "brazil"}],
    "service_health": [{}, {"days": 3}],
    "detect_anomalies": [
        {"dataset": "apm_health", "series": {"entity": "playback-api"}},
        {"dataset": "apm_health", "series": {"entity": "drm-license"}},
        {"dataset": "apm_health", "series": {"entity": "search-api"}},
    ],
    "pareto": [
        {"dataset": "production_issues", "value": "delay_days", "by": ["component"]},
        {"dataset": "production_issues", "value": "cost_overrun_usd", "by": ["show"]},
        {"dataset": "churn_signals", "value": "revenue_at_risk_30d_usd", "by": ["region"]},
    ],
}
RESOURCES = [
    "opskit://datasets/churn_signals",
    "opskit://datasets/production_issues?status=open,blocked&limit=50",
    "opskit://datasets/pareto_analysis",
]


async def _ms(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = await call()
    return (time.perf_counter() - t0) * 1000, out


def _fmt(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f}" if values else "n/a"


async def _first_calls(
    params: StdioServerParameters, settle_s: float = 0.0
) -> tuple[float, dict[str, float]]:
    """Start a server, let it settle, then the first call of every tool (default arguments), in ms."""
    t0 = time.perf_counter()
    async with Client(params, read_timeout_seconds=600) as client:
        startup = (time.perf_counter() - t0) * 1000
        await anyio.sleep(settle_s)  # a warm server: its warm-up has read the stored answers
        out = {}
        for tool, variants in CALLS.items():
            ms, result = await _ms(lambda t=tool, a=variants[0]: client.call_tool(t, a))
            if result.is_error:
                raise SystemExit(f"{tool} failed: {result.content}")
            out[tool] = ms
    return startup, out


async def run(repeat: int, settle_s: float = 5.0) -> list[str]:
    settings = load_settings()
    env = {k: v for k, v in os.environ.items() if k.startswith("OPSKIT_")}
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "opskit.cli", "mcp"], env=env
    )
    store = ResultCache.for_settings(settings)
    for name in CALLS:
        store.clear(f"mcp_{name}", purpose="memo")
    cold_start, cold = await _first_calls(params)
    warm_start, warm = await _first_calls(params, settle_s)
    lines = [
        "| call | cold first call ms | warm first call ms | target 200 ms (warm first) | "
        "recompute median ms | repeat median ms |",
        "|---|---|---|---|---|---|",
    ]
    repeats_all: list[float] = []
    async with Client(params, read_timeout_seconds=600) as client:
        for tool, variants in CALLS.items():
            fresh = [
                (await _ms(lambda t=tool, a=a: client.call_tool(t, a)))[0] for a in variants[1:]
            ]
            again = [
                (await _ms(lambda t=tool, a=variants[0]: client.call_tool(t, a)))[0]
                for _ in range(repeat)
            ]
            repeats_all += again
            ok = "yes" if warm[tool] < TARGET_MS else "NO"
            lines.append(
                f"| `{tool}` | {cold[tool]:,.0f} | {warm[tool]:,.0f} | {ok} | {_fmt(fresh)} | "
                f"{_fmt(again)} |"
            )
        for uri in RESOURCES:
            first, _ = await _ms(lambda u=uri: client.read_resource(u))
            again = [(await _ms(lambda u=uri: client.read_resource(u)))[0] for _ in range(repeat)]
            lines.append(f"| read `{uri}` | {first:,.0f} | n/a | n/a | n/a | {_fmt(again)} |")
    lines.append("")
    lines.append(
        f"Server start to initialised: {cold_start:,.0f} ms (cold), {warm_start:,.0f} ms (warm). "
        f"Median of all repeated tool calls: {statistics.median(repeats_all):,.1f} ms."
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds a warm server warms up")
    args = parser.parse_args()
    settings = load_settings()
    if settings.warehouse_path is not None and not settings.warehouse_path.exists():
        subprocess.run([sys.executable, "-m", "opskit.cli", "demo", "build"], check=True)
    meta = _warehouse(settings).meta()
    print(
        f"warehouse: {settings.resolved_warehouse_url} (kind {meta.get('kind')}, "
        f"scale {meta.get('scale')}); {os.cpu_count()} cores\n"
    )
    print("\n".join(anyio.run(run, args.repeat, args.settle)))


if __name__ == "__main__":
    main()
