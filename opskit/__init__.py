"""opskit: operations analytics for a video-streaming service.

``import opskit as ok`` gives the dataset catalog (``ok.load``, ``ok.datasets``),
settings and the analysis routines. Importing opskit has no side effects: no
settings are read, no files opened and no logging configured until you ask.
"""

from __future__ import annotations

from opskit.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    DatasetError,
    NotFittedError,
    OpsKitError,
    RateLimitError,
    ReportError,
    ReportExecutionError,
    ResponseError,
    SchemaViolation,
    UnavailableError,
    WarehouseError,
)
from opskit.provenance import Provenance

__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "ConfigError",
    "ConnectorError",
    "DatasetError",
    "NotFittedError",
    "OpsKitError",
    "Provenance",
    "RateLimitError",
    "ReportError",
    "ReportExecutionError",
    "ResponseError",
    "SchemaViolation",
    "UnavailableError",
    "WarehouseError",
    "__version__",
]
