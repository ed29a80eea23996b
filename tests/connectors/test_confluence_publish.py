"""Confluence v2 publish-or-update: find by title, version + 1, one conflict retry, no blind write retries."""

from __future__ import annotations

import pytest

from opskit.connectors import fakes
from opskit.errors import ConnectorError, UnavailableError


def test_publish_creates_then_updates_then_is_idempotent(confluence, clock):
    fake = fakes.confluence(clock=clock)
    with confluence(fake) as wiki:
        created = wiki.publish_page(
            title="Weekly QoE 2024-W22", body="<p>0.42%</p>", parent_id="557061"
        )
        same = wiki.publish_page(title="Weekly QoE 2024-W22", body="<p>0.42%</p>")
        updated = wiki.publish_page(title="Weekly QoE 2024-W22", body="<p>0.40%</p>")
    assert (created["action"], created["version"]) == ("created", 1)
    assert (same["action"], same["version"]) == ("unchanged", 1)
    assert (updated["action"], updated["version"]) == ("updated", 2)
    assert updated["url"].endswith(
        "/wiki/spaces/OPS/pages/" + created["id"] + "/Weekly+QoE+2024-W22"
    )
    assert fake.calls("spaces")[0].param("keys") == "OPS"
    put = fake.calls("update")[-1].body
    assert put["version"]["number"] == 2 and put["body"]["representation"] == "storage"
    assert len(fake.pages) == 1


def test_version_conflict_rereads_and_retries_once(confluence, clock):
    fake = fakes.confluence(clock=clock)
    with confluence(fake) as wiki:
        wiki.publish_page(title="R", body="<p>1</p>")
        fake.queue("update", "bump_then_409")
        out = wiki.publish_page(title="R", body="<p>2</p>")
    assert out["action"] == "updated" and out["version"] == 3
    assert [c.body["version"]["number"] for c in fake.calls("update")] == [2, 3]
    assert len(fake.calls("page")) == 1  # the re-read


def test_second_conflict_is_raised(confluence, clock):
    fake = fakes.confluence(clock=clock)
    with confluence(fake) as wiki:
        wiki.publish_page(title="R", body="<p>1</p>")
        fake.queue("update", "bump_then_409", "bump_then_409")
        with pytest.raises(ConnectorError) as info:
            wiki.publish_page(title="R", body="<p>2</p>")
    assert info.value.status_code == 409


def test_create_that_committed_before_a_504_is_not_duplicated(confluence, clock):
    fake = fakes.confluence(clock=clock).queue("create", "commit_then_504")
    with confluence(fake) as wiki:
        out = wiki.publish_page(title="R", body="<p>1</p>")
    assert len(fake.calls("create")) == 1 and len(fake.pages) == 1
    assert out["action"] == "unchanged" and out["version"] == 1


def test_failed_create_is_not_retried_blindly(confluence, clock):
    fake = fakes.confluence(clock=clock).queue("create", 503)
    with confluence(fake) as wiki, pytest.raises(UnavailableError):
        wiki.publish_page(title="R", body="<p>1</p>")
    assert len(fake.calls("create")) == 1 and not fake.pages
    assert len(fake.calls("pages")) == 2  # looked before and after


def test_rate_limited_create_is_retried_after_retry_after(confluence, clock):
    fake = fakes.confluence(clock=clock, retry_after_s=4).queue("create", 429)
    with confluence(fake) as wiki:
        out = wiki.publish_page(title="R", body="<p>1</p>")
    assert out["action"] == "created" and 4.0 in clock.sleeps


def test_invalid_storage_format_is_rejected_with_the_vendor_message(confluence, clock):
    with (
        confluence(fakes.confluence(clock=clock)) as wiki,
        pytest.raises(ConnectorError, match="xhtml"),
    ):
        wiki.publish_page(title="R", body="<p>a<br></p>")


def test_unknown_space_is_a_clear_error(confluence, clock):
    with (
        confluence(fakes.confluence(clock=clock)) as wiki,
        pytest.raises(ConnectorError, match="SPACE_KEY"),
    ):
        wiki.publish_page(title="R", body="<p/>", space_key="NOPE")


def test_page_lookup_follows_relative_next_links(confluence, clock):
    fake = fakes.confluence(clock=clock)
    for n in range(60):  # legacy duplicates with the same title (allowed in old data)
        fake.pages[str(n)] = {
            "id": str(n),
            "title": "Dup",
            "spaceId": "98306",
            "parentId": None,
            "version": 1,
            "body": "<p/>",
        }
    with confluence(fake) as wiki:
        page = wiki.find_page("Dup", space_id="98306")
    assert page is not None and page["id"] == "0"
    calls = fake.calls("pages")
    assert len(calls) == 3 and all(c.param("cursor") for c in calls[1:])
    assert calls[1].path == "/wiki/api/v2/pages"  # joined with the origin, not /wiki twice
