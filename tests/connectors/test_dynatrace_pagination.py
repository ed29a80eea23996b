"""Dynatrace nextPageKey pagination exactly as documented, with loop protection."""

from __future__ import annotations

import logging

import httpx
import pytest

from opskit.connectors import fakes
from opskit.errors import ResponseError
from opskit.schemas import ApmHealth, Problems, validate


def test_every_problem_exactly_once_across_pages(dynatrace, clock):
    fake = fakes.dynatrace(clock=clock, n_problems=200)
    with dynatrace(fake, page_size=7) as dt:
        df = dt.fetch_problems(start="now-7d", end="now")
    calls = fake.calls("problems")
    assert len(calls) > 20 and all(c.status == 200 for c in calls)
    assert df["problem_id"].is_unique
    first = httpx.Client(
        transport=httpx.MockTransport(fakes.dynatrace(clock=clock, n_problems=200))
    )
    r = first.get(
        "https://x.invalid/api/v2/problems",
        params={"from": "now-7d", "to": "now", "pageSize": 500},
        headers={"Authorization": f"Api-Token {fakes.DYNATRACE_TOKEN}"},
    )
    first.close()
    assert len(df) == r.json()["totalCount"]
    validate(df, Problems)


def test_next_requests_send_only_the_key_and_resend_fields(dynatrace, clock):
    fake = fakes.dynatrace(clock=clock, n_problems=30)
    with dynatrace(fake, page_size=10) as dt:
        dt.fetch_problems(
            start="now-7d", problem_selector='status("closed")', fields=["evidenceDetails"]
        )
    first, *rest = fake.calls("problems")
    assert {"pageSize", "from", "problemSelector", "fields"} <= first.param_names
    assert rest and all(c.param_names == {"nextPageKey", "fields"} for c in rest)
    assert all(c.param("fields") == "evidenceDetails" for c in rest)


def test_entities_next_pages_send_only_the_key(dynatrace, clock):
    fake = fakes.dynatrace(clock=clock, hosts=tuple(f"h{i}" for i in range(11)))
    with dynatrace(fake, page_size=4) as dt:
        df = dt.fetch_entities('type("HOST")', fields=["+tags"])
    assert sorted(df["display_name"]) == sorted(f"h{i}" for i in range(11))
    _first, *rest = fake.calls("entities")
    assert len(rest) == 2 and all(c.param_names == {"nextPageKey"} for c in rest)


def test_last_page_without_next_page_key_field(dynatrace, clock):
    fake = fakes.dynatrace(clock=clock, omit_last_key=True, n_problems=25)
    with dynatrace(fake, page_size=10) as dt:
        df = dt.fetch_problems(start="now-7d")
    assert len(df) == sum(1 for _ in df["problem_id"])
    assert fake.calls("problems")[-1].status == 200


def test_fake_rejects_extra_params_with_next_page_key(clock):
    fake = fakes.dynatrace(clock=clock)
    client = httpx.Client(
        base_url="https://x.invalid",
        transport=httpx.MockTransport(fake),
        headers={"Authorization": f"Api-Token {fakes.DYNATRACE_TOKEN}"},
    )
    with client:
        key = client.get("/api/v2/problems", params={"from": "now-7d", "pageSize": 5}).json()[
            "nextPageKey"
        ]
        bad = client.get("/api/v2/problems", params={"nextPageKey": key, "pageSize": 5})
        assert bad.status_code == 400
        assert bad.json()["error"]["constraintViolations"][0]["path"] == "pageSize"
        assert client.get("/api/v2/problems", params={"nextPageKey": key}).status_code == 200
        assert (
            client.get("/api/v2/problems", params={"nextPageKey": key}).status_code == 400
        )  # replay


def _page(key, items):
    return httpx.Response(200, json={"totalCount": 99, "nextPageKey": key, "problems": items})


def test_repeated_cursor_raises_instead_of_looping(dynatrace, clock):
    problem = {"problemId": "P1", "status": "OPEN", "startTime": 1717100000000, "endTime": -1}
    with (
        dynatrace(lambda req: _page("SAME==", [problem])) as dt,
        pytest.raises(ResponseError, match="repeated"),
    ):
        dt.fetch_problems()


def test_empty_page_with_a_next_key_stops_with_a_warning(dynatrace, caplog):
    with dynatrace(lambda req: _page("K==", [])) as dt, caplog.at_level(logging.WARNING):
        df = dt.fetch_problems()
    assert df.empty
    assert "empty page" in caplog.text


def test_problem_mapping_open_problems_and_unknown_enums(dynatrace, clock):
    with dynatrace(fakes.dynatrace(clock=clock)) as dt:
        df = dt.fetch_problems(start="now-7d")
    open_ = df[df["status"] == "OPEN"]
    assert len(open_) and open_["end_time"].isna().all() and open_["duration_min"].isna().all()
    closed = df[df["status"] == "CLOSED"]
    assert (closed["duration_min"] > 0).all()
    assert "NEW_IMPACT_LEVEL" in set(df["impact_level"])
    assert "FUTURE_SEVERITY" in set(df["severity_level"])


def test_metrics_query_to_long_frame_with_gaps_and_names(dynatrace, clock):
    selector = 'builtin:service.response.time:splitBy("dt.entity.service"):avg:names'
    with dynatrace(fakes.dynatrace(clock=clock)) as dt:
        df = dt.fetch_metrics(selector, start="now-2h", resolution="1m")
    assert set(df["entity"]) == set(fakes.DynatraceFake().services)
    assert set(df["metric"]) == {"builtin:service.response.time"}
    assert df["value"].isna().any()
    assert len(df) == 4 * 120
    validate(df, ApmHealth)
