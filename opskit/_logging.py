"""Opt-in logging for notebooks, and keeping httpx's own request lines quiet.

opskit never adds handlers on its own. It does one thing to loggers it does not
own: httpx and httpcore log every request URL (query strings included) at INFO
and DEBUG, so a root logger at INFO (``opskit -v``, ``logging.basicConfig``)
would print unredacted URLs beside opskit's own redacted line per request.
:func:`quiet_http_loggers` therefore keeps those two loggers at WARNING unless
the application has set their level itself, and redacts URLs in whatever httpx
still logs.
"""

from __future__ import annotations

import logging
import sys

__all__ = ["HTTP_LOGGERS", "log_to_notebook", "quiet_http_loggers"]

_HANDLER_NAME = "opskit-notebook"
#: Third-party loggers that write request URLs and headers.
HTTP_LOGGERS = ("httpx", "httpcore")


class _RedactUrls(logging.Filter):
    """Rewrites URL arguments of httpx's log records with :func:`redact_url`."""

    def filter(self, record: logging.LogRecord) -> bool:
        from opskit.connectors._redact import redact_url

        args = record.args
        if isinstance(args, tuple) and args:
            record.args = tuple(redact_url(a) if _looks_like_url(a) else a for a in args)
        return True


def _looks_like_url(value: object) -> bool:
    return type(value).__name__ == "URL" or (isinstance(value, str) and "://" in value)


def quiet_http_loggers() -> None:
    """Keep httpx/httpcore at WARNING unless their level was set explicitly (idempotent).

    Called whenever a connector is built, and by :func:`log_to_notebook`.

    Examples
    --------
    >>> quiet_http_loggers()
    >>> logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING  # doctest: +SKIP
    True
    """
    for name in HTTP_LOGGERS:
        lg = logging.getLogger(name)
        if lg.level == logging.NOTSET:
            lg.setLevel(logging.WARNING)
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactUrls) for f in httpx_logger.filters):
        httpx_logger.addFilter(_RedactUrls())


def log_to_notebook(level: int | str = logging.INFO) -> logging.Logger:
    """Show opskit's log lines (one per query or external call) in the notebook.

    Idempotent: calling it again only changes the level. httpx's own request
    lines stay off (see :func:`quiet_http_loggers`).

    Parameters
    ----------
    level
        ``logging.INFO`` (default) for one line per external call and dataset
        load, ``logging.DEBUG`` for detail, ``logging.WARNING`` for fallbacks only.
    """
    quiet_http_loggers()
    logger = logging.getLogger("opskit")
    logger.setLevel(level)
    if not any(h.get_name() == _HANDLER_NAME for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )
        logger.addHandler(handler)
    return logger
