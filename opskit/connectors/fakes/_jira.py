"""Fake Jira Cloud (v3 enhanced search) and Data Center (v2) per api-contracts.md section 3."""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

import httpx

from opskit.connectors.fakes._base import FakeService, unit
from opskit.connectors.fakes._jql import JqlError, jql_time, parse_jql

__all__ = ["JIRA_EMAIL", "JIRA_TOKEN", "JiraFake"]

JIRA_EMAIL = "analyst@example.invalid"
JIRA_TOKEN = "ATATT3xFfGF0FAKEJIRATOKEN0000"
ANCHOR = datetime(2024, 6, 1, tzinfo=UTC)
STATUSES = (
    ("To Do", "new", "10000"),
    ("In Progress", "indeterminate", "3"),
    ("Blocked", "indeterminate", "10101"),
    ("In Review", "indeterminate", "10102"),
    ("Done", "done", "10001"),
    ("Closed", "done", "6"),
)
PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest", "Blocker", "Minor")
SEVERITIES = ("Sev1", "Sev2", "Sev3", "Sev4")
TEAMS = ("Team Falcon", "Team Heron", "Team Kestrel")
ROOT_CAUSES = ("Config change", "Capacity", "Third-party outage", "Code defect")
#: System fields listed by ``/field``: id, display name, schema type.
SYSTEM_FIELDS = (
    ("summary", "Summary", "string"),
    ("status", "Status", "status"),
    ("created", "Created", "datetime"),
    ("updated", "Updated", "datetime"),
    ("resolutiondate", "Resolved", "datetime"),
    ("duedate", "Due date", "date"),
    ("priority", "Priority", "priority"),
    ("issuetype", "Issue Type", "issuetype"),
    ("project", "Project", "project"),
    ("components", "Components", "array"),
    ("labels", "Labels", "array"),
    ("assignee", "Assignee", "user"),
)
_CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
GONE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)


def _fmt(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}+0000"


def _jira_error(
    status: int, *messages: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(
        status, json={"errorMessages": list(messages), "errors": {}}, headers=headers
    )


@dataclass
class JiraFake(FakeService):
    """Jira fake; ``mode="cloud"`` (token search, bulk changelog) or ``"datacenter"`` (startAt).

    Serves ``/field`` (system and custom fields, Cloud or DC shape) and issues
    whose custom fields (cost, show, severity, team, root cause) carry values.
    JQL date literals are read at ``user_utc_offset_h``, like Jira reads them in
    the searching account's time zone.
    """

    mode: str = "cloud"
    email: str = JIRA_EMAIL
    token: str = JIRA_TOKEN
    n_issues: int = 250
    projects: tuple[str, ...] = ("OPS", "PLAY")
    max_page: int = 100
    many_fields_cap: int | None = 50
    changelog_page: int = 40
    captcha_after: int | None = None
    retry_after_s: int = 2
    reset_in_s: float = 5.0
    cost_field: str = "customfield_10050"
    show_field: str = "customfield_10060"
    severity_field: str = "customfield_10070"
    team_field: str = "customfield_10080"
    root_cause_field: str = "customfield_10090"
    #: More ``(id, name)`` custom fields listed by ``/field`` (e.g. a second "Team").
    extra_fields: tuple[tuple[str, str], ...] = ()
    #: The searching account's UTC offset: JQL date literals are read in it, as in Jira.
    user_utc_offset_h: float = 0.0
    _tokens: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    _bad_logins: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._issue = lru_cache(maxsize=None)(self._make_issue)
        self._zone = timezone(timedelta(hours=self.user_utc_offset_h))

    # -- plumbing ----------------------------------------------------------------------------
    def route_of(self, request: httpx.Request) -> str:
        path = request.url.path
        for suffix, name in (
            ("/search/jql", "search_jql"),
            ("/search/approximate-count", "count"),
            ("/search", "search"),
            ("/changelog/bulkfetch", "bulkfetch"),
            ("/myself", "myself"),
            ("/mypermissions", "mypermissions"),
            ("/field", "field"),
        ):
            if path.endswith(suffix):
                return name
        return "issue" if "/issue/" in path else path

    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        header = request.headers.get("Authorization")
        if header is None:
            return None  # anonymous: served, but sees nothing
        good = {
            f"Basic {base64.b64encode(f'{self.email}:{self.token}'.encode()).decode()}",
            f"Bearer {self.token}",
        }
        if header in good and not (self.captcha_after and self._bad_logins >= self.captcha_after):
            return None
        self._bad_logins += 1
        denied = self.captcha_after is not None and self._bad_logins > self.captcha_after
        reason = "AUTHENTICATION_DENIED" if denied else "AUTHENTICATED_FAILED"
        return httpx.Response(
            401,
            text="<html><body><h1>Unauthorized (401)</h1></body></html>",
            headers={"Content-Type": "text/html", "X-Seraph-LoginReason": reason},
        )

    def _limit_headers(self, *, retry_after: bool) -> dict[str, str]:
        reset = datetime.fromtimestamp(self.clock() + self.reset_in_s, UTC)
        headers = {
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "0",
            "RateLimit-Reason": "jira-cost-based",
        }
        if retry_after:
            headers["Retry-After"] = str(self.retry_after_s)
        return headers

    def error(self, status: int, request: httpx.Request) -> httpx.Response:
        if status == 429:
            return _jira_error(
                429, "Rate limit exceeded.", headers=self._limit_headers(retry_after=True)
            )
        if status == 503:
            return httpx.Response(
                503,
                text="<html>Service Unavailable</html>",
                headers={"Content-Type": "text/html", "Retry-After": str(self.retry_after_s)},
            )
        if status in (400, 403, 404):
            return _jira_error(status, f"fake {status}")
        return super().error(status, request)

    def special(self, fault: str, request: httpx.Request, route: str) -> httpx.Response | None:
        if fault == "429_reset_only":
            return _jira_error(
                429, "Rate limit exceeded.", headers=self._limit_headers(retry_after=False)
            )
        return super().special(fault, request, route)

    # -- data --------------------------------------------------------------------------------
    def _lookup(self) -> dict[str, dict[str, Any]]:
        if not hasattr(self, "_by_ident"):
            table: dict[str, dict[str, Any]] = {}
            for i in range(self.n_issues):
                raw = self._issue(i)
                table[raw["id"]] = table[raw["key"]] = raw
            self._by_ident = table
        return self._by_ident

    def _meta(self, i: int) -> tuple[str, datetime, datetime]:
        project = self.projects[i % len(self.projects)]
        created = (
            ANCHOR
            - timedelta(days=180)
            + timedelta(minutes=int(i * 180 * 1440 / max(self.n_issues, 1)))
        )
        updated = min(created + timedelta(hours=int(240 * unit(self.seed, "u", i))), ANCHOR)
        return project, created, updated

    def _histories(self, i: int, created: datetime, status: int) -> list[dict[str, Any]]:
        path = ["To Do", "In Progress"]
        if STATUSES[status][1] == "done":
            if unit(self.seed, "reopen", i) < 0.15:
                path += [STATUSES[status][0], "In Progress"]
            path.append(STATUSES[status][0])
        elif STATUSES[status][0] not in path:
            path.append(STATUSES[status][0])
        if STATUSES[status][0] == "To Do":
            path = ["To Do"]
        author = {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Dana Ops"}
        if self.mode == "datacenter":
            author = {"name": "dana", "key": "JIRAUSER10100", "displayName": "Dana Ops"}
        return [
            {
                "id": str(20000 + i * 10 + n),
                "author": author,
                "created": _fmt(created + timedelta(hours=6 * (n + 1))),
                "items": [
                    {
                        "field": "status",
                        "fieldtype": "jira",
                        "fieldId": "status",
                        "from": None,
                        "fromString": src,
                        "to": None,
                        "toString": dst,
                    }
                ],
            }
            for n, (src, dst) in enumerate(itertools.pairwise(path))
        ]

    def _make_issue(self, i: int) -> dict[str, Any]:
        project, created, updated = self._meta(i)
        status = int(unit(self.seed, "status", i) * len(STATUSES))
        name, category, sid = STATUSES[status]
        histories = self._histories(i, created, status)
        resolved = (
            created + timedelta(hours=6 * (len(histories) + 1)) if category == "done" else None
        )
        due = (
            (created + timedelta(days=int(3 + 20 * unit(self.seed, "due", i)))).date().isoformat()
            if i % 3
            else None
        )
        fields: dict[str, Any] = {
            "summary": f"Incident {i}: rebuffering spike on device {i % 7}",
            "status": {
                "name": name,
                "id": sid,
                "statusCategory": {"key": category, "name": category},
            },
            "created": _fmt(created),
            "updated": _fmt(updated),
            "resolutiondate": _fmt(resolved) if resolved else None,
            "duedate": due,
            "priority": {
                "name": PRIORITIES[i % len(PRIORITIES)],
                "id": str(i % len(PRIORITIES) + 1),
            },
            "issuetype": {"name": ("Incident", "Bug", "Task")[i % 3], "id": "10004"},
            "project": {"key": project, "id": str(10000 + self.projects.index(project))},
            "components": [{"name": ("Player", "CDN", "Backend")[i % 3]}] if i % 5 else [],
            "labels": ["prod"],
            "assignee": {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Dana Ops"},
            self.cost_field: round(5000 * unit(self.seed, "cost", i) - 1000, 2) if i % 4 else None,
            self.show_field: {"value": f"Show-{i % 9}", "id": str(i % 9)},
            self.severity_field: {"value": SEVERITIES[i % 4]} if i % 6 else None,
            self.team_field: {"id": f"team-{i % 3}", "name": TEAMS[i % 3], "isShared": True},
            self.root_cause_field: (
                {"value": ROOT_CAUSES[i % 4], "id": str(10400 + i % 4)} if i % 7 else None
            ),
            "customfield_99999": {"unknown": "forward-compatible extra"},
        }
        return {
            "id": str(10000 + i),
            "key": f"{project}-{i + 1}",
            "fields": fields,
            "_histories": histories,
        }

    def _view(self, i: int, fields: list[str], expand: set[str]) -> dict[str, Any]:
        raw = self._issue(i)
        out: dict[str, Any] = {"id": raw["id"]}
        if fields:
            out["key"] = raw["key"]
            out["self"] = f"https://jira.example.invalid/rest/api/3/issue/{raw['id']}"
            wanted = (
                raw["fields"]
                if "*all" in fields
                else {k: v for k, v in raw["fields"].items() if k in fields}
            )
            out["fields"] = wanted
        if "changelog" in expand:
            hist = raw["_histories"] if self.mode == "datacenter" else raw["_histories"][-20:]
            out["changelog"] = {
                "startAt": 0,
                "maxResults": len(hist),
                "total": len(hist),
                "histories": hist,
            }
        return out

    def _field_list(self) -> list[dict[str, Any]]:
        """``GET /rest/api/{2|3}/field``: every field, system then custom."""
        cloud = self.mode == "cloud"
        custom = [
            (self.cost_field, "Cost overrun (USD)", "number", "float"),
            (self.show_field, "Show", "option", "select"),
            (self.severity_field, "Severity", "option", "select"),
            (self.team_field, "Team", "team", "atlassian-team"),
            (self.root_cause_field, "Root cause", "option", "select"),
            ("customfield_99999", "Legacy widget", "any", "textfield"),
            *((fid, name, "string", "textfield") for fid, name in self.extra_fields),
        ]
        out: list[dict[str, Any]] = []
        for fid, name, kind in SYSTEM_FIELDS:
            item = {
                "id": fid,
                "name": name,
                "custom": False,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [fid],
                "schema": {"type": kind, "system": fid},
            }
            out.append({"key": fid, **item} if cloud else item)
        for fid, name, kind, plugin in custom:
            number = int(fid.rsplit("_", 1)[1])
            item = {
                "id": fid,
                "name": name,
                "custom": True,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [f"cf[{number}]", name],
                "schema": {"type": kind, "custom": _CF + plugin, "customId": number},
            }
            out.append({"key": fid, "untranslatedName": name, **item} if cloud else item)
        return out

    def _match(self, jql: str) -> list[int]:
        clauses, order = parse_jql(jql)
        bounded = any(
            c.field == "project" or (c.field in ("updated", "created") and c.op in (">=", ">"))
            for c in clauses
        )
        if not bounded:
            raise JqlError(
                "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
            )
        hits = []
        for i in range(self.n_issues):
            project, created, updated = self._meta(i)
            ok = True
            for c in clauses:
                if c.field == "project":
                    ok = (
                        project in c.values
                        if c.op == "in"
                        else (c.op == "=" and project == c.values[0])
                    )
                elif c.field in ("updated", "created"):
                    ts, bound = (
                        (updated if c.field == "updated" else created),
                        jql_time(c.values[0], now=ANCHOR, zone=self._zone),
                    )
                    ok = {
                        ">=": ts >= bound,
                        ">": ts > bound,
                        "<": ts < bound,
                        "<=": ts <= bound,
                    }.get(c.op, False)
                elif c.field == "status":
                    ok = self._issue(i)["fields"]["status"]["name"] in c.values
                if not ok:
                    break
            if ok:
                hits.append(i)
        if order:
            key = (
                (lambda i: (self._meta(i)[2], i))
                if order[0] == "updated"
                else (lambda i: (self._meta(i)[1], i))
            )
            hits.sort(key=key, reverse=order[1] == "DESC")
        return hits

    # -- routes ------------------------------------------------------------------------------
    def handle(self, route: str, request: httpx.Request, body: Any) -> httpx.Response:
        cloud = self.mode == "cloud"
        anonymous = "Authorization" not in request.headers
        if route == "search" and cloud:
            return _jira_error(410, GONE)
        if route in ("search_jql", "bulkfetch", "count") and not cloud:
            return _jira_error(404, "null for uri")
        args: dict[str, Any] = dict(body) if isinstance(body, dict) else dict(request.url.params)
        try:
            if route == "search_jql":
                return self._search_cloud(args, anonymous)
            if route == "search":
                return self._search_dc(args, anonymous)
            if route == "count":
                return httpx.Response(
                    200, json={"count": len(self._match(str(args.get("jql", ""))))}
                )
        except JqlError as exc:
            return _jira_error(400, str(exc))
        if anonymous and route in ("myself", "bulkfetch", "issue"):
            return _jira_error(401, "You are not authenticated.")
        if route == "bulkfetch":
            return self._bulkfetch(args)
        if route == "myself":
            me = (
                {"accountId": "5b10ac8d82e05b22cc7d4ef5"}
                if cloud
                else {"name": "dana", "key": "JIRAUSER10100"}
            )
            return httpx.Response(200, json={**me, "displayName": "Dana Ops", "active": True})
        if route == "field":
            return httpx.Response(200, json=self._field_list())
        if route == "mypermissions":
            return httpx.Response(
                200, json={"permissions": {"BROWSE_PROJECTS": {"havePermission": not anonymous}}}
            )
        if route == "issue":
            key = request.url.path.rsplit("/", 1)[-1]
            raw = self._lookup().get(key)
            idx = int(raw["id"]) - 10000 if raw else None
            if idx is None:
                return _jira_error(
                    404, "Issue does not exist or you do not have permission to see it."
                )
            expand = set(str(request.url.params.get("expand", "")).split(","))
            return httpx.Response(200, json=self._view(idx, ["status"], expand))
        return _jira_error(404, "null for uri")

    def _fields(self, args: dict[str, Any]) -> list[str]:
        raw = args.get("fields")
        return [f for f in (raw.split(",") if isinstance(raw, str) else raw or []) if f]

    def _cap(self, requested: int, fields: list[str]) -> int:
        cap = self.max_page
        if self.many_fields_cap is not None and (len(fields) > 10 or "*all" in fields):
            cap = min(cap, self.many_fields_cap)
        return max(1, min(requested, cap))

    def _search_cloud(self, args: dict[str, Any], anonymous: bool) -> httpx.Response:
        jql = str(args.get("jql") or "")
        fields = self._fields(args)
        expand = args.get("expand") or ""
        if not isinstance(expand, str):
            return _jira_error(400, "expand must be a comma-separated string")
        token = args.get("nextPageToken")
        if token is not None:
            state = self._tokens.pop(str(token), None)  # single use: a replayed token is rejected
            if state is None or state["jql"] != jql:
                return _jira_error(400, "The provided next page token is invalid or expired.")
            hits, offset = state["hits"], state["offset"]
        else:
            hits, offset = ([] if anonymous else self._match(jql)), 0  # startAt is silently ignored
        size = self._cap(int(args.get("maxResults") or 50), fields)
        page = [self._view(i, fields, set(expand.split(","))) for i in hits[offset : offset + size]]
        payload: dict[str, Any] = {"issues": page}
        if offset + size < len(hits):
            nxt = self.cursor()
            self._tokens[nxt] = {"jql": jql, "hits": hits, "offset": offset + size}
            payload.update(nextPageToken=nxt, isLast=False)
        else:
            payload["isLast"] = True  # and no nextPageToken key at all
        headers = {"X-RateLimit-NearLimit": "true"} if len(self.requests) % 10 == 0 else None
        return httpx.Response(200, json=payload, headers=headers)

    def _search_dc(self, args: dict[str, Any], anonymous: bool) -> httpx.Response:
        fields = self._fields(args) or ["*all"]
        expand = args.get("expand") or []
        expand = set(expand.split(",") if isinstance(expand, str) else expand)
        hits = [] if anonymous else self._match(str(args.get("jql") or ""))
        start = int(args.get("startAt") or 0)
        size = self._cap(int(args.get("maxResults") or 50), [])
        page = [self._view(i, fields, expand) for i in hits[start : start + size]]
        return httpx.Response(
            200,
            json={
                "expand": "names,schema",
                "startAt": start,
                "maxResults": size,
                "total": len(hits),
                "issues": page,
            },
        )

    def _bulkfetch(self, args: dict[str, Any]) -> httpx.Response:
        ids = [str(x) for x in args.get("issueIdsOrKeys") or []]
        field_ids = args.get("fieldIds") or []
        if not ids or len(ids) > 1000:
            return _jira_error(400, "issueIdsOrKeys must contain between 1 and 1000 items.")
        if len(field_ids) > 10:
            return _jira_error(400, "fieldIds must contain at most 10 items.")
        token = args.get("nextPageToken")
        if token:
            state = self._tokens.pop(str(token), None)
            if state is None:
                return _jira_error(400, "The provided next page token is invalid or expired.")
            entries, offset = state["entries"], state["offset"]
        else:
            lookup = self._lookup()
            entries = sorted(
                (
                    (h["created"], lookup[x]["id"], h)
                    for x in ids
                    if x in lookup
                    for h in lookup[x]["_histories"]
                ),
                key=lambda e: (e[0], int(e[1])),
            )
            offset = 0
        size = max(1, min(int(args.get("maxResults") or 1000), self.changelog_page))
        grouped: dict[str, list[dict[str, Any]]] = {}
        for _, issue_id, history in entries[offset : offset + size]:
            grouped.setdefault(issue_id, []).append(history)
        payload: dict[str, Any] = {
            "issueChangeLogs": [{"issueId": k, "changeHistories": v} for k, v in grouped.items()]
        }
        if offset + size < len(entries):
            nxt = self.cursor()
            self._tokens[nxt] = {"entries": entries, "offset": offset + size}
            payload["nextPageToken"] = nxt
        return httpx.Response(200, json=payload)
