"""Benchmark: MCP tool-call and resource-read latency of ``opskit mcp`` on demo data.

Target (issue 8): median tool call under 200 ms on demo data, warm (datasets
memoised). The server runs as a subprocess over stdio and is driven by the
SDK's own client, so every figure includes JSON-RPC, validation and
serialisation. Three figures per tool:

* **first call**: the first call of the tool in a fresh server (datasets may
  come from opskit's on-disk memo, the analysis itself runs);
* **recompute**: calls with arguments not seen before (data warm, analysis
  recomputed; median over a few argument variants);
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


async def run(repeat: int) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k.startswith("OPSKIT_")}
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "opskit.cli", "mcp"], env=env
    )
    lines = [
        "| call | first call ms | recompute median ms | repeat median ms | target 200 ms (repeat) |",
        "|---|---|---|---|---|",
    ]
    t0 = time.perf_counter()
    async with Client(params, read_timeout_seconds=600) as client:
        startup = (time.perf_counter() - t0) * 1000
        repeats_all: list[float] = []
        for tool, variants in CALLS.items():
            first, result = await _ms(lambda t=tool, a=variants[0]: client.call_tool(t, a))
            if result.is_error:
                raise SystemExit(f"{tool} failed: {result.content}")
            fresh = [
                (await _ms(lambda t=tool, a=a: client.call_tool(t, a)))[0] for a in variants[1:]
            ]
            again = [
                (await _ms(lambda t=tool, a=variants[0]: client.call_tool(t, a)))[0]
                for _ in range(repeat)
            ]
            repeats_all += again
            ok = "yes" if statistics.median(again) < TARGET_MS else "NO"
            lines.append(f"| `{tool}` | {first:,.0f} | {_fmt(fresh)} | {_fmt(again)} | {ok} |")
        for uri in RESOURCES:
            first, _ = await _ms(lambda u=uri: client.read_resource(u))
            again = [(await _ms(lambda u=uri: client.read_resource(u)))[0] for _ in range(repeat)]
            ok = "yes" if statistics.median(again) < TARGET_MS else "NO"
            lines.append(f"| read `{uri}` | {first:,.0f} | n/a | {_fmt(again)} | {ok} |")
    lines.append("")
    lines.append(
        f"Server start to initialised: {startup:,.0f} ms. Median of all repeated tool calls: "
        f"{statistics.median(repeats_all):,.1f} ms (target {TARGET_MS:.0f} ms)."
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    settings = load_settings()
    if settings.warehouse_path is not None and not settings.warehouse_path.exists():
        subprocess.run([sys.executable, "-m", "opskit.cli", "demo", "build"], check=True)
    meta = _warehouse(settings).meta()
    print(
        f"warehouse: {settings.resolved_warehouse_url} (kind {meta.get('kind')}, "
        f"scale {meta.get('scale')}); {os.cpu_count()} cores\n"
    )
    print("\n".join(anyio.run(run, args.repeat)))


if __name__ == "__main__":
    main()
