"""The one exception tree of opskit.

Every error opskit raises on purpose derives from :class:`OpsKitError`, so a
notebook can catch ``opskit.OpsKitError`` and know it is looking at a problem
opskit understood and described. Caller bugs (a wrong type, an impossible
argument) raise plain :class:`ValueError` / :class:`TypeError` instead.

::

    OpsKitError
      ConfigError              missing/invalid settings or credentials
      DatasetError             unknown dataset, filter or filter value
      ParameterError           an analysis got an invalid parameter
      WarehouseError           the warehouse is missing, empty or unreadable
      ConnectorError           .system .url (redacted) .status_code
        AuthError              401/403
        RateLimitError         429 (.retry_after)
        UnavailableError       timeout, network, 5xx
        ResponseError          payload we cannot parse
      SchemaViolation          wraps pandera SchemaErrors (.failure_cases)
      NotFittedError           a model/detector used before ``fit``
      ReportError
        ReportExecutionError   .cell_index .output_path
      DashboardError           the dashboard server did not come up (.log_path)

Errors are translated at one boundary per third-party library (httpx, pandera,
papermill) with ``raise ... from exc``; secrets never appear in messages.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthError",
    "ConfigError",
    "ConnectorError",
    "DashboardError",
    "DatasetError",
    "NotFittedError",
    "OpsKitError",
    "ParameterError",
    "RateLimitError",
    "ReportError",
    "ReportExecutionError",
    "ResponseError",
    "SchemaViolation",
    "UnavailableError",
    "WarehouseError",
]


class OpsKitError(Exception):
    """Base class of every error opskit raises on purpose."""


class ConfigError(OpsKitError):
    """A setting or credential is missing or invalid."""


class DatasetError(OpsKitError, LookupError):
    """An unknown dataset, filter or filter value was asked for.

    The message always names the valid choices.
    """


class ParameterError(OpsKitError, ValueError):
    """An analysis was called with an unknown or out-of-range parameter.

    The message names the parameter and the valid values or range.
    """


class WarehouseError(OpsKitError):
    """The warehouse is missing, empty, or cannot be read."""


class ConnectorError(OpsKitError):
    """A call to an external system failed.

    Parameters
    ----------
    message
        What went wrong, in words an analyst can act on.
    system
        The source system (``"newrelic"``, ``"dynatrace"``, ``"jira"`` ...).
    url
        The request URL with credentials and query secrets removed.
    status_code
        The HTTP status, when there was a response.
    """

    def __init__(
        self,
        message: str,
        *,
        system: str,
        url: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.system = system
        self.url = url
        self.status_code = status_code

    def __reduce__(self) -> tuple[Any, ...]:  # keep exceptions picklable
        return (_rebuild_connector_error, (type(self), self.args[0], self.__dict__))


def _rebuild_connector_error(
    cls: type[ConnectorError], message: str, state: dict[str, Any]
) -> ConnectorError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class AuthError(ConnectorError):
    """The system rejected our credentials (HTTP 401/403)."""


class RateLimitError(ConnectorError):
    """The system kept answering 429 after our bounded retries.

    ``retry_after`` is the wait (seconds) the server last asked for, if any.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class UnavailableError(ConnectorError):
    """Timeout, network failure or 5xx after our bounded retries."""


class ResponseError(ConnectorError):
    """The system answered with a payload we cannot parse."""


class SchemaViolation(OpsKitError):
    """A frame does not match its documented schema.

    ``failure_cases`` is a DataFrame listing every failing check (from pandera's
    lazy validation), so a notebook can show exactly what is wrong.
    """

    def __init__(self, message: str, *, failure_cases: Any = None) -> None:
        super().__init__(message)
        self.failure_cases = failure_cases


class NotFittedError(OpsKitError, ValueError):
    """A model or detector was used before ``fit``."""


class ReportError(OpsKitError):
    """A report could not be prepared or run."""


class ReportExecutionError(ReportError):
    """A cell of a report notebook raised.

    ``cell_index`` is the failing cell, ``output_path`` the executed notebook
    that carries papermill's error banner.
    """

    def __init__(
        self, message: str, *, cell_index: int | None = None, output_path: str | None = None
    ) -> None:
        super().__init__(message)
        self.cell_index = cell_index
        self.output_path = output_path


class DashboardError(OpsKitError):
    """The dashboard server did not come up, or stopped by itself.

    The port was taken, Voila exited, or it never answered HTTP in time.
    ``log_path`` is Voila's log, which says why.
    """

    def __init__(self, message: str, *, log_path: str | None = None) -> None:
        super().__init__(message)
        self.log_path = log_path
