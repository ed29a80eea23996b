"""Keep secrets out of messages, logs and reprs.

Two tools: :func:`redact_url` removes credentials from a URL (userinfo and
the values of secret query parameters such as ``api-token``), and
:func:`redact_text` replaces every known secret value (and its Basic-auth
encodings) in free text.

Only parameters whose *name* says secret are masked (:func:`is_secret_param`):
paging cursors (``nextPageKey``, ``nextPageToken``, ``cursor``) and ids such as
Confluence's ``spaceKey`` stay readable, since they are what an error report
needs to be reproduced.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import SecretStr

__all__ = ["REDACTED", "is_secret_param", "redact_text", "redact_url", "reveal"]

REDACTED = "***"

#: Secret parameter names, compared lower-case without ``-``, ``_`` and ``.``.
_SECRET_NAMES = frozenset(
    {
        "key",  # Google-style ?key=<api key>
        "auth",
        "authorization",
        "code",  # OAuth authorisation code
        "pwd",
        "pass",
        "sig",  # Azure SAS
        "session",
        "sessionid",
        "sid",
        "jwt",
        "assertion",
    }
)
#: ... and names ending like these (``api_key``, ``x-api-key``, ``access_token``, ``client_secret``).
_SECRET_ENDINGS = (
    "token",
    "secret",
    "password",
    "passwd",
    "apikey",
    "accesskey",
    "secretkey",
    "privatekey",
    "signingkey",
    "licensekey",
    "signature",
    "credential",
    "credentials",
)
#: Paging cursors: opaque but not secret (checked first: ``nextPageToken`` ends in "token").
_PAGING_NAMES = frozenset(
    {"nextpagetoken", "pagetoken", "nextpagekey", "pagekey", "cursor", "continuationtoken"}
)
#: Header-like fragments that can leak into free text (``Authorization: Basic ...``).
_AUTH_FRAGMENT = re.compile(
    r"((?:authorization|api-key|x-api-key)\s*[:=]\s*)(?:(?:basic|bearer|api-token)\s+)?[^\s,;\"']+",
    re.IGNORECASE,
)


def reveal(secret: str | SecretStr) -> str:
    """The plain value of a credential given as text or ``SecretStr`` (for building headers only)."""
    return secret.get_secret_value() if isinstance(secret, SecretStr) else secret


def is_secret_param(name: str) -> bool:
    """Whether a query parameter called ``name`` carries a secret.

    >>> [is_secret_param(n) for n in ("api-token", "Api-Key", "access_token", "signature")]
    [True, True, True, True]
    >>> [is_secret_param(n) for n in ("nextPageKey", "nextPageToken", "spaceKey", "keys")]
    [False, False, False, False]
    """
    norm = re.sub(r"[-_.\s]", "", name).lower()
    if norm in _PAGING_NAMES:
        return False
    return norm in _SECRET_NAMES or norm.endswith(_SECRET_ENDINGS)


def redact_url(url: object) -> str:
    """``url`` as text with userinfo and secret query values replaced by ``***``.

    Parameters
    ----------
    url
        A ``str`` or ``httpx.URL``.

    Returns
    -------
    str
        The redacted URL. Unparseable input is returned fully redacted.
    """
    text = str(url)
    try:
        parts = urlsplit(text)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, REDACTED if is_secret_param(k) else v) for k, v in pairs], safe="*:(),\"'"
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace each secret (at least 4 characters long) and auth header values in ``text``."""
    out = _AUTH_FRAGMENT.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        out = out.replace(secret, REDACTED)
    return out
