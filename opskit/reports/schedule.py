"""``reports/schedule.toml``: which reports run when (cron expressions, UTC).

::

    [defaults]                  # optional, applies to every job
    retries = 1
    retry_backoff_s = 60

    [[report]]
    name = "executive_summary"  # notebooks/analyses/executive_summary.ipynb
    cron = "0 6 * * *"          # every day at 06:00 UTC
    parameters = { days_back = 30 }
    retries = 2                 # extra attempts after a failure (default 0)
    retry_backoff_s = 120       # wait before retry n: backoff * 2**(n-1), at most 1 h
    timeout_s = 900             # wall-clock limit of one attempt (default 1800)
    publish = true              # publish to Confluence after success (needs allow_writes)

Keys per job: ``name``, ``cron`` (required), ``id`` (default: ``name``; give
two jobs of the same report distinct ids), ``parameters``, ``retries``,
``retry_backoff_s``, ``timeout_s``, ``publish`` and ``publish_title``.

``opskit schedule run`` executes the jobs (see :mod:`opskit.reports.scheduler`),
``opskit schedule list`` shows the next runs, and ``opskit schedule crontab``
prints crontab lines that call ``opskit report run`` (install them with
``crontab``, or translate them to Airflow/Argo: each entry is one idempotent
command).
"""

from __future__ import annotations

import json
import shlex
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from croniter import croniter

from opskit.errors import ConfigError

__all__ = ["ScheduleEntry", "crontab_lines", "load_schedule", "next_runs"]

MAX_RETRIES = 10
MAX_BACKOFF_S = 3600.0
_KEYS = (
    "id",
    "name",
    "cron",
    "parameters",
    "retries",
    "retry_backoff_s",
    "timeout_s",
    "publish",
    "publish_title",
)
_DEFAULT_KEYS = ("retries", "retry_backoff_s", "timeout_s", "publish")


@dataclass(frozen=True)
class ScheduleEntry:
    """One scheduled report job.

    Attributes
    ----------
    name
        Report name (``notebooks/analyses/<name>.ipynb``).
    cron
        Five-field cron expression, evaluated in UTC.
    parameters
        Values for the notebook's ``parameters`` cell.
    retries
        Extra attempts after a failed one.
    retry_backoff_s
        Wait before retry ``n`` is ``retry_backoff_s * 2 ** (n - 1)`` seconds,
        capped at one hour.
    timeout_s
        Wall-clock limit of one attempt.
    publish
        Publish the report to Confluence after a successful run (only when
        Confluence is configured and ``allow_writes`` is true).
    publish_title
        Confluence page title (default ``"<name> report"``).
    job_id
        Key of the job's state and lock (default: ``name``).
    """

    name: str
    cron: str
    parameters: dict[str, Any] = field(default_factory=dict)
    retries: int = 0
    retry_backoff_s: float = 60.0
    timeout_s: float = 1800.0
    publish: bool = False
    publish_title: str = ""
    job_id: str = ""

    @property
    def key(self) -> str:
        """The job's id: ``job_id`` or, by default, the report name."""
        return self.job_id or self.name

    def next_run(self, after: datetime) -> datetime:
        """The first scheduled time strictly after ``after``."""
        nxt: datetime = croniter(self.cron, after).get_next(datetime)
        return nxt

    def latest_slot(self, now: datetime) -> datetime:
        """The most recent scheduled time at or before ``now``."""
        probe = now.replace(microsecond=0) + timedelta(seconds=1)
        prev: datetime = croniter(self.cron, probe).get_prev(datetime)
        return prev

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return float(min(self.retry_backoff_s * 2 ** max(attempt - 1, 0), MAX_BACKOFF_S))


def _check(path: Path, i: int, name: str, raw: dict[str, Any]) -> dict[str, Any]:
    where = f"{path.name}: entry {i} ({name})"
    unknown = sorted(set(raw) - set(_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; valid keys: {', '.join(_KEYS)}")
    out: dict[str, Any] = {}
    retries = raw.get("retries", 0)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
        raise ConfigError(f"{where}: retries must be an integer 0..{MAX_RETRIES}, got {retries!r}")
    out["retries"] = retries
    for key, default, minimum in (("retry_backoff_s", 60.0, 0.0), ("timeout_s", 1800.0, None)):
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: {key} must be a number of seconds, got {value!r}")
        if (minimum is None and value <= 0) or (minimum is not None and value < minimum):
            bound = "> 0" if minimum is None else f">= {minimum:g}"
            raise ConfigError(f"{where}: {key} must be {bound}, got {value!r}")
        out[key] = float(value)
    publish = raw.get("publish", False)
    if not isinstance(publish, bool):
        raise ConfigError(f"{where}: publish must be true or false, got {publish!r}")
    out["publish"] = publish
    parameters = raw.get("parameters", {})
    if not isinstance(parameters, dict):
        raise ConfigError(f"{where}: parameters must be a table, e.g. {{ days_back = 30 }}")
    out["parameters"] = dict(parameters)
    out["publish_title"] = str(raw.get("publish_title", ""))
    out["job_id"] = str(raw.get("id", ""))
    return out


def load_schedule(path: Path, *, known_reports: list[str] | None = None) -> list[ScheduleEntry]:
    """Read and check a schedule file.

    Parameters
    ----------
    path
        The TOML file (``reports/schedule.toml``).
    known_reports
        When given, every job must name one of these reports.

    Returns
    -------
    list of ScheduleEntry
        The jobs, in file order.

    Raises
    ------
    ConfigError
        On a missing file, bad TOML, a bad cron expression, an unknown report,
        an unknown key, a value of the wrong type or a duplicate job id.
    """
    if not path.is_file():
        raise ConfigError(f"no schedule at {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: invalid TOML: {exc}") from None
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict) or set(defaults) - set(_DEFAULT_KEYS):
        raise ConfigError(f"{path.name}: [defaults] may set only {', '.join(_DEFAULT_KEYS)}")
    entries: list[ScheduleEntry] = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("report", []), 1):
        name, cron = raw.get("name"), raw.get("cron")
        if not name or not cron:
            raise ConfigError(f"{path.name}: entry {i} needs 'name' and 'cron'")
        if not croniter.is_valid(cron):
            raise ConfigError(f"{path.name}: entry {i} ({name}): invalid cron expression {cron!r}")
        if known_reports is not None and name not in known_reports:
            raise ConfigError(
                f"{path.name}: entry {i}: no report {name!r}; available: {', '.join(known_reports)}"
            )
        entry = ScheduleEntry(name, cron, **_check(path, i, name, {**defaults, **raw}))
        if entry.key in seen:
            raise ConfigError(
                f"{path.name}: entry {i}: job id {entry.key!r} is used twice; "
                "give one of them a distinct 'id'"
            )
        seen.add(entry.key)
        entries.append(entry)
    return entries


def next_runs(
    entries: list[ScheduleEntry], now: datetime | None = None
) -> list[tuple[ScheduleEntry, datetime]]:
    """Each entry with its next run time after ``now`` (UTC), soonest first."""
    now = now or datetime.now(UTC)
    return sorted(((e, e.next_run(now)) for e in entries), key=lambda item: item[1])


def _cli_value(value: Any) -> str:
    if isinstance(value, list | tuple | dict):
        return json.dumps(list(value) if isinstance(value, tuple) else value)
    return "none" if value is None else str(value)


def crontab_lines(entries: list[ScheduleEntry], *, opskit: str, home: Path) -> list[str]:
    """Crontab lines (``CRON_TZ=UTC``) running each entry with ``opskit report run``.

    These lines have no retries, state or locks; for those run
    ``opskit schedule run --once`` from cron every few minutes instead.
    """
    lines = ["CRON_TZ=UTC"]
    for e in entries:
        args = [opskit, "report", "run", e.name]
        for k, v in e.parameters.items():
            args += ["-p", f"{k}={_cli_value(v)}"]
        lines.append(
            f"{e.cron} cd {shlex.quote(str(home))} && {' '.join(shlex.quote(a) for a in args)}"
        )
    return lines
