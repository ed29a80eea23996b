"""``reports/schedule.toml``: which reports run when (cron expressions, UTC).

::

    [[report]]
    name = "executive_summary"
    cron = "0 6 * * *"          # every day at 06:00 UTC
    parameters = { days_back = 30 }

``opskit schedule list`` shows the next runs; ``opskit schedule crontab`` prints
crontab lines that call ``opskit report run`` (install them with ``crontab``, or
translate them to Airflow/Argo: each entry is one idempotent command).
"""

from __future__ import annotations

import shlex
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from croniter import croniter

from opskit.errors import ConfigError

__all__ = ["ScheduleEntry", "crontab_lines", "load_schedule", "next_runs"]


@dataclass(frozen=True)
class ScheduleEntry:
    """One scheduled report."""

    name: str
    cron: str
    parameters: dict[str, Any] = field(default_factory=dict)

    def next_run(self, after: datetime) -> datetime:
        nxt: datetime = croniter(self.cron, after).get_next(datetime)
        return nxt


def load_schedule(path: Path, *, known_reports: list[str] | None = None) -> list[ScheduleEntry]:
    """Read and check a schedule file.

    Raises
    ------
    ConfigError
        On a missing file, bad TOML, a bad cron expression or an unknown report.
    """
    if not path.is_file():
        raise ConfigError(f"no schedule at {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: invalid TOML: {exc}") from None
    entries = []
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
        entries.append(ScheduleEntry(name, cron, dict(raw.get("parameters", {}))))
    return entries


def next_runs(
    entries: list[ScheduleEntry], now: datetime | None = None
) -> list[tuple[ScheduleEntry, datetime]]:
    """Each entry with its next run time after ``now`` (UTC), soonest first."""
    now = now or datetime.now(UTC)
    return sorted(((e, e.next_run(now)) for e in entries), key=lambda item: item[1])


def crontab_lines(entries: list[ScheduleEntry], *, opskit: str, home: Path) -> list[str]:
    """Crontab lines (``CRON_TZ=UTC``) running each entry with ``opskit report run``."""
    lines = ["CRON_TZ=UTC"]
    for e in entries:
        args = [opskit, "report", "run", e.name]
        for k, v in e.parameters.items():
            args += ["-p", f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}"]
        lines.append(
            f"{e.cron} cd {shlex.quote(str(home))} && {' '.join(shlex.quote(a) for a in args)}"
        )
    return lines
