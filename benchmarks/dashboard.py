"""Benchmark: the Voila dashboards in headless Debian Chromium (issue 7 targets).

Measures, on the warehouse the environment points at (``OPSKIT_WAREHOUSE_URL``):

- preheated kernels: navigation -> every KPI card visible, -> every chart visible in
  the first paint (static SVG in the page), -> every chart drawn by its widget, and ->
  widgets interactive (first paint hidden); median / p95 over ``--loads`` sequential
  loads (targets: KPI median < 1.0 s, p95 < 2.0 s; charts median < 1.5 s);
- cold first load: a server without kernel pools, first visit (target < 6 s);
- filter change -> KPI cards and charts updated, median (target < 500 ms), toggling
  the region between views the precompute step warmed;
- ``--viewers`` concurrent viewers (separate browser contexts): all render without
  error; resident memory per viewer kernel.

Every non-loopback request is aborted and counted (must be 0). Run:
``python -m benchmarks.dashboard [--loads 20] [--viewers 10] [--gap 15]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from opskit.config import Settings, load_settings
from opskit.dashboards.data import DashboardData
from opskit.dashboards.filters import Filters
from opskit.dashboards.serving.process import DashboardServer, serve
from opskit.dashboards.serving.warm import precompute
from opskit.dashboards.views import board_view

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")
CHARTS_DRAWN = """() => { const c = [...document.querySelectorAll('.opskit-chart')];
  return c.length > 0 && c.every(e => e.querySelector('svg.marks, canvas.marks')); }"""
#: The first paint's static charts (server-rendered SVG in the page itself).
FIRST_PAINT_CHARTS = """() => { const c = [...document.querySelectorAll('.opskit-snapshot-chart')];
  return c.length > 0 && c.every(e => e.querySelector('svg') && e.getBoundingClientRect().height > 0); }"""
BLOCKED: list[str] = []


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(preheat: bool, log: Path, settings: Settings) -> DashboardServer:
    server = serve(port=_port(), settings=settings, warm_grid=False, preheat=preheat, log=log)
    server.wait_ready(60)
    return server


def _wait_pools(log: Path, timeout: float = 180) -> None:
    """Until both pools report filled, then a grace period for their notebooks to run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if "ops_overview.ipynb is filled" in text and "service_health.ipynb is filled" in text:
            break
        time.sleep(0.5)
    time.sleep(15)


async def _context(browser: Any) -> Any:
    ctx = await browser.new_context(viewport={"width": 1300, "height": 900})

    async def guard(route: Any) -> None:
        if route.request.url.startswith(LOCAL):
            await route.continue_()
        else:
            BLOCKED.append(route.request.url)
            await route.abort()

    await ctx.route("**/*", guard)
    return ctx


async def _load(ctx: Any, url: str) -> tuple[dict[str, float], Any]:
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    t0 = time.perf_counter()
    await page.goto(url, wait_until="commit")
    await page.locator(".opskit-kpi:visible").first.wait_for(timeout=120_000)
    kpi = time.perf_counter() - t0
    await page.wait_for_function(FIRST_PAINT_CHARTS, timeout=120_000)
    painted = time.perf_counter() - t0
    await page.wait_for_function(CHARTS_DRAWN, timeout=120_000)
    charts = time.perf_counter() - t0
    await page.locator(".opskit-snapshot").first.wait_for(state="hidden", timeout=120_000)
    interactive = time.perf_counter() - t0
    text = await page.inner_text("body")
    if errors or "There was an error" in text:
        raise RuntimeError(f"page error: {errors or 'error text on the page'}")
    return {"kpi": kpi, "charts_first_paint": painted, "charts_widgets": charts,
            "interactive": interactive}, page  # fmt: skip


def _stats(values: list[float]) -> dict[str, float]:
    v = sorted(values)
    p95 = v[min(len(v) - 1, round(0.95 * (len(v) - 1)))]
    return {"median": round(statistics.median(v), 3), "p95": round(p95, 3), "n": len(v)}


async def _filter_changes(ctx: Any, url: str, regions: list[str], n: int) -> list[float]:
    _, page = await _load(ctx, url)
    out = []
    for i in range(n):
        region = regions[i % len(regions)]
        t0 = time.perf_counter()
        await page.locator(".opskit-filter-region select").select_option(label=region)
        await page.locator(f'.opskit-status[data-version="{i + 1}"]').wait_for(state="attached")
        want = f"region {region}" if region != "All" else "last 30 days ·"
        await page.wait_for_function(
            "(w) => [...document.querySelectorAll('.opskit-chart-qoe, .opskit-chart-revenue_pareto')]"
            ".every(c =>"
            " [...c.querySelectorAll('svg text')].some(t => t.textContent.includes(w)))",
            arg=want,
        )
        out.append(time.perf_counter() - t0)
    await page.close(run_before_unload=True)
    return out


def _kernel_rss(server: DashboardServer) -> list[float]:
    kids = server.processes()
    return [k.memory_info().rss / 2**20 for k in kids if "ipykernel" in " ".join(k.cmdline())]


async def main(args: argparse.Namespace) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    # room for every concurrent viewer plus the pools (viewers beyond the limit get a busy page)
    settings = load_settings(dashboard={"max_kernels": args.viewers + 6})
    data = DashboardData(settings=settings)
    regions = data.options["region"][:2]
    t0 = time.perf_counter()
    precompute(settings=settings)
    for r in regions:  # what the grid warmer (`opskit dashboard`) stores in the background
        board_view("overview", Filters(region=r), settings=settings, data=data)
    result: dict[str, Any] = {"precompute_s": round(time.perf_counter() - t0, 1)}
    tmp = Path(tempfile.mkdtemp(prefix="opskit-bench-"))
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        server = _start(False, tmp / "cold.log", settings)  # cold: no kernel pools
        try:
            ctx = await _context(browser)
            cold, _ = await _load(ctx, server.urls["ops_overview"])
            result["cold_first_load_s"] = {k: round(v, 3) for k, v in cold.items()}
            await ctx.close()
        finally:
            server.stop()
        server = _start(True, tmp / "warm.log", settings)
        try:
            _wait_pools(tmp / "warm.log")
            url = server.urls["ops_overview"]
            ctx = await _context(browser)
            loads: dict[str, list[float]] = {}
            for _ in range(args.loads):
                times, page = await _load(ctx, url)
                await page.close(run_before_unload=True)
                for k, v in times.items():
                    loads.setdefault(k, []).append(v)
                await asyncio.sleep(args.gap)  # the pool refills
            result["preheated_load_s"] = {k: _stats(v) for k, v in loads.items()}
            changes = await _filter_changes(ctx, url, [*regions, "All"], args.changes)
            result["filter_change_s"] = _stats(changes)
            await ctx.close()
            await asyncio.sleep(args.gap)
            contexts = [await _context(browser) for _ in range(args.viewers)]
            t1 = time.perf_counter()
            outcomes = await asyncio.gather(
                *(_load(c, url) for c in contexts), return_exceptions=True
            )
            ok = [o for o in outcomes if not isinstance(o, BaseException)]
            rss = _kernel_rss(server)
            result["concurrent"] = {
                "viewers": args.viewers,
                "rendered_ok": len(ok),
                "errors": [repr(o)[:200] for o in outcomes if isinstance(o, BaseException)],
                "all_rendered_s": round(time.perf_counter() - t1, 2),
                "charts_s": _stats([o[0]["charts_widgets"] for o in ok]) if ok else None,
                "kernels": len(rss),
                "kernel_rss_mib": _stats(rss) if rss else None,
            }
            for c in contexts:
                await c.close()
        finally:
            server.stop()
        await browser.close()
    result["blocked_requests"] = len(BLOCKED)
    result["warehouse"] = settings.resolved_warehouse_url.split("@")[-1]
    result["cpu_count"] = os.cpu_count()
    return result


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loads", type=int, default=20)
    ap.add_argument("--changes", type=int, default=12)
    ap.add_argument("--viewers", type=int, default=10)
    ap.add_argument(
        "--gap", type=float, default=15.0, help="seconds between sequential loads (pool refill)"
    )
    print(json.dumps(asyncio.run(main(ap.parse_args())), indent=2))
