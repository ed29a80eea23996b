"""Keep secrets out of messages, logs and reprs.

Two tools: :func:`redact_url` removes credentials from a URL (userinfo and
secret-looking query parameters such as ``api-token``), and :func:`redact_text`
replaces every known secret value (and its Basic-auth encodings) in free text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import SecretStr

__all__ = ["REDACTED", "redact_text", "redact_url", "reveal"]

REDACTED = "***"

#: Query parameter names whose values are never shown.
_SECRET_PARAM = re.compile(
    r"(token|key|secret|password|passwd|pwd|auth|signature|sig|credential|session)",
    re.IGNORECASE,
)
#: Header-like fragments that can leak into free text (``Authorization: Basic ...``).
_AUTH_FRAGMENT = re.compile(
    r"((?:authorization|api-key|x-api-key)\s*[:=]\s*)(?:(?:basic|bearer|api-token)\s+)?[^\s,;\"']+",
    re.IGNORECASE,
)


def reveal(secret: str | SecretStr) -> str:
    """The plain value of a credential given as text or ``SecretStr`` (for building headers only)."""
    return secret.get_secret_value() if isinstance(secret, SecretStr) else secret


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
            [(k, REDACTED if _SECRET_PARAM.search(k) else v) for k, v in pairs], safe="*:(),\"'"
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace each secret (at least 4 characters long) and auth header values in ``text``."""
    out = _AUTH_FRAGMENT.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        out = out.replace(secret, REDACTED)
    return out
