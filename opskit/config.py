"""Settings, read on request (never at import) from, in order of precedence:

1. keyword arguments to :func:`load_settings`,
2. environment variables ``OPSKIT_*`` (nested with ``__``, e.g.
   ``OPSKIT_NEWRELIC__API_KEY``),
3. a ``.env`` file in the project root,
4. ``opskit.toml`` in the project root,
5. the defaults below.

Secrets are :class:`pydantic.SecretStr`: they print as ``**********`` and are
only revealed by the connector that sends them. ``.env.example`` documents every
setting.
"""

from __future__ import annotations

import os
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from opskit.errors import ConfigError

__all__ = [
    "JIRA_FIELD_ROLES",
    "ConfluenceSettings",
    "ConvivaSettings",
    "DashboardSettings",
    "DynatraceSettings",
    "JiraSettings",
    "NewRelicSettings",
    "Settings",
    "SourceMode",
    "load_settings",
    "project_root",
]

DEFAULT_WAREHOUSE = "data/opskit.duckdb"
SOURCES = ("newrelic", "dynatrace", "jira", "confluence", "conviva")


class SourceMode(StrEnum):
    """How a source system is used.

    ``live`` fails loudly when the source fails; ``demo`` always uses the demo
    warehouse; ``auto`` uses live when credentials are configured and falls back
    to the freshest cache, then demo, logging each step.
    """

    AUTO = "auto"
    LIVE = "live"
    DEMO = "demo"


class _Source(BaseModel):
    mode: SourceMode = SourceMode.AUTO
    timeout_s: float = Field(
        10.0, gt=0, description="wall-clock limit of one HTTP request, body included (s)"
    )
    deadline_s: float = Field(
        300.0, gt=0, description="wall-clock limit of one pull: all pages, retries, waits (s)"
    )
    max_retries: int = Field(4, ge=0, le=10)
    requests_per_second: float = Field(5.0, gt=0, description="client-side rate limit")

    @property
    def is_configured(self) -> bool:  # pragma: no cover - overridden
        return False

    def public(self) -> dict[str, Any]:
        """Settings for display: secrets masked, a ``configured`` flag added."""
        out: dict[str, Any] = {}
        for name, value in self:
            if isinstance(value, SecretStr):
                out[name] = "set (hidden)" if value.get_secret_value() else "not set"
            elif isinstance(value, StrEnum):
                out[name] = value.value
            else:
                out[name] = value
        out["configured"] = self.is_configured
        return out


class NewRelicSettings(_Source):
    """New Relic NerdGraph: a *User* API key (``NRAK-...``) and an account id."""

    timeout_s: float = Field(
        75.0,
        gt=0,
        description="wall-clock limit of one request; NRQL gets this minus a margin (s)",
    )
    api_key: SecretStr = SecretStr("")
    account_id: int | None = None
    region: str = Field("us", pattern="^(us|eu)$")
    endpoint: str | None = Field(None, description="override the NerdGraph URL")

    @property
    def is_configured(self) -> bool:
        return bool(self.api_key.get_secret_value()) and self.account_id is not None


class DynatraceSettings(_Source):
    """Dynatrace Environment API v2: base URL (``https://{env}.live.dynatrace.com``) + token."""

    base_url: str = ""
    api_token: SecretStr = SecretStr("")

    @property
    def is_configured(self) -> bool:
        return bool(self.base_url and self.api_token.get_secret_value())


#: Roles of ``JiraSettings.fields``: which Jira field fills which ``production_issues`` column.
JIRA_FIELD_ROLES = ("cost", "budget", "delay", "show", "severity", "team", "root_cause")


class JiraSettings(_Source):
    """Jira Cloud (v3, email + API token) or Data Center (v2, personal access token).

    ``fields`` maps roles to the instance's (custom) fields, by id or display
    name, e.g. ``OPSKIT_JIRA__FIELDS__COST=customfield_10042`` and
    ``OPSKIT_JIRA__FIELDS__TEAM="Owning team"``; ``opskit doctor`` lists them.
    """

    base_url: str = ""
    deployment: str = Field("cloud", pattern="^(cloud|datacenter)$")
    email: str = ""
    api_token: SecretStr = SecretStr("")
    projects: list[str] = Field(default_factory=list)
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="role -> field id or name; roles: " + ", ".join(JIRA_FIELD_ROLES),
    )

    @field_validator("fields")
    @classmethod
    def _known_roles(cls, v: dict[str, str]) -> dict[str, str]:
        out = {k.strip().lower(): str(val).strip() for k, val in v.items()}
        unknown = sorted(k for k in out if k not in JIRA_FIELD_ROLES)
        if unknown:
            raise ValueError(
                f"unknown field role {unknown[0]!r}; valid roles: {', '.join(JIRA_FIELD_ROLES)}"
            )
        return {k: val for k, val in out.items() if val}

    @property
    def is_configured(self) -> bool:
        return bool(self.base_url and self.api_token.get_secret_value())


class ConfluenceSettings(_Source):
    """Confluence Cloud v2: where scheduled reports are published (writes are opt-in)."""

    base_url: str = ""
    email: str = ""
    api_token: SecretStr = SecretStr("")
    space_key: str = ""

    @property
    def is_configured(self) -> bool:
        return bool(self.base_url and self.api_token.get_secret_value())


#: opskit's QoE filters -> the Conviva dimensions that hold them (names vary per account).
CONVIVA_DIMENSIONS = {"cdn": "cdn", "device": "device-name", "region": "country", "isp": "isp"}
#: opskit region names -> values of the Conviva region dimension.
CONVIVA_REGIONS = {
    "us": "United States", "uk": "United Kingdom", "brazil": "Brazil", "canada": "Canada",
    "germany": "Germany", "india": "India",
}  # fmt: skip


class ConvivaSettings(_Source):
    """Conviva Metrics V3 (client id + secret).

    ``dimensions`` names the Conviva dimension behind each QoE filter (``cdn``,
    ``device``, ``region``, ``isp``) and ``region_values`` the value of the region
    dimension for each opskit region; a region missing there is sent as given.
    """

    base_url: str = "https://api.conviva.com"
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    dimensions: dict[str, str] = Field(default_factory=lambda: dict(CONVIVA_DIMENSIONS))
    region_values: dict[str, str] = Field(default_factory=lambda: dict(CONVIVA_REGIONS))

    @field_validator("dimensions")
    @classmethod
    def _every_filter(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(CONVIVA_DIMENSIONS))
        if unknown:
            raise ValueError(
                f"unknown QoE filter(s) {unknown}; valid: {sorted(CONVIVA_DIMENSIONS)}"
            )
        return {**CONVIVA_DIMENSIONS, **v}

    @property
    def is_configured(self) -> bool:
        return bool(self.client_id and self.client_secret.get_secret_value())


class DashboardSettings(BaseModel):
    """``opskit dashboard``: the kernels Voila may keep, and how long it may take to start.

    Every open dashboard page holds one kernel (a few hundred MB); the preheated pools
    (``notebooks/dashboards/voila.json``) count too. A viewer beyond ``max_kernels``
    gets a page saying the server is busy, which retries by itself.
    """

    max_kernels: int = Field(
        12, ge=1, le=500, description="live Voila kernels at most, preheated pools included"
    )
    cull_idle_s: int = Field(
        120, ge=1, description="a kernel of a closed page stops after this many idle seconds"
    )
    cull_interval_s: int = Field(30, ge=1, description="how often idle kernels are looked for")
    start_timeout_s: float = Field(
        180.0, gt=0, description="how long Voila may take to answer HTTP before giving up"
    )
    stop_grace_s: float = Field(
        2.0, ge=0, le=60, description="SIGTERM to SIGKILL when the server stops"
    )


def project_root(start: Path | None = None) -> Path:
    """The folder settings, ``.env`` and relative paths are resolved against.

    ``OPSKIT_HOME`` wins; otherwise the nearest ancestor of ``start`` (default:
    the working directory) holding ``opskit.toml`` or opskit's ``pyproject.toml``;
    otherwise the source checkout opskit was installed from; otherwise ``start``.
    Notebooks run from ``notebooks/analyses/`` therefore find the same warehouse
    as the CLI run from the repository root.
    """
    env = os.environ.get("OPSKIT_HOME")
    if env:
        return Path(env).expanduser().resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "opskit.toml").is_file() or _is_opskit_checkout(folder):
            return folder
    checkout = Path(__file__).resolve().parents[1]
    if _is_opskit_checkout(checkout):
        return checkout
    return here


def _is_opskit_checkout(folder: Path) -> bool:
    py = folder / "pyproject.toml"
    if not py.is_file():
        return False
    try:
        return bool(tomllib.loads(py.read_text()).get("project", {}).get("name") == "opskit")
    except (OSError, tomllib.TOMLDecodeError):
        return False


class Settings(BaseSettings):
    """All opskit settings. Build with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="OPSKIT_",
        env_nested_delimiter="__",
        extra="ignore",
        case_sensitive=False,
    )

    home: Path = Field(default_factory=project_root, description="project root")
    warehouse_url: str = Field(
        "", description="Ibis URL of the warehouse; default duckdb://<home>/data/opskit.duckdb"
    )
    cache_ttl_s: float = Field(300.0, ge=0, description="default TTL of cached live results")
    cache_ttl_overrides: dict[str, float] = Field(default_factory=dict)
    demo_seed: int = 7
    demo_scale: float = Field(1.0, gt=0, le=10)
    newrelic: NewRelicSettings = Field(default_factory=NewRelicSettings)
    dynatrace: DynatraceSettings = Field(default_factory=DynatraceSettings)
    jira: JiraSettings = Field(default_factory=JiraSettings)
    confluence: ConfluenceSettings = Field(default_factory=ConfluenceSettings)
    conviva: ConvivaSettings = Field(default_factory=ConvivaSettings)
    allow_writes: bool = Field(False, description="let tools publish to Confluence / create issues")
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)

    @field_validator("warehouse_url")
    @classmethod
    def _known_scheme(cls, v: str) -> str:
        if v and "://" not in v:
            raise ValueError("must be a URL such as duckdb:///path/to/opskit.duckdb")
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        root = project_root()
        toml = TomlConfigSettingsSource(settings_cls, toml_file=root / "opskit.toml")
        return (init_settings, env_settings, dotenv_settings, toml, file_secret_settings)

    @property
    def resolved_warehouse_url(self) -> str:
        """The warehouse URL, with the default and relative DuckDB paths resolved."""
        url = self.warehouse_url or f"duckdb://{self.home / DEFAULT_WAREHOUSE}"
        if url.startswith("duckdb://") and not url.startswith("duckdb:///"):
            rel = url.removeprefix("duckdb://")
            if rel and rel != ":memory:":
                url = f"duckdb://{(self.home / rel).resolve()}"
        return url

    @property
    def warehouse_path(self) -> Path | None:
        """The DuckDB file behind the warehouse, or ``None`` for other backends."""
        url = self.resolved_warehouse_url
        if not url.startswith("duckdb://"):
            return None
        raw = url.removeprefix("duckdb://")
        return None if raw in ("", ":memory:") else Path(raw)

    def source(self, name: str) -> _Source:
        """The settings of one source system."""
        if name not in SOURCES:
            raise ConfigError(f"unknown source {name!r}; valid sources: {', '.join(SOURCES)}")
        return getattr(self, name)  # type: ignore[no-any-return]

    def ttl_for(self, dataset: str) -> float:
        """Cache TTL in seconds for ``dataset``."""
        return float(self.cache_ttl_overrides.get(dataset, self.cache_ttl_s))

    def public(self) -> dict[str, Any]:
        """Every setting, secrets masked, for ``opskit doctor``."""
        return {
            "home": str(self.home),
            "warehouse_url": self.resolved_warehouse_url,
            "cache_ttl_s": self.cache_ttl_s,
            "demo_seed": self.demo_seed,
            "demo_scale": self.demo_scale,
            "allow_writes": self.allow_writes,
            "dashboard": self.dashboard.model_dump(),
            "sources": {name: self.source(name).public() for name in SOURCES},
        }


def load_settings(**overrides: Any) -> Settings:
    """Read settings now (arguments > env > ``.env`` > ``opskit.toml`` > defaults).

    Raises
    ------
    ConfigError
        If a setting is invalid; the message names the setting, never its value.
    """
    root = project_root()
    try:
        return Settings(_env_file=root / ".env", **overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid opskit settings: {problems}") from None
