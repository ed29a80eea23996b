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

# Heavy modules (ibis, pandera, scipy) load on first use, keeping `import opskit` fast.
_LAZY = {
    "load": ("opskit.catalog", "load"),
    "datasets": ("opskit.catalog", "datasets"),
    "describe": ("opskit.catalog", "dataset_info"),
    "detect": ("opskit.analytics.anomaly", "detect"),
    "pareto_table": ("opskit.analytics.pareto", "pareto_table"),
    "pareto": ("opskit.analytics.pareto", "pareto"),
    "churn_model": ("opskit.analytics.churn", "churn_model"),
    "forecast_revenue": ("opskit.analytics.forecast", "forecast_revenue"),
    "load_settings": ("opskit.config", "load_settings"),
    "log_to_notebook": ("opskit._logging", "log_to_notebook"),
    "provenance_of": ("opskit.provenance", "of"),
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'opskit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


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
    "churn_model",
    "datasets",
    "describe",
    "detect",
    "forecast_revenue",
    "load",
    "load_settings",
    "log_to_notebook",
    "pareto",
    "pareto_table",
    "provenance_of",
]
