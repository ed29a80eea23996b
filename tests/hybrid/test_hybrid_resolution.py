"""Hybrid mode: live, cache (TTL hit and fallback) and demo, with honest provenance."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from hybrid_support import APM, CANARY, WINDOW, FakeFactory, MakeSettings, newrelic_settings

from opskit import provenance as prov
from opskit import sources
from opskit.cache import ResultCache
from opskit.catalog import get_dataset, load
from opskit.connectors import fakes
from opskit.errors import AuthError, DatasetError, UnavailableError


def test_live_success_is_live_and_a_ttl_hit_is_cache(
    make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(newrelic=newrelic_settings())
    factory = FakeFactory(fakes.newrelic())
    with sources.using_connectors(factory), caplog.at_level(logging.INFO, "opskit"):
        live = load("apm_health", settings=settings, **APM)
        sent = len(factory.fake.requests)
        cached = load("apm_health", settings=settings, **APM)
    p_live, p_cached = prov.of(live), prov.of(cached)
    assert p_live.kind == "live" and p_live.systems == ("newrelic",) and sent > 0
    assert set(live["provenance"]) == {"live"} and set(live["entity"]) == {"playback-api"}
    assert len(factory.fake.requests) == sent  # the second load sent nothing
    assert p_cached.kind == "cache" and p_cached.fetched_at == p_live.as_of
    assert set(cached["provenance"]) == {"cache"} and "CACHED data" in p_cached.label()
    assert "cache hit" in p_cached.detail
    assert p_cached.label().count(" old") == 1  # one age, computed when it is read
    pd.testing.assert_frame_equal(
        live.drop(columns="provenance"), cached.drop(columns="provenance")
    )
    assert any("cache hit" in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)


def test_an_expired_entry_is_refetched_and_ttl_is_per_dataset(make_settings: MakeSettings) -> None:
    settings = make_settings(newrelic=newrelic_settings(), cache_ttl_overrides={"apm_health": 60})
    assert settings.ttl_for("apm_health") == 60 and settings.ttl_for("problems") == 300
    factory = FakeFactory(fakes.newrelic())
    ds = get_dataset("apm_health")

    def resolve(now: datetime) -> pd.DataFrame:
        return sources.resolve(ds, APM, settings=settings, warehouse=pytest.fail,
                               connector_factory=factory, now=now)  # fmt: skip

    t0 = datetime.now(UTC)
    assert prov.of(resolve(t0)).kind == "live"
    assert prov.of(resolve(t0 + timedelta(seconds=30))).kind == "cache"
    assert prov.of(resolve(t0 + timedelta(seconds=120))).kind == "live"  # past the 60 s TTL
    assert factory.built == ["newrelic", "newrelic"]


def test_auto_failure_falls_back_to_the_freshest_cache_with_its_age(
    make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    # TTL 0: every load goes live, so the second one meets the outage.
    settings = make_settings(newrelic=newrelic_settings(), cache_ttl_overrides={"apm_health": 0})
    fake = fakes.newrelic()
    with sources.using_connectors(FakeFactory(fake)):
        first = load("apm_health", settings=settings, **APM)
        fake.queue("graphql", 503, 503, 503)
        with caplog.at_level(logging.WARNING, "opskit"):
            fallback = load("apm_health", settings=settings, **APM)
    p = prov.of(fallback)
    assert p.kind == "cache" and p.fetched_at == prov.of(first).as_of
    assert "UnavailableError" in p.detail and "freshest cached result" in p.detail
    assert " old" in p.label()  # the label shows the age
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and "falling back to the cached result" in warnings[0].getMessage()
    pd.testing.assert_frame_equal(
        first.drop(columns="provenance"), fallback.drop(columns="provenance")
    )


def test_auto_failure_without_cache_falls_back_to_demo_and_warns(
    make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    # The configured key is wrong: the fake answers New Relic's real 401.
    settings = make_settings(newrelic=newrelic_settings(api_key=CANARY))
    factory = FakeFactory(fakes.newrelic())
    with sources.using_connectors(factory), caplog.at_level(logging.DEBUG, "opskit"):
        frame = load("apm_health", settings=settings, **APM)
    demo = load("apm_health", settings=make_settings(), **APM)
    p = prov.of(frame)
    assert p.kind == "demo" and set(frame["provenance"]) == {"demo"}
    assert "live newrelic failed (AuthError" in p.detail and "fell back to demo data" in p.detail
    assert "DEMO DATA" in p.label()
    assert any(r.levelno == logging.WARNING and "demo" in r.getMessage() for r in caplog.records)
    pd.testing.assert_frame_equal(frame.drop(columns="provenance"), demo.drop(columns="provenance"))
    assert CANARY not in caplog.text + p.label() + repr(frame.attrs)


def test_live_mode_failure_raises_even_with_a_cache(make_settings: MakeSettings) -> None:
    settings = make_settings(
        newrelic=newrelic_settings("live"), cache_ttl_overrides={"apm_health": 0}
    )
    fake = fakes.newrelic()
    with sources.using_connectors(FakeFactory(fake)):
        assert prov.of(load("apm_health", settings=settings, **APM)).kind == "live"
        fake.queue("graphql", 503)
        with pytest.raises(UnavailableError):
            load("apm_health", settings=settings, **APM)
        bad_key = make_settings(
            newrelic=newrelic_settings("live", api_key=CANARY),
            cache_ttl_overrides={"apm_health": 0},
        )
        with pytest.raises(AuthError) as err:
            load("apm_health", settings=bad_key, **APM)
    assert CANARY not in str(err.value)


def test_apm_health_without_a_service_filter_is_one_faceted_live_query_per_window(
    make_settings: MakeSettings,
) -> None:
    fake = fakes.newrelic()
    no_service = {k: v for k, v in APM.items() if k != "service"}
    with fakes.serve(fake) as url:
        nr = newrelic_settings("live", endpoint=f"{url}/graphql")
        frame = load("apm_health", settings=make_settings(newrelic=nr), **no_service)
    assert prov.of(frame).kind == "live"
    assert set(frame["entity"]) == set(fake.services) and len(fake.services) > 1
    queries = [str(r.body) for r in fake.requests]
    assert len(queries) == 1 and "FROM Transaction FACET appName" in queries[0]


CONVIVA = {"client_id": fakes.CONVIVA_CLIENT_ID, "client_secret": fakes.CONVIVA_CLIENT_SECRET}


def test_live_qoe_serves_region_isp_and_cdn_with_device_as_conviva_filters(
    make_settings: MakeSettings,
) -> None:
    fake = fakes.conviva()
    settings = make_settings(conviva={**CONVIVA, "mode": "live"})
    with sources.using_connectors(FakeFactory(fake)):
        everyone = load("streaming_qoe", settings=settings, **WINDOW)
        brazil = load("streaming_qoe", settings=settings, region="brazil", isp="Comcast", **WINDOW)
        roku = load("streaming_qoe", settings=settings, cdn=["Akamai", "Fastly"], device="Roku",
                    **WINDOW)  # fmt: skip
    sent = [dict(r.params) for r in fake.requests]
    assert sent[1]["country"] == "Brazil" and sent[1]["isp"] == "Comcast"
    assert "group-by" not in fake.requests[1].path
    assert sent[2]["device-name"] == "Roku" and fake.requests[2].path.endswith("/group-by/cdn")
    assert {prov.of(f).kind for f in (everyone, brazil, roku)} == {"live"}
    assert "filtered by Conviva country = Brazil; isp = Comcast" in prov.of(brazil).detail
    assert len(brazil) == len(everyone) and not brazil["plays"].equals(everyone["plays"])
    assert set(roku["device"]) == {"Roku"} and set(roku["cdn"]) == {"Akamai", "Fastly"}


def test_a_request_live_cannot_serve_raises_in_live_mode_and_degrades_in_auto(
    make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    factory = FakeFactory(fakes.conviva())
    both = {"cdn": ["akamai", "fastly"], "device": ["roku", "web"], **WINDOW}
    with sources.using_connectors(factory):
        with pytest.raises(DatasetError, match="give one CDN or one device"):
            load("streaming_qoe", settings=make_settings(conviva={**CONVIVA, "mode": "live"}),
                 **both)  # fmt: skip
        with caplog.at_level(logging.WARNING, "opskit"):
            frame = load("streaming_qoe", settings=make_settings(conviva=CONVIVA), **both)
    assert prov.of(frame).kind == "demo" and "one CDN or one device" in prov.of(frame).detail
    assert caplog.records and not factory.fake.requests


@pytest.mark.parametrize("mode", ["auto", "demo"])
def test_demo_without_warning_when_unconfigured_or_in_demo_mode(
    mode: str, make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    nr = {"mode": mode} if mode == "auto" else newrelic_settings("demo")
    settings = make_settings(newrelic=nr)
    factory = FakeFactory(fakes.newrelic())
    with sources.using_connectors(factory), caplog.at_level(logging.WARNING):
        frame = load("apm_health", settings=settings, **APM)
    assert prov.of(frame).kind == "demo" and "failed" not in prov.of(frame).detail
    assert factory.built == [] and not caplog.records
    assert not list(ResultCache.for_settings(settings).entries("apm_health"))


def test_cached_live_rows_hold_no_secret(make_settings: MakeSettings) -> None:
    fake = fakes.newrelic(api_key=CANARY)
    settings = make_settings(newrelic=newrelic_settings(api_key=CANARY))
    with sources.using_connectors(FakeFactory(fake)):
        load("apm_health", settings=settings, **APM)
    root = ResultCache.for_settings(settings).root
    files = [p for p in root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files)
    assert all(CANARY.encode() not in p.read_bytes() for p in files)
