"""Fake Confluence Cloud REST v2 (spaces, pages) per api-contracts.md section 4."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

import httpx

from opskit.connectors.fakes._base import FakeService

__all__ = ["CONFLUENCE_EMAIL", "CONFLUENCE_TOKEN", "ConfluenceFake"]

CONFLUENCE_EMAIL = "publisher@example.invalid"
CONFLUENCE_TOKEN = "ATATT3xFfGF0FAKECONFLUENCE000"
_NOW = "2024-05-28T16:10:02.113Z"


def _v2_error(status: int, code: str, title: str, detail: str = "") -> httpx.Response:
    return httpx.Response(
        status,
        json={"errors": [{"status": status, "code": code, "title": title, "detail": detail}]},
    )


def _valid_storage(value: str) -> bool:
    try:
        ET.fromstring(f"<root>{value}</root>")
    except ET.ParseError:
        return False
    return True


@dataclass
class ConfluenceFake(FakeService):
    """Confluence v2 fake with version rules, duplicate titles and write-fault modes.

    Named faults: ``"commit_then_504"`` (create/update is stored, the answer is a
    504) and ``"bump_then_409"`` (someone else edits the page first: version + 1,
    then 409).
    """

    email: str = CONFLUENCE_EMAIL
    token: str = CONFLUENCE_TOKEN
    spaces: dict[str, str] = field(default_factory=lambda: {"OPS": "98306", "QA": "98307"})
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    filler_pages: int = 0
    retry_after_s: int = 2
    _next_id: int = field(default=786433, init=False)
    _cursors: dict[str, int] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        for n in range(self.filler_pages):  # same title in other spaces / similar titles
            self._store("98306", f"Old report {n}", "<p>old</p>", None)

    def route_of(self, request: httpx.Request) -> str:
        path = request.url.path
        if path.endswith("/api/v2/spaces"):
            return "spaces"
        if path.endswith("/api/v2/pages"):
            return "create" if request.method == "POST" else "pages"
        if "/api/v2/pages/" in path:
            return "update" if request.method == "PUT" else "page"
        return path

    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        basic = base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        if request.headers.get("Authorization") in (f"Basic {basic}", f"Bearer {self.token}"):
            return None
        return httpx.Response(
            401, json={"code": 401, "message": "Unauthorized; scope does not match"}
        )

    def error(self, status: int, request: httpx.Request) -> httpx.Response:
        if status in (429, 503):
            return httpx.Response(
                status,
                json={
                    "errors": [
                        {"status": status, "code": "TOO_MANY_REQUESTS", "title": "Rate limited"}
                    ]
                },
                headers={"Retry-After": str(self.retry_after_s)},
            )
        return super().error(status, request)

    def special(self, fault: str, request: httpx.Request, route: str) -> httpx.Response | None:
        if fault == "commit_then_504":
            self.handle(route, request, _json(request))
            return httpx.Response(
                504, text="<html>Gateway Timeout</html>", headers={"Content-Type": "text/html"}
            )
        if fault == "bump_then_409":
            page = self.pages.get(request.url.path.rsplit("/", 1)[-1])
            if page is not None:
                page["version"] += 1
                page["body"] = page["body"] + "<p>edited by someone else</p>"
            return _v2_error(
                409,
                "CONFLICT",
                "Version must be incremented on update. Current version is: "
                f"{page['version'] if page else '?'}",
            )
        return super().special(fault, request, route)

    # -- store -------------------------------------------------------------------------------
    def _store(self, space_id: str, title: str, body: str, parent: str | None) -> dict[str, Any]:
        pid = str(self._next_id)
        self._next_id += 1
        page = {
            "id": pid,
            "title": title,
            "spaceId": space_id,
            "parentId": parent,
            "version": 1,
            "body": body,
        }
        self.pages[pid] = page
        return page

    def _view(self, page: dict[str, Any], with_body: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": page["id"],
            "status": "current",
            "title": page["title"],
            "spaceId": page["spaceId"],
            "parentId": page["parentId"],
            "parentType": "page" if page["parentId"] else None,
            "authorId": "5b10ac8d82e05b22cc7d4ef5",
            "createdAt": _NOW,
            "version": {
                "number": page["version"],
                "message": "",
                "minorEdit": False,
                "createdAt": _NOW,
            },
            "_links": {
                "webui": f"/spaces/OPS/pages/{page['id']}/{quote_plus(page['title'])}",
                "tinyui": "/x/AQAM",
            },
        }
        if with_body:
            out["body"] = {"storage": {"representation": "storage", "value": page["body"]}}
        return out

    # -- routes ------------------------------------------------------------------------------
    def handle(self, route: str, request: httpx.Request, body: Any) -> httpx.Response:
        params = request.url.params
        if route == "spaces":
            keys = [k for k in params.get("keys", "").split(",") if k]
            chosen = [k for k in self.spaces if not keys or k in keys][
                : int(params.get("limit", 25))
            ]
            results = [
                {
                    "id": self.spaces[k],
                    "key": k,
                    "name": k.title(),
                    "type": "global",
                    "status": "current",
                }
                for k in chosen
            ]
            return httpx.Response(
                200,
                json={"results": results, "_links": {"base": "https://wiki.example.invalid/wiki"}},
            )
        if route == "pages":
            return self._list(request)
        if route == "page":
            page = self.pages.get(request.url.path.rsplit("/", 1)[-1])
            if page is None:
                return _v2_error(404, "NOT_FOUND", "Page not found")
            return httpx.Response(
                200, json=self._view(page, params.get("body-format") == "storage")
            )
        if route == "create":
            return self._create(body)
        if route == "update":
            return self._update(request.url.path.rsplit("/", 1)[-1], body)
        return _v2_error(404, "NOT_FOUND", "No route")

    def _list(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        limit = int(params.get("limit", 25))
        if limit > 250:
            return _v2_error(400, "INVALID_REQUEST_PARAMETER", "limit must be at most 250")
        offset = 0
        if "cursor" in params:
            if params["cursor"] not in self._cursors:
                return _v2_error(
                    400,
                    "INVALID_REQUEST_PARAMETER",
                    "Provided value for 'cursor' is not the correct type. Expected type is Cursor.",
                    "The provided cursor was not valid.",
                )
            offset = self._cursors[params["cursor"]]
        found = [
            p
            for p in self.pages.values()
            if (not params.get("space-id") or p["spaceId"] == params["space-id"])
            and (not params.get("title") or p["title"] == params["title"])
        ]
        chunk = found[offset : offset + limit]
        payload: dict[str, Any] = {
            "results": [self._view(p, params.get("body-format") == "storage") for p in chunk],
            "_links": {"base": "https://wiki.example.invalid/wiki"},
        }
        headers = {}
        if offset + limit < len(found):
            cursor = self.cursor()
            self._cursors[cursor] = offset + limit
            rest = [(k, v) for k, v in params.multi_items() if k != "cursor"]
            query = str(
                httpx.QueryParams([("cursor", cursor), *rest])
            )  # cursor not last, contains '='
            nxt = f"/wiki/api/v2/pages?{query}"
            payload["_links"]["next"] = nxt
            headers["Link"] = f'<{nxt}>; rel="next"'
        return httpx.Response(200, json=payload, headers=headers)

    def _create(self, body: Any) -> httpx.Response:
        if not isinstance(body, dict) or not body.get("title") or not body.get("spaceId"):
            return _v2_error(400, "INVALID_REQUEST_PARAMETER", "title and spaceId are required")
        value = ((body.get("body") or {}).get("value")) or ""
        if not _valid_storage(value):
            return _v2_error(400, "INVALID_REQUEST_PARAMETER", "Error parsing xhtml")
        if any(
            p["title"] == body["title"] and p["spaceId"] == body["spaceId"]
            for p in self.pages.values()
        ):
            return _v2_error(409, "CONFLICT", "A page with this title already exists in this space")
        page = self._store(str(body["spaceId"]), str(body["title"]), value, body.get("parentId"))
        return httpx.Response(200, json=self._view(page))

    def _update(self, page_id: str, body: Any) -> httpx.Response:
        page = self.pages.get(page_id)
        if page is None:
            return _v2_error(404, "NOT_FOUND", "Page not found")
        if not isinstance(body, dict) or not isinstance(body.get("version"), dict):
            return _v2_error(
                400, "INVALID_REQUEST_PARAMETER", "Must supply an incremented version when updating"
            )
        value = ((body.get("body") or {}).get("value")) or ""
        if not _valid_storage(value):
            return _v2_error(400, "INVALID_REQUEST_PARAMETER", "Error parsing xhtml")
        if int(body["version"].get("number") or 0) != page["version"] + 1:
            return _v2_error(
                409,
                "CONFLICT",
                f"Version must be incremented on update. Current version is: {page['version']}",
            )
        if (
            value != page["body"] or body.get("title") != page["title"]
        ):  # identical body: no new version
            page.update(
                version=page["version"] + 1, body=value, title=body.get("title") or page["title"]
            )
        return httpx.Response(200, json=self._view(page))


def _json(request: httpx.Request) -> Any:
    import json

    try:
        return json.loads(request.content) if request.content else None
    except ValueError:
        return None
