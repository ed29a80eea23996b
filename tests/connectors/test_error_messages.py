"""Error messages lead with the cause; the full (redacted) URL stays on ``error.url``."""

from __future__ import annotations

import socket

import pytest

from opskit.connectors import fakes
from opskit.errors import UnavailableError

#: opskit.sources keeps the first line, cut at 300 characters, as the fallback reason.
REASON_CHARS = 300


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_long_url_does_not_push_connection_refused_out_of_the_reason(conviva):
    dead = f"http://127.0.0.1:{_closed_port()}/{'gateway/' * 30}"
    with (
        conviva(fakes.conviva(), base_url=dead, max_retries=0) as cv,
        pytest.raises(UnavailableError) as info,
    ):
        cv.fetch_qoe(
            start="2024-05-30",
            end="2024-05-31",
            by="device",
            filters={"device_os": ["Android", "iOS", "tvOS", "webOS", "Tizen"]},
        )
    err = info.value
    assert len(err.url) > REASON_CHARS  # the URL alone would have filled the reason
    reason = str(err).splitlines()[0][:REASON_CHARS]
    assert "Connection refused" in reason and "ConnectError" in reason
    assert "start_date=2024-05-30" in err.url and "device_os=tvOS" in err.url


def test_http_errors_name_status_and_vendor_message_before_any_query(dynatrace, clock):
    fake = fakes.dynatrace(clock=clock).queue("problems", 404)
    selector = 'entityId("' + "SERVICE-0123456789ABCDEF," * 12 + '")'
    with dynatrace(fake) as dt, pytest.raises(Exception) as info:
        dt.fetch_problems(entity_selector=selector)
    first = str(info.value)[:REASON_CHARS]
    assert "HTTP 404" in first and "entitySelector" not in str(info.value)
    assert "entitySelector=" in info.value.url
