"""Benchmark: live pulls from the loopback vendor fakes vs the cache-hit path (issue 5).

Pulls ``production_issues`` from the Jira Cloud fake (default 50,000 issues =
500 search pages of 100, plus the bulk changelog pages for reopen counts) and
``apm_health`` from the New Relic fake (default 1 week of 1-minute buckets for
all 12 services = 28 NRQL windows of <= 366 buckets), end to end through
``opskit.catalog.load``: settings -> connector -> real HTTP on 127.0.0.1 ->
frame -> schema validation -> provenance ``live`` -> TTL cache. Then loads both
again within the TTL and times the cache-hit path (provenance ``cache``, no HTTP
request at all). The target is a cache hit at least 50x faster than the live pull.

Everything runs in a temporary project home (``OPSKIT_HOME``), so the cache
never lands in the repository's ``data/``. The sources are configured in
``live`` mode through ``OPSKIT_*`` environment variables, read by
``load_settings()``, exactly as a user would configure them. The client-side
rate limit is raised (``--requests-per-second``) because the servers are local
fakes; at the default 5 requests/s the request count alone sets the floor.

Notes on what is timed:

* The Jira fake builds its issue payloads lazily; they are built before the
  clock starts (reported as "fake warm-up"), so the live time measures HTTP,
  JSON, connector mapping, frame building and validation, not fake data
  generation. The New Relic fake computes values per request (inside the time).
* The fakes are threads of this process, so the live time also carries the
  fakes' share of the GIL; the cache-hit time is the median of ``--cache-repeats``.

Run: ``python -m benchmarks.connectors [--jira-issues 50000] [--apm-days 7]``.
Exit status 1 when a speed-up is below ``--target`` (50x) or a check fails.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from opskit import provenance as prov
from opskit import sources
from opskit.catalog import load
from opskit.config import Settings, load_settings
from opskit.connectors import BaseConnector, connector_from_settings, fakes

__all__ = ["Result", "main", "markdown_table", "run"]

#: Fixed windows (the Jira fake's issues are created in the 180 days before 2024-06-01).
JIRA_WINDOW = {"start": "2023-06-01T00:00Z", "end": "2024-06-02T00:00Z"}
APM_END = pd.Timestamp("2024-06-01T00:00Z")
#: Routes of the fakes that carry data pages.
PAGE_ROUTES = {"production_issues": ("search_jql",), "apm_health": ("graphql",)}


@dataclass
class Result:
    """One dataset: the live pull and the cache hits that followed it."""

    dataset: str
    rows: int
    pages: int
    requests: int
    requests_sent: int
    routes: dict[str, int]
    live_s: float
    cache_s: list[float]
    live_kind: str
    cache_kind: str
    cache_identical: bool
    cache_requests: int
    cache_mb: float
    notes: list[str] = field(default_factory=list)

    @property
    def cache_median_s(self) -> float:
        return statistics.median(self.cache_s)

    @property
    def speedup(self) -> float:
        return self.live_s / self.cache_median_s if self.cache_median_s > 0 else math.inf

    def ok(self, target: float) -> bool:
        """The speed-up meets ``target`` and every correctness check held."""
        return (
            self.speedup >= target
            and self.live_kind == "live"
            and self.cache_kind == "cache"
            and self.cache_identical
            and self.cache_requests == 0
            and self.requests == self.requests_sent
        )


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set ``values`` and hide every other ``OPSKIT_*`` variable; restore on exit."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("OPSKIT_")}
    for key in saved:
        del os.environ[key]
    os.environ.update(values)
    try:
        yield
    finally:
        for key in [k for k in os.environ if k.startswith("OPSKIT_")]:
            del os.environ[key]
        os.environ.update(saved)


def _settings_env(home: Path, jira_url: str, nr_url: str, rps: float) -> dict[str, str]:
    return {
        "OPSKIT_HOME": str(home),
        "OPSKIT_CACHE_TTL_S": "3600",
        "OPSKIT_JIRA__MODE": "live",
        "OPSKIT_JIRA__BASE_URL": jira_url,
        "OPSKIT_JIRA__DEPLOYMENT": "cloud",
        "OPSKIT_JIRA__EMAIL": fakes.JIRA_EMAIL,
        "OPSKIT_JIRA__API_TOKEN": fakes.JIRA_TOKEN,
        "OPSKIT_JIRA__REQUESTS_PER_SECOND": str(rps),
        "OPSKIT_NEWRELIC__MODE": "live",
        "OPSKIT_NEWRELIC__API_KEY": fakes.NEWRELIC_KEY,
        "OPSKIT_NEWRELIC__ACCOUNT_ID": str(fakes.NEWRELIC_ACCOUNT),
        "OPSKIT_NEWRELIC__ENDPOINT": f"{nr_url}/graphql",
        "OPSKIT_NEWRELIC__REQUESTS_PER_SECOND": str(rps),
    }


def _folder_mb(folder: Path) -> float:
    if not folder.exists():
        return 0.0
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def _bench(
    name: str,
    filters: Mapping[str, Any],
    *,
    settings: Settings,
    fake: fakes.FakeService,
    built: list[BaseConnector],
    repeats: int,
    log: Callable[[str], None],
) -> Result:
    n0 = len(fake.requests)
    built.clear()
    log(f"{name}: live pull ...")
    t0 = time.perf_counter()
    live = load(name, settings=settings, cache=False, **filters)  # cache=False: force the live path
    live_s = time.perf_counter() - t0
    calls = fake.requests[n0:]
    routes = dict(Counter(c.route for c in calls))
    pages = sum(routes.get(r, 0) for r in PAGE_ROUTES[name])
    log(f"{name}: {len(live):,} rows live in {live_s:.2f} s ({len(calls)} requests)")

    n1 = len(fake.requests)
    times, hit = [], live
    for _ in range(repeats):
        t0 = time.perf_counter()
        hit = load(name, settings=settings, **filters)
        times.append(time.perf_counter() - t0)
    strip = [prov.COLUMN]
    identical = bool(
        hit.drop(columns=strip)
        .reset_index(drop=True)
        .equals(live.drop(columns=strip).reset_index(drop=True))
    )
    result = Result(
        dataset=name,
        rows=len(live),
        pages=pages,
        requests=len(calls),
        requests_sent=sum(c.requests_sent for c in built),
        routes=routes,
        live_s=live_s,
        cache_s=times,
        live_kind=prov.of(live).kind,
        cache_kind=prov.of(hit).kind,
        cache_identical=identical,
        cache_requests=len(fake.requests) - n1,
        cache_mb=_folder_mb(Path(settings.home) / "data" / "cache" / "live" / name),
    )
    if bad := [c.status for c in calls if c.status != 200]:
        result.notes.append(f"non-200 answers: {Counter(bad)}")
    log(f"{name}: cache hit median {result.cache_median_s * 1000:.1f} ms over {repeats}")
    return result


def run(
    *,
    jira_issues: int = 50_000,
    apm_days: float = 7.0,
    services: int = 12,
    cache_repeats: int = 5,
    changelog_page: int = 1000,
    requests_per_second: float = 1000.0,
    log: Callable[[str], None] = lambda s: None,
) -> tuple[list[Result], dict[str, Any]]:
    """Run both pulls in a temporary home; return the results and the run's configuration."""
    jira_fake = fakes.jira(
        n_issues=jira_issues, many_fields_cap=None, changelog_page=changelog_page
    )
    nr_fake = fakes.newrelic()
    names = list(nr_fake.services[:services])
    t0 = time.perf_counter()
    jira_fake._lookup()  # build the fake's issue payloads outside the timed pull
    warm_s = time.perf_counter() - t0
    apm = {
        "service": names,
        "resolution": "1min",
        "start": (APM_END - pd.Timedelta(days=apm_days)).isoformat(),
        "end": APM_END.isoformat(),
    }
    built: list[BaseConnector] = []

    def factory(source: str, settings: Settings) -> BaseConnector:
        # the default connector, as built from settings, kept to read requests_sent
        conn = connector_from_settings(source, settings, progress=False)
        built.append(conn)
        return conn

    with tempfile.TemporaryDirectory(prefix="opskit-bench-connectors-") as tmp:
        home = Path(tmp)
        with fakes.serve(jira_fake) as jira_url, fakes.serve(nr_fake) as nr_url:
            env = _settings_env(home, jira_url, nr_url, requests_per_second)
            with _environment(env):
                settings = load_settings()
            if Path(settings.home).resolve() != home.resolve():
                raise RuntimeError(f"settings.home is {settings.home}, expected {home}")
            with sources.using_connectors(factory):
                results = [
                    _bench("production_issues", JIRA_WINDOW, settings=settings, fake=jira_fake,
                           built=built, repeats=cache_repeats, log=log),
                    _bench("apm_health", apm, settings=settings, fake=nr_fake,
                           built=built, repeats=cache_repeats, log=log),
                ]  # fmt: skip
        issues = results[0]
        if issues.rows != jira_issues:
            issues.notes.append(f"expected {jira_issues:,} issues, got {issues.rows:,}")
        if issues.pages != math.ceil(jira_issues / 100):  # the connector asks for 100 per page
            issues.notes.append(f"expected {math.ceil(jira_issues / 100)} search pages")
        expected_apm = len(names) * 5 * math.ceil(apm_days * 1440)
        if results[1].rows != expected_apm:
            results[1].notes.append(f"expected {expected_apm:,} rows, got {results[1].rows:,}")
    config = {
        "jira_issues": jira_issues,
        "apm_days": apm_days,
        "services": names,
        "changelog_page": changelog_page,
        "requests_per_second": requests_per_second,
        "cache_repeats": cache_repeats,
        "fake_warmup_s": warm_s,
        "apm_window": (apm["start"], apm["end"]),
        "jira_window": (JIRA_WINDOW["start"], JIRA_WINDOW["end"]),
    }
    return results, config


def _pages(r: Result) -> str:
    if r.dataset == "production_issues":
        extra = r.routes.get("bulkfetch", 0)
        return f"{r.pages} search + {extra} changelog pages / {r.requests} requests"
    return f"{r.pages} NRQL windows / {r.requests} requests"


def markdown_table(results: list[Result], target: float = 50.0) -> str:
    """The results as a markdown table."""
    lines = [
        f"| dataset | rows | pages / requests | live s | cache-hit s | speed-up | >= {target:g}x |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.dataset} | {r.rows:,} | {_pages(r)} | {r.live_s:.2f} | "
            f"{r.cache_median_s:.3f} | {r.speedup:,.0f}x | {'yes' if r.ok(target) else 'NO'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jira-issues", type=int, default=50_000)
    parser.add_argument("--apm-days", type=float, default=7.0)
    parser.add_argument("--services", type=int, default=12, help="how many of the 12 fake services")
    parser.add_argument("--cache-repeats", type=int, default=5)
    parser.add_argument(
        "--changelog-page", type=int, default=1000,
        help="entries per changelog bulkfetch page served by the fake (contract max 1000)",
    )  # fmt: skip
    parser.add_argument("--requests-per-second", type=float, default=1000.0)
    parser.add_argument("--target", type=float, default=50.0, help="minimum cache speed-up")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    log = (lambda s: None) if args.quiet else (lambda s: print(f"  .. {s}", file=sys.stderr))
    results, cfg = run(
        jira_issues=args.jira_issues,
        apm_days=args.apm_days,
        services=args.services,
        cache_repeats=args.cache_repeats,
        changelog_page=args.changelog_page,
        requests_per_second=args.requests_per_second,
        log=log,
    )
    print(
        f"Jira Cloud fake: {cfg['jira_issues']:,} issues, window {cfg['jira_window'][0]} .. "
        f"{cfg['jira_window'][1]}, changelog page {cfg['changelog_page']} "
        f"(fake warm-up {cfg['fake_warmup_s']:.1f} s, untimed)"
    )
    print(
        f"New Relic fake: {len(cfg['services'])} services, 1min buckets, "
        f"{cfg['apm_window'][0]} .. {cfg['apm_window'][1]}"
    )
    print(
        f"both on 127.0.0.1, mode live, client rate limit {cfg['requests_per_second']:g} req/s, "
        f"cache-hit time = median of {cfg['cache_repeats']}\n"
    )
    print(markdown_table(results, args.target))
    print()
    failed = False
    for r in results:
        verdict = "PASS" if r.ok(args.target) else "FAIL"
        failed |= verdict == "FAIL" or bool(r.notes)
        print(
            f"{verdict} {r.dataset}: speed-up {r.speedup:,.0f}x (target {args.target:g}x); "
            f"provenance live={r.live_kind!r} then {r.cache_kind!r}; cache frame identical: "
            f"{r.cache_identical}; requests on cache hits: {r.cache_requests}; "
            f"requests seen by fake/sent by connector: {r.requests}/{r.requests_sent}; "
            f"routes {r.routes}; cache on disk {r.cache_mb:.1f} MB; "
            f"cache-hit runs ms {[round(t * 1000, 1) for t in r.cache_s]}"
            + (f"; NOTES: {'; '.join(r.notes)}" if r.notes else "")
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
