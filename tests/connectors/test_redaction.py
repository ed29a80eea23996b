"""Secrets never appear in error messages, logs, reprs, provenance or check() details."""

from __future__ import annotations

import base64
import logging
import pickle
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from opskit.connectors import fakes
from opskit.connectors._redact import redact_text, redact_url
from opskit.errors import ConnectorError

CANARY = "CANARY-s3cr3t-0xDEADBEEF"


def _assert_clean(text: str) -> None:
    b64 = base64.b64encode(f"{fakes.JIRA_EMAIL}:{CANARY}".encode()).decode()
    assert CANARY not in text
    assert b64 not in text


def _echo_auth(request: httpx.Request) -> httpx.Response:
    """A hostile server that echoes our credentials back in its error body."""
    leaked = " ".join(f"{k}: {v}" for k, v in request.headers.items())
    return httpx.Response(
        400, json={"message": f"bad request, you sent {leaked}", "errorMessages": [leaked]}
    )


@pytest.mark.parametrize("name", ["newrelic", "dynatrace", "jira", "confluence", "conviva"])
def test_canary_never_leaks(name, request, caplog, clock):
    build = request.getfixturevalue(name)
    secret_arg = {
        "newrelic": "api_key",
        "dynatrace": "api_token",
        "jira": "api_token",
        "confluence": "api_token",
        "conviva": "client_secret",
    }[name]
    fake = getattr(fakes, name)(clock=clock)
    fake.queue("*", _echo_auth, "html", "truncated")
    caplog.set_level(logging.DEBUG)
    with build(fake, **{secret_arg: CANARY}, max_retries=0) as conn:
        _assert_clean(repr(conn))
        errors = []
        for _ in range(4):  # echo, html, truncated, then a real 401
            call = {
                "newrelic": lambda: conn.nrql("SELECT 1 FROM Transaction"),
                "dynatrace": lambda: conn.fetch_problems(),
                "jira": lambda: conn.search('project = "OPS"'),
                "confluence": lambda: conn.space_id("OPS"),
                "conviva": lambda: conn.fetch_qoe(start="2024-05-30", end="2024-05-31"),
            }[name]
            with pytest.raises(ConnectorError) as info:
                call()
            errors.append(info.value)
        report = conn.check()
    assert report["ok"] is False
    _assert_clean(str(report))
    for err in errors:
        _assert_clean(str(err))
        _assert_clean(repr(err))
        _assert_clean(str(err.url))
        _assert_clean(repr(pickle.loads(pickle.dumps(err)).__dict__))
    _assert_clean(caplog.text)


def test_redact_url_removes_userinfo_and_secret_params():
    url = (
        "https://user:pw@env.example.invalid/api/v2/problems?api-token=abc123&pageSize=5&Api-Key=x"
    )
    out = redact_url(url)
    assert "abc123" not in out and "pw" not in out and "=x" not in out
    assert "pageSize=5" in out


def test_redact_text_masks_auth_headers_and_known_secrets():
    text = "Authorization: Basic Zm9vOmJhcg== and API-Key: NRAK-123 and token tok-9999"
    out = redact_text(text, ["tok-9999"])
    assert "Zm9vOmJhcg==" not in out and "NRAK-123" not in out and "tok-9999" not in out


@pytest.mark.parametrize(
    "name", ["api_key", "apikey", "Api-Key", "api-token", "token", "access_token", "password",
             "client_secret", "secret", "signature", "X-Amz-Signature", "sig", "private_token"]
)  # fmt: skip
def test_secret_parameters_are_masked(name):
    out = redact_url(f"https://h.invalid/p?{name}=s3cr3t-value&pageSize=5")
    assert "s3cr3t-value" not in out and "pageSize=5" in out


@pytest.mark.parametrize(
    "name", ["nextPageKey", "nextPageToken", "cursor", "spaceKey", "keys", "space-id", "title"]
)
def test_paging_keys_and_space_keys_stay_readable(name):
    assert f"{name}=AQAAAB4BAAAABQ" in redact_url(f"https://h.invalid/p?{name}=AQAAAB4BAAAABQ")


def test_a_failed_page_names_its_next_page_key(dynatrace, clock):
    fake = fakes.dynatrace(clock=clock, n_problems=30).queue("problems", lambda r: None, 400)
    with dynatrace(fake, page_size=10) as dt, pytest.raises(ConnectorError) as info:
        dt.fetch_problems(start="now-7d")
    key = fake.calls("problems")[1].param("nextPageKey")
    sent = parse_qs(urlsplit(info.value.url).query)
    assert key and sent == {"nextPageKey": [key]}


def test_a_failed_space_lookup_names_the_space_key(confluence, clock):
    fake = fakes.confluence(clock=clock).queue("spaces", 404)
    with confluence(fake) as wiki, pytest.raises(ConnectorError) as info:
        wiki.space_id("OPS")
    assert "keys=OPS" in info.value.url
