"""The connectors benchmark runs end to end at a tiny size (loopback fakes, temp home)."""

from __future__ import annotations

import os

from benchmarks.connectors import markdown_table, run


def test_connectors_benchmark_smoke() -> None:
    before = {k: v for k, v in os.environ.items() if k.startswith("OPSKIT_")}
    results, cfg = run(jira_issues=250, apm_days=0.25, services=3, cache_repeats=2)
    issues, apm = results
    assert issues.rows == 250 and issues.pages == 3 and issues.routes["bulkfetch"] >= 1
    assert apm.rows == 3 * 5 * 360 and apm.pages == 1
    for r in results:
        assert (r.live_kind, r.cache_kind) == ("live", "cache")
        assert r.cache_identical and r.cache_requests == 0
        assert r.requests == r.requests_sent > 0 and not r.notes
    assert {k: v for k, v in os.environ.items() if k.startswith("OPSKIT_")} == before
    table = markdown_table(results)
    assert table.startswith("| dataset | rows |") and "production_issues" in table
    assert cfg["services"] == ["playback-api", "manifest-svc", "auth-svc"]
