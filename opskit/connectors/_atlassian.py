"""Authentication shared by the Atlassian connectors (Jira, Confluence)."""

from __future__ import annotations

import base64

from pydantic import SecretStr

from opskit.connectors._redact import reveal

__all__ = ["atlassian_auth"]


def atlassian_auth(api_token: str | SecretStr, email: str = "") -> tuple[str, list[str]]:
    """The ``Authorization`` header value and the secrets to redact from logs and errors.

    With ``email``: Basic ``email:token`` (Cloud API tokens). Without: ``Bearer token``
    (Data Center personal access tokens, or Cloud OAuth).
    """
    token = reveal(api_token)
    if email:
        basic = base64.b64encode(f"{email}:{token}".encode()).decode()
        return f"Basic {basic}", [token, basic]
    return f"Bearer {token}", [token]
