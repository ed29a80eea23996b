"""Confluence Cloud REST v2 connector: publish or update a report page.

Publishing is "find by title, then update": the page is looked up in the space
first; a new page is created only when none exists. Updates send
``version.number = current + 1``; on a 409 (someone else edited) the version is
re-read and the update retried once. Writes are never retried blindly: after a
failed create (timeout, 5xx) the page is looked up again before anything else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from pydantic import SecretStr

from opskit.connectors._atlassian import atlassian_auth
from opskit.connectors._http import DEFAULT_DEADLINE_S, DEFAULT_TIMEOUT_S, BaseConnector, pull
from opskit.connectors._paging import Page, paginate
from opskit.errors import ConnectorError, UnavailableError

__all__ = ["ConfluenceConnector"]

logger = logging.getLogger(__name__)

PAGE_LIMIT = 25


class ConfluenceConnector(BaseConnector):
    """Publish report pages to Confluence Cloud (REST v2).

    Parameters
    ----------
    base_url
        Site URL, ``https://example.atlassian.net`` (``/wiki`` is added when missing).
    api_token, email
        Basic ``email:token`` (Cloud API token); without ``email`` the token is
        sent as ``Bearer``.
    space_key
        Default space for :meth:`publish_page`, e.g. ``"OPS"``.
    timeout_s, deadline_s, max_retries, requests_per_second, progress, sleep, clock, transport
        As for every connector.
    """

    system = "confluence"
    auth_hint = "OPSKIT_CONFLUENCE__EMAIL and OPSKIT_CONFLUENCE__API_TOKEN"

    def __init__(
        self,
        *,
        base_url: str,
        api_token: str | SecretStr,
        email: str = "",
        space_key: str = "",
        timeout_s: float = DEFAULT_TIMEOUT_S,
        deadline_s: float = DEFAULT_DEADLINE_S,
        max_retries: int = 4,
        requests_per_second: float = 5.0,
        progress: bool | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url:
            raise ValueError("base_url is required")
        auth, secrets = atlassian_auth(api_token, email)
        root = base_url.rstrip("/").removesuffix("/api/v2").rstrip("/")
        if not root.endswith("/wiki"):
            root += "/wiki"
        parts = urlsplit(root)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self.space_key = space_key
        self.progress = progress
        super().__init__(
            base_url=root,
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

    # -- reads -------------------------------------------------------------------------------
    @pull
    def space_id(self, space_key: str | None = None) -> str:
        """The numeric v2 id of a space key.

        Raises
        ------
        ConnectorError
            If the space does not exist or is not visible to these credentials.
        """
        key = space_key or self.space_key
        if not key:
            raise ValueError("give space_key (or set OPSKIT_CONFLUENCE__SPACE_KEY)")
        data = self._request("GET", "/api/v2/spaces", params={"keys": key, "limit": 1})
        results = (data or {}).get("results") or []
        if not results or not results[0].get("id"):
            raise ConnectorError(
                f"confluence: space {key!r} not found or not visible; "
                "check OPSKIT_CONFLUENCE__SPACE_KEY and the account's space permissions",
                system=self.system,
                url=self.base_url + "/api/v2/spaces",
            )
        return str(results[0]["id"])

    @pull
    def find_page(self, title: str, *, space_id: str) -> dict[str, Any] | None:
        """The current page titled ``title`` in a space (with its storage body), or ``None``."""

        def fetch(cursor: Hashable | None) -> Page[dict[str, Any]]:
            if cursor is None:
                params = {
                    "space-id": space_id,
                    "title": title,
                    "status": "current",
                    "body-format": "storage",
                    "limit": PAGE_LIMIT,
                }
                data = self._request("GET", "/api/v2/pages", params=params, count=_count)
            else:  # the next link exactly as given (relative to the site origin)
                data = self._request("GET", f"{self._origin}{cursor}", count=_count)
            data = data if isinstance(data, dict) else {}
            nxt = (data.get("_links") or {}).get("next")
            return Page([p for p in data.get("results") or [] if isinstance(p, dict)], nxt or None)

        pages = paginate(fetch, system=self.system, what="pages", progress=False)
        matches = [p for p in pages if p.get("title") == title]
        return matches[0] if matches else None

    @pull
    def get_page(self, page_id: str) -> dict[str, Any]:
        """One page with its storage body and version."""
        data = self._request(
            "GET",
            f"/api/v2/pages/{quote(str(page_id), safe='')}",
            params={"body-format": "storage"},
        )
        return data if isinstance(data, dict) else {}

    # -- writes ------------------------------------------------------------------------------
    @pull
    def publish_page(
        self,
        *,
        title: str,
        body: str,
        space_key: str | None = None,
        parent_id: str | None = None,
        message: str = "opskit auto-update",
    ) -> dict[str, Any]:
        """Create the page, or update it when a page with this title exists.

        Parameters
        ----------
        title
            Page title (unique within the space).
        body
            Confluence storage format (strict XHTML: ``<br/>``, ``&amp;``).
        space_key, parent_id
            Where to create it (default space from the constructor).
        message
            Version message on updates.

        Returns
        -------
        dict
            ``action`` (``created`` | ``updated`` | ``unchanged``), ``id``, ``version``,
            ``title`` and ``url``.

        Raises
        ------
        ConnectorError
            On a rejected write (400 invalid storage format, a second 409...).
        """
        sid = self.space_id(space_key)
        page = self.find_page(title, space_id=sid)
        if page is None:
            try:
                return self._result("created", self._create(sid, title, body, parent_id))
            except UnavailableError:
                # The create may have been committed before the failure: look before acting.
                page = self.find_page(title, space_id=sid)
                if page is None:
                    raise
                logger.warning(
                    "confluence: create of %r failed but the page exists; updating", title
                )
            except ConnectorError as exc:
                if exc.status_code != 409:
                    raise
                page = self.find_page(title, space_id=sid)
                if page is None:
                    raise
                logger.warning("confluence: %r was created concurrently; updating it", title)
        return self._update(page, title, body, message)

    def _create(
        self, space_id: str, title: str, body: str, parent_id: str | None
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "spaceId": space_id,
            "status": "current",
            "title": title,
            "body": {"representation": "storage", "value": body},
        }
        if parent_id:
            payload["parentId"] = str(parent_id)
        data = self._request("POST", "/api/v2/pages", json=payload, idempotent=False)
        return data if isinstance(data, dict) else {}

    def _update(
        self, page: Mapping[str, Any], title: str, body: str, message: str
    ) -> dict[str, Any]:
        for attempt in (1, 2):
            if _storage(page) == body:
                return self._result("unchanged", page)
            number = int((page.get("version") or {}).get("number") or 0) + 1
            payload = {
                "id": str(page["id"]),
                "status": "current",
                "title": title,
                "body": {"representation": "storage", "value": body},
                "version": {"number": number, "message": message},
            }
            try:
                data = self._request(
                    "PUT",
                    f"/api/v2/pages/{quote(str(page['id']), safe='')}",
                    json=payload,
                    idempotent=False,
                )
            except ConnectorError as exc:
                if exc.status_code != 409 or attempt == 2:
                    raise
                logger.warning(
                    "confluence: version conflict on %r; re-reading and retrying once", title
                )
                page = self.get_page(str(page["id"]))
                continue
            return self._result(
                "updated",
                data
                if isinstance(data, dict) and data
                else {**page, "version": {"number": number}},
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def _result(self, action: str, page: Mapping[str, Any]) -> dict[str, Any]:
        links = page.get("_links") or {}
        webui = links.get("webui")
        return {
            "action": action,
            "id": str(page.get("id")),
            "version": int((page.get("version") or {}).get("number") or 0),
            "title": page.get("title"),
            "url": f"{self.base_url.rstrip('/')}{webui}" if webui else None,
        }

    def _probe(self) -> str:
        params: dict[str, Any] = {"limit": 1}
        if self.space_key:
            params["keys"] = self.space_key
        data = self._request("GET", "/api/v2/spaces", params=params, max_retries=1)
        results = (data or {}).get("results") or []
        if self.space_key and not results:
            raise ConnectorError(
                f"confluence: authenticated, but space {self.space_key!r} is not visible",
                system=self.system,
                url=self.base_url + "/api/v2/spaces",
            )
        where = f"space {self.space_key!r} readable" if self.space_key else "spaces readable"
        return f"Confluence reachable; {where}"


def _storage(page: Mapping[str, Any]) -> str | None:
    body = page.get("body") or {}
    storage = body.get("storage") or {}
    return storage.get("value") if isinstance(storage, dict) else None


def _count(data: Any) -> int:
    return len(data.get("results") or []) if isinstance(data, dict) else 0
