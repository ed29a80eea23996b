"""Jira connector: Cloud (REST v3 enhanced search) and Data Center (REST v2).

* Cloud: ``POST /rest/api/3/search/jql`` paged by ``nextPageToken`` until
  ``isLast`` (the token is absent on the last page); status history from
  ``POST /rest/api/3/changelog/bulkfetch`` (<= 1000 issues per call, token paged).
* Data Center: ``POST /rest/api/2/search`` paged by ``startAt`` against
  ``total`` (trusting the echoed ``maxResults``), with ``expand=changelog``.

JQL is built with :mod:`opskit.connectors.jql` (every value quoted). Jira reads
JQL date literals in the *account's* time zone, so a date window is sent one
day wider on each side and then applied exactly, in UTC, to the issues returned.

Custom fields (cost, team, show, root cause...) are given as ids
(``customfield_10042``) or display names and resolved once per connector with
``GET /rest/api/{2|3}/field``; :meth:`JiraConnector.fields` lists them.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote

import httpx
import pandas as pd
from pydantic import SecretStr

from opskit.connectors._atlassian import atlassian_auth
from opskit.connectors._frames import TimeLike, live_frame, stamp_live, to_utc
from opskit.connectors._http import DEFAULT_DEADLINE_S, DEFAULT_TIMEOUT_S, BaseConnector, pull
from opskit.connectors._jira_fields import ROLES, JiraField, parse_fields, resolve_field
from opskit.connectors._jira_map import (
    COLUMNS,
    DONE_NAMES,
    FieldMap,
    issue_row,
    parse_time,
    status_changes,
)
from opskit.connectors._paging import Page, paginate
from opskit.connectors.jql import build_jql
from opskit.errors import AuthError, ConfigError, ConnectorError, ResponseError
from opskit.schemas import ProductionIssues

__all__ = ["DATE_FIELDS", "JiraConnector", "JiraField"]

logger = logging.getLogger(__name__)

#: Issue dates a window can filter on.
DATE_FIELDS = ("created", "updated")
#: JQL dates are read in the account's time zone (UTC-12 .. UTC+14): ask for a day more.
JQL_ZONE_SLACK = pd.Timedelta(days=1)

BASE_FIELDS = [
    "summary",
    "status",
    "created",
    "updated",
    "resolutiondate",
    "duedate",
    "priority",
    "issuetype",
    "project",
    "components",
    "labels",
    "assignee",
]
BULK_CHANGELOG_MAX_ISSUES = 1000


class JiraConnector(BaseConnector):
    """Read issues and status transitions from Jira Cloud or Data Center.

    Parameters
    ----------
    base_url
        Site URL, e.g. ``https://example.atlassian.net`` (Cloud) or
        ``https://jira.example.com/context`` (Data Center).
    api_token
        API token (Cloud, with ``email``) or personal access token (DC, sent as Bearer).
    email
        Cloud account email: Basic ``email:token``. Empty: ``Bearer token``.
    deployment
        ``"cloud"`` or ``"datacenter"``.
    cost_field, budget_field, delay_field, show_field, severity_field, team_field, root_cause_field
        The fields holding those values: an id (``customfield_10050``, ``cf[10050]``)
        or a display name (``"Cost overrun"``), resolved with the fields API on the
        first pull (settings ``OPSKIT_JIRA__FIELDS__COST`` etc.). ``cost_overrun_usd``
        is ``cost_field`` (minus ``budget_field`` when given); ``delay_days`` is
        ``delay_field`` or computed from the due date.
    status_map, priority_map
        Override mapping of (lower-case) status names to ``open|in_progress|blocked|
        in_review|done`` and of priority names to ``Highest..Lowest``.
    page_size
        ``maxResults`` asked for (the server may return fewer).
    timeout_s, deadline_s, max_retries, requests_per_second, progress, sleep, clock, transport
        As for every connector.
    """

    system = "jira"
    auth_hint = "OPSKIT_JIRA__EMAIL and OPSKIT_JIRA__API_TOKEN"

    def __init__(
        self,
        *,
        base_url: str,
        api_token: str | SecretStr,
        email: str = "",
        deployment: str = "cloud",
        cost_field: str | None = None,
        budget_field: str | None = None,
        delay_field: str | None = None,
        show_field: str | None = None,
        severity_field: str | None = None,
        team_field: str | None = None,
        root_cause_field: str | None = None,
        status_map: Mapping[str, str] | None = None,
        priority_map: Mapping[str, str] | None = None,
        page_size: int = 100,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        deadline_s: float = DEFAULT_DEADLINE_S,
        max_retries: int = 4,
        requests_per_second: float = 5.0,
        progress: bool | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if deployment not in ("cloud", "datacenter"):
            raise ValueError("deployment must be 'cloud' or 'datacenter'")
        if not base_url:
            raise ValueError("base_url is required")
        auth, secrets = atlassian_auth(api_token, email)
        self.deployment = deployment
        self.api = "/rest/api/3" if deployment == "cloud" else "/rest/api/2"
        self.page_size = int(page_size)
        self.progress = progress
        self._resolved: dict[str, JiraField] | None = None
        self.field_map = FieldMap(
            cost_field=cost_field,
            budget_field=budget_field,
            delay_field=delay_field,
            show_field=show_field,
            severity_field=severity_field,
            team_field=team_field,
            root_cause_field=root_cause_field,
            status_map={k.lower(): v for k, v in (status_map or {}).items()},
            priority_map=dict(priority_map or {}),
        )
        super().__init__(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": auth, "Content-Type": "application/json"},
            secrets=secrets,
            timeout_s=timeout_s,
            deadline_s=deadline_s,
            max_retries=max_retries,
            requests_per_second=requests_per_second,
            sleep=sleep,
            clock=clock,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"JiraConnector(base_url={self.base_url!r}, deployment={self.deployment!r})"

    def _auth_advice(self, response: httpx.Response, status: int) -> str:
        reason = response.headers.get("X-Seraph-LoginReason", "")
        if "AUTHENTICATION_DENIED" in reason:
            return (
                "Jira requires a CAPTCHA after failed logins: sign in once in a browser, "
                f"then fix {self.auth_hint}."
            )
        return super()._auth_advice(response, status)

    # -- search ------------------------------------------------------------------------------
    @pull
    def search(
        self,
        jql: str,
        *,
        fields: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Every issue matching ``jql`` (trusted text; build it with :func:`build_jql`).

        Returns
        -------
        list of dict
            Raw issue payloads, each exactly once, in server order.
        """
        wanted = list(fields or BASE_FIELDS)
        if self.deployment == "cloud":
            return self._search_cloud(jql, wanted, expand)
        return self._search_dc(jql, wanted, expand)

    def _search_cloud(
        self, jql: str, fields: list[str], expand: Sequence[str] | None
    ) -> list[dict[str, Any]]:
        def fetch(cursor: Hashable | None) -> Page[dict[str, Any]]:
            body: dict[str, Any] = {"jql": jql, "maxResults": self.page_size, "fields": fields}
            if expand:
                body["expand"] = ",".join(expand)  # a comma-separated string, even in POST
            if cursor is not None:
                body["nextPageToken"] = cursor
            data = self._request(
                "POST", f"{self.api}/search/jql", json=body, idempotent=True, count=_count_issues
            )
            data = data if isinstance(data, dict) else {}
            issues = [i for i in data.get("issues") or [] if isinstance(i, dict)]
            token = data.get("nextPageToken")
            last = data.get("isLast") is True or not token
            return Page(issues, None if last else token)

        return _dedupe(paginate(fetch, system=self.system, what="issues", progress=self.progress))

    def _search_dc(
        self, jql: str, fields: list[str], expand: Sequence[str] | None
    ) -> list[dict[str, Any]]:
        def fetch(cursor: Hashable | None) -> Page[dict[str, Any]]:
            start = int(cursor or 0)  # type: ignore[call-overload]
            body: dict[str, Any] = {
                "jql": jql,
                "startAt": start,
                "maxResults": self.page_size,
                "fields": fields,
            }
            if expand:
                body["expand"] = list(expand)
            data = self._request(
                "POST", f"{self.api}/search", json=body, idempotent=True, count=_count_issues
            )
            data = data if isinstance(data, dict) else {}
            issues = [i for i in data.get("issues") or [] if isinstance(i, dict)]
            total = int(data.get("total") or 0)
            served_from = int(data.get("startAt", start) or 0)
            nxt = served_from + len(issues)
            return Page(issues, nxt if issues and nxt < total else None, total=total)

        return _dedupe(paginate(fetch, system=self.system, what="issues", progress=self.progress))

    # -- changelog ---------------------------------------------------------------------------
    @pull
    def fetch_changelogs(self, issue_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Status change histories per issue id (Cloud bulk fetch; DC per issue).

        Returns
        -------
        dict
            ``{issue_id_or_key: [history, ...]}``, histories oldest first.
        """
        out: dict[str, list[dict[str, Any]]] = {str(i): [] for i in issue_ids}
        if self.deployment != "cloud":
            for key in out:
                data = self._request(
                    "GET",
                    f"{self.api}/issue/{quote(key, safe='')}",
                    params={"expand": "changelog", "fields": "status"},
                )
                out[key] = list(((data or {}).get("changelog") or {}).get("histories") or [])
            return out
        ids = list(out)
        for i in range(0, len(ids), BULK_CHANGELOG_MAX_ISSUES):
            chunk = ids[i : i + BULK_CHANGELOG_MAX_ISSUES]

            def fetch(cursor: Hashable | None, chunk: list[str] = chunk) -> Page[dict[str, Any]]:
                body: dict[str, Any] = {
                    "issueIdsOrKeys": chunk,
                    "fieldIds": ["status"],
                    "maxResults": 1000,
                    "nextPageToken": cursor,
                }
                data = self._request(
                    "POST",
                    f"{self.api}/changelog/bulkfetch",
                    json=body,
                    idempotent=True,
                    count=lambda d: (
                        len(d.get("issueChangeLogs") or []) if isinstance(d, dict) else 0
                    ),
                )
                data = data if isinstance(data, dict) else {}
                logs = [x for x in data.get("issueChangeLogs") or [] if isinstance(x, dict)]
                return Page(logs, data.get("nextPageToken") or None)

            for log in paginate(
                fetch, system=self.system, what="changelogs", progress=self.progress
            ):
                out.setdefault(str(log.get("issueId")), []).extend(log.get("changeHistories") or [])
        return out

    @pull
    def fetch_transitions(self, issues: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
        """Status transitions of the given raw issues (from :meth:`search`).

        Returns
        -------
        pandas.DataFrame
            ``key``, ``timestamp`` (UTC), ``from_status``, ``to_status``, ``provenance``.
        """
        histories = self._histories(issues)
        rows = [
            {"key": i["key"], "timestamp": when, "from_status": src, "to_status": dst}
            for i in issues
            for when, src, dst in status_changes(histories.get(str(i.get("key")), []))
        ]
        frame = pd.DataFrame(rows, columns=["key", "timestamp", "from_status", "to_status"])
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
        return stamp_live(frame, system=self.system, clock=self._clock)

    def _histories(self, issues: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """Histories keyed by issue key (embedded DC changelog when present)."""
        out: dict[str, list[dict[str, Any]]] = {}
        missing = []
        for issue in issues:
            embedded = (issue.get("changelog") or {}).get("histories")
            if self.deployment == "datacenter" and embedded is not None:
                out[str(issue["key"])] = list(embedded)
            else:
                missing.append(issue)
        if missing:
            by_id = self.fetch_changelogs(
                [
                    str(i.get("id") or i["key"]) if self.deployment == "cloud" else str(i["key"])
                    for i in missing
                ]
            )
            for issue in missing:
                ident = (
                    str(issue.get("id") or issue["key"])
                    if self.deployment == "cloud"
                    else str(issue["key"])
                )
                out[str(issue["key"])] = by_id.get(ident, [])
        return out

    # -- shaped pull -------------------------------------------------------------------------
    @pull
    def fetch_issues(
        self,
        *,
        projects: Sequence[str] | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        date_field: Literal["created", "updated"] = "updated",
        jql: str | None = None,
        with_changelog: bool = True,
    ) -> pd.DataFrame:
        """Issues as a ``ProductionIssues`` frame.

        Parameters
        ----------
        projects
            Project keys (values are quoted).
        since, until
            The window, ``since <= date < until`` in UTC, on ``date_field``. The
            JQL asks for a day more on each side (Jira reads JQL dates in the
            account's time zone) and the window is then applied exactly.
        date_field
            ``"created"`` (issues opened in the window) or ``"updated"`` (issues
            touched in it; the default, for compatibility).
        jql
            A complete, trusted JQL query instead of the filters (no window applied).
        with_changelog
            Fetch status history to count reopenings (``reopen_count``; else 0).

        Returns
        -------
        pandas.DataFrame
            :class:`opskit.schemas.ProductionIssues`, one row per issue.

        Raises
        ------
        ConfigError
            If a configured field id or name matches no field, or a name matches several.

        Examples
        --------
        >>> import httpx
        >>> from opskit.connectors import fakes
        >>> fake = fakes.jira(user_utc_offset_h=10)  # JQL dates read at UTC+10
        >>> with JiraConnector(base_url="https://jira.example.invalid", email=fakes.JIRA_EMAIL,
        ...                    api_token=fakes.JIRA_TOKEN, team_field="Team",
        ...                    transport=httpx.MockTransport(fake), progress=False) as j:
        ...     df = j.fetch_issues(projects=["OPS"], since="2024-05-01", until="2024-05-15",
        ...                         date_field="created", with_changelog=False)
        >>> bool(df["created"].min() >= pd.Timestamp("2024-05-01", tz="UTC")), bool(df["team"].all())
        (True, True)
        """
        if date_field not in DATE_FIELDS:
            raise ValueError(f"date_field must be one of {DATE_FIELDS}, got {date_field!r}")
        lo = to_utc(since) if since is not None else None
        hi = to_utc(until) if until is not None else None
        if jql:
            query = jql
        else:
            query = build_jql(
                projects=projects,
                since=lo - JQL_ZONE_SLACK if lo is not None else None,
                until=hi + JQL_ZONE_SLACK if hi is not None else None,
                date_field=date_field,
                order_by=f"{date_field} ASC",
            )
        fmap = self._field_map()
        fields = BASE_FIELDS + fmap.custom_fields()
        expand = ["changelog"] if with_changelog and self.deployment == "datacenter" else None
        issues = self.search(query, fields=fields, expand=expand)
        if not jql and (lo is not None or hi is not None):
            issues = _in_window(issues, date_field, lo, hi)
        histories = self._histories(issues) if with_changelog and issues else {}
        done = set(DONE_NAMES)
        for issue in issues:
            status = (issue.get("fields") or {}).get("status") or {}
            if (status.get("statusCategory") or {}).get("key") == "done" and status.get("name"):
                done.add(str(status["name"]).lower())
        as_of = pd.Timestamp(self._clock(), unit="s", tz="UTC")
        rows = []
        for issue in issues:
            row = issue_row(
                issue,
                fmap=fmap,
                as_of=as_of,
                histories=histories.get(str(issue.get("key"))),
                done_names=done,
                system=self.system,
            )
            if row is not None:
                rows.append(row)
        return live_frame(
            rows,
            columns=COLUMNS,
            schema=ProductionIssues,
            system=self.system,
            clock=self._clock,
            detail=f"Jira {self.deployment}",
        )

    # -- fields ------------------------------------------------------------------------------
    @pull
    def fields(self) -> list[JiraField]:
        """Every field this account can see (system and custom), from the fields API.

        Returns
        -------
        list of JiraField
            ``id``, ``name``, ``custom``, ``type`` (schema type) and ``clause_names``.

        Examples
        --------
        >>> import httpx
        >>> from opskit.connectors import fakes
        >>> with JiraConnector(base_url="https://jira.example.invalid", email=fakes.JIRA_EMAIL,
        ...                    api_token=fakes.JIRA_TOKEN,
        ...                    transport=httpx.MockTransport(fakes.jira())) as j:
        ...     [(f.id, f.type) for f in j.fields() if f.name == "Cost overrun (USD)"]
        [('customfield_10050', 'number')]
        """
        payload = self._request("GET", f"{self.api}/field", count=_count_list)
        fields = parse_fields(payload)
        if fields is None:
            raise ResponseError(
                "jira: the fields API did not answer with a list of fields",
                system=self.system,
                url=f"{self.base_url}{self.api}/field",
                status_code=200,
            )
        return fields

    @pull
    def resolve_fields(self, fields: Sequence[JiraField] | None = None) -> dict[str, JiraField]:
        """The field each configured role reads (``{"cost": JiraField(...), ...}``).

        Parameters
        ----------
        fields
            The instance's fields (default: asked for with :meth:`fields`).

        Raises
        ------
        ConfigError
            If a configured id or name matches no field, or a name matches several.
        """
        configured = self._configured()
        if not configured:
            return {}
        known = list(fields) if fields is not None else self.fields()
        return {role: resolve_field(role, value, known) for role, value in configured.items()}

    def _configured(self) -> dict[str, str]:
        values = {role: getattr(self.field_map, f"{role}_field") for role in ROLES}
        return {role: str(v) for role, v in values.items() if v}

    def _field_map(self) -> FieldMap:
        """The field map with every configured name resolved to its id (once per connector)."""
        configured = self._configured()
        if not configured:
            return self.field_map
        if self._resolved is None:
            try:
                self._resolved = self.resolve_fields()
            except ConnectorError as exc:
                if exc.status_code not in (403, 404, 405):  # network, 401, 5xx: the pull fails
                    raise
                if not all(_looks_like_id(v) for v in configured.values()):
                    raise ConfigError(
                        f"jira: cannot resolve field names without the fields API ({exc}); "
                        "set field ids (customfield_NNNNN) instead"
                    ) from exc
                logger.warning("jira: fields API refused (%s); using the field ids as given", exc)
                self._resolved = {}
        ids: dict[str, Any] = {f"{role}_field": f.id for role, f in self._resolved.items()}
        return dataclasses.replace(self.field_map, **ids)

    def _probe(self) -> str:
        me = self._request("GET", f"{self.api}/myself", max_retries=1)
        if not isinstance(me, dict) or not (me.get("accountId") or me.get("name") or me.get("key")):
            raise _not_authenticated(self)
        perms = self._request(
            "GET",
            f"{self.api}/mypermissions",
            params={"permissions": "BROWSE_PROJECTS"},
            max_retries=1,
        )
        browse = ((perms or {}).get("permissions") or {}).get("BROWSE_PROJECTS") or {}
        if not browse.get("havePermission"):
            return "authenticated, but BROWSE_PROJECTS is not granted: searches will return nothing"
        return f"Jira {self.deployment} reachable; authenticated; BROWSE_PROJECTS granted"


def _not_authenticated(conn: JiraConnector) -> AuthError:
    return AuthError(
        f"jira: request was served anonymously; check {conn.auth_hint}",
        system=conn.system,
        url=conn.base_url,
        status_code=200,
    )


def _looks_like_id(value: str) -> bool:
    return value.startswith("customfield_")


def _in_window(
    issues: list[dict[str, Any]],
    date_field: str,
    lo: pd.Timestamp | None,
    hi: pd.Timestamp | None,
) -> list[dict[str, Any]]:
    """The issues whose ``date_field`` is in ``[lo, hi)`` (UTC); undated ones are dropped."""
    kept, undated = [], 0
    for issue in issues:
        when = parse_time((issue.get("fields") or {}).get(date_field))
        if when is None:
            undated += 1
        elif (lo is None or when >= lo) and (hi is None or when < hi):
            kept.append(issue)
    if undated:
        logger.warning("jira: %d issues without a %s time were left out", undated, date_field)
    return kept


def _count_list(data: Any) -> int:
    return len(data) if isinstance(data, list) else 0


def _count_issues(data: Any) -> int:
    return len(data.get("issues") or []) if isinstance(data, dict) else 0


def _dedupe(issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for issue in issues:
        seen.setdefault(str(issue.get("id") or issue.get("key")), issue)
    return list(seen.values())
