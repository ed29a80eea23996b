"""Contract-following fake vendor servers for tests, demos and benchmarks.

Each factory returns a callable ``httpx.Request -> httpx.Response`` that follows
the vendor contract in ``docs/api-contracts.md`` (pagination, auth shapes, rate
limiting headers, error bodies), records every request in ``.requests`` and
plays scripted faults queued with ``.queue(route, 429, "html", "timeout", ...)``.

Use a fake through ``httpx.MockTransport``::

    with NewRelicConnector(api_key=fakes.NEWRELIC_KEY, account_id=fakes.NEWRELIC_ACCOUNT,
                           transport=httpx.MockTransport(fakes.newrelic())) as nr:
        ...

or through a real HTTP server on 127.0.0.1 with :func:`serve`::

    with fakes.serve(fakes.jira()) as base_url:
        with JiraConnector(base_url=base_url, ...) as jira:
            ...
"""

from __future__ import annotations

from opskit.connectors.fakes._base import FakeService, Fault, Recorded, Trickle, serve
from opskit.connectors.fakes._confluence import CONFLUENCE_EMAIL, CONFLUENCE_TOKEN, ConfluenceFake
from opskit.connectors.fakes._conviva import CONVIVA_CLIENT_ID, CONVIVA_CLIENT_SECRET, ConvivaFake
from opskit.connectors.fakes._dynatrace import ANCHOR_MS, DYNATRACE_TOKEN, DynatraceFake
from opskit.connectors.fakes._jira import JIRA_EMAIL, JIRA_TOKEN, JiraFake
from opskit.connectors.fakes._newrelic import NEWRELIC_ACCOUNT, NEWRELIC_KEY, NewRelicFake

__all__ = [
    "ANCHOR_MS",
    "CONFLUENCE_EMAIL",
    "CONFLUENCE_TOKEN",
    "CONVIVA_CLIENT_ID",
    "CONVIVA_CLIENT_SECRET",
    "DYNATRACE_TOKEN",
    "JIRA_EMAIL",
    "JIRA_TOKEN",
    "NEWRELIC_ACCOUNT",
    "NEWRELIC_KEY",
    "ConfluenceFake",
    "ConvivaFake",
    "DynatraceFake",
    "FakeService",
    "Fault",
    "JiraFake",
    "NewRelicFake",
    "Recorded",
    "Trickle",
    "confluence",
    "conviva",
    "dynatrace",
    "jira",
    "newrelic",
    "serve",
]

#: ``fakes.newrelic(...)`` etc.: the fake classes under their vendor names.
newrelic = NewRelicFake
dynatrace = DynatraceFake
jira = JiraFake
confluence = ConfluenceFake
conviva = ConvivaFake
