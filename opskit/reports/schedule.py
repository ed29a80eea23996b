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
two jobs of the same report distinct ids), ``parameters``, ``matrix``, ``retries``,
``retry_backoff_s``, ``timeout_s``, ``publish`` and ``publish_title``.

A **matrix** fans one job out into one job per combination of parameter values,
each with the matrix values merged over ``parameters``::

    [[report]]
    name = "executive_summary"
    cron = "0 6 * * *"
    parameters = { days = 30 }
    matrix = { region = ["us", "brazil", "india"] }   # 3 jobs; several keys: every combination
    # or a list of parameter sets:  matrix = [{ region = "us" }, { region = "brazil", days = 7 }]

Each combination is a job of its own, keyed ``executive_summary[region=brazil]``
(state, lock, ``opskit schedule list``), with its own run folder per slot
(run id ``sched-0600-region-brazil``) and, when it publishes, its own page
(``publish_title`` may name matrix values: ``"Summary {region}"``).

``opskit schedule run`` executes the jobs (see :mod:`opskit.reports.scheduler`),
``opskit schedule list`` shows the next runs, ``opskit schedule crontab``
prints crontab lines that call ``opskit report run`` (install them with
``crontab``), and ``opskit schedule export --airflow DIR`` writes the same
commands as an Airflow DAG file (:mod:`opskit.reports.airflow`): each job at a
slot is one idempotent command.
"""

from __future__ import annotations

import json
import shlex
import tomllib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from croniter import croniter

from opskit.errors import ConfigError
from opskit.reports import params
from opskit.reports.matrix import combinations, safe_name, value_text

__all__ = [
    "ScheduleEntry",
    "crontab_lines",
    "load_schedule",
    "next_runs",
    "report_command",
]

MAX_RETRIES = 10
MAX_BACKOFF_S = 3600.0
_KEYS = (
    "id",
    "name",
    "cron",
    "parameters",
    "matrix",
    "retries",
    "retry_backoff_s",
    "timeout_s",
    "publish",
    "publish_title",
)
_DEFAULT_KEYS = ("retries", "retry_backoff_s", "timeout_s", "publish")
#: The scheduler's own lock file (``state.lock``) is not a job's.
_STATE_LOCK = "job file name 'state'"


@dataclass(frozen=True)
class ScheduleEntry:
    """One scheduled report job (one combination of a job's matrix).

    Attributes
    ----------
    name
        Report name (``notebooks/analyses/<name>.ipynb``).
    cron
        Five-field cron expression, evaluated in UTC.
    parameters
        Values for the notebook's ``parameters`` cell (matrix values included).
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
        The job's ``id`` in the schedule file (default: ``name``).
    matrix
        The matrix combination this job was expanded from (empty without a matrix).

    Examples
    --------
    >>> job = ScheduleEntry("executive_summary", "0 6 * * *", matrix={"region": "brazil"})
    >>> job.key, job.slug, job.run_label
    ('executive_summary[region=brazil]', 'executive_summary.region-brazil', 'region-brazil')
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
    matrix: dict[str, Any] = field(default_factory=dict)

    @property
    def base_key(self) -> str:
        """The key of the schedule file's job: ``job_id`` or the report name."""
        return self.job_id or self.name

    @property
    def key(self) -> str:
        """The job's id (state, lock): ``base_key``, then ``[k=v,...]`` for a matrix job."""
        if not self.matrix:
            return self.base_key
        values = ",".join(f"{k}={value_text(v)}" for k, v in self.matrix.items())
        return f"{self.base_key}[{values}]"

    @property
    def _matrix_label(self) -> str:
        return ".".join(
            f"{safe_name(k)}-{safe_name(value_text(v))}" for k, v in self.matrix.items()
        )

    @property
    def slug(self) -> str:
        """:attr:`key` as a file name and Airflow task id (``executive_summary.region-brazil``)."""
        base = safe_name(self.base_key)
        return f"{base}.{self._matrix_label}" if self.matrix else base

    @property
    def run_label(self) -> str:
        """What follows ``sched-HHMM-`` in the job's run ids (``""``: nothing).

        ``job_id`` for a job without a matrix; ``[<job_id>-]k-v[.k-v]`` for a matrix job.
        """
        if not self.matrix:
            return self.job_id
        return "-".join(
            p for p in (safe_name(self.job_id) if self.job_id else "", self._matrix_label) if p
        )

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


def _expand(where: str, base: ScheduleEntry, matrix: Any) -> list[ScheduleEntry]:
    """One entry per matrix combination, matrix values over ``parameters``; publish titles set."""
    combos = combinations(where, matrix)
    if matrix is None:
        return [base]
    out = []
    for combo in combos:
        entry = replace(base, parameters={**base.parameters, **combo}, matrix=combo)
        if base.publish:
            shown = ", ".join(f"{k} {value_text(v)}" for k, v in combo.items())
            try:
                title = (
                    base.publish_title.format_map(combo)
                    if base.publish_title
                    else f"{base.name} report ({shown})"
                )
            except (KeyError, IndexError, ValueError) as exc:
                raise ConfigError(
                    f"{where}: publish_title {base.publish_title!r} names {exc}, which is not a "
                    f"matrix parameter; it may name {', '.join('{' + k + '}' for k in combo)}"
                ) from None
            entry = replace(entry, publish_title=title)
        out.append(entry)
    titles = [e.publish_title for e in out if e.publish]
    if len(set(titles)) < len(titles):
        raise ConfigError(
            f"{where}: every matrix job would publish to the same page {titles[0]!r}; "
            f"name a matrix parameter in it, e.g. {{{next(iter(out[0].matrix))}}}"
        )
    return out


def _validate(where: str, entry: ScheduleEntry, notebooks: Path) -> None:
    try:
        params.validate(notebooks / f"{entry.name}.ipynb", entry.parameters)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {entry.key}: {exc}") from None


def load_schedule(
    path: Path, *, known_reports: list[str] | None = None, notebooks: Path | None = None
) -> list[ScheduleEntry]:
    """Read and check a schedule file; expand matrix jobs.

    Parameters
    ----------
    path
        The TOML file (``reports/schedule.toml``).
    known_reports
        When given, every job must name one of these reports.
    notebooks
        When given (``<home>/notebooks/analyses``), every job's parameters, matrix
        values included, are checked against its notebook's ``parameters`` cell
        (:func:`opskit.reports.params.validate`), so nothing runs with a bad one.

    Returns
    -------
    list of ScheduleEntry
        The jobs in file order, a matrix job as one entry per combination.

    Raises
    ------
    ConfigError
        On a missing file, bad TOML, a bad cron expression, an unknown report,
        an unknown key, a value of the wrong type, a bad matrix, an unknown or
        invalid parameter (with ``notebooks``) or a duplicate job id.
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
    taken: set[str] = set()  # job ids, file names and run folders in use
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
        where = f"{path.name}: entry {i} ({name})"
        base = ScheduleEntry(name, cron, **_check(path, i, name, {**defaults, **raw}))
        jobs = _expand(where, base, raw.get("matrix"))
        uses = [f"job id {base.base_key!r}"]
        for e in jobs:
            run_id = "-".join(p for p in ("sched-<HHMM>", e.run_label) if p)
            uses += [f"job file name {e.slug!r}", f"run folder {e.name}/<date>/{run_id}"]
            if e.matrix:
                uses.append(f"job id {e.key!r}")
        for use in uses:
            if use == _STATE_LOCK:
                raise ConfigError(
                    f"{path.name}: entry {i}: job file name 'state' is reserved "
                    "(reports/.scheduler/state.lock); give the job another 'id'"
                )
            if use in taken:
                raise ConfigError(
                    f"{path.name}: entry {i}: {use} is used twice; give one of them a distinct 'id'"
                )
            taken.add(use)
        if notebooks is not None:
            for entry in jobs:
                _validate(where, entry, notebooks)
        entries.extend(jobs)
    return entries


def next_runs(
    entries: list[ScheduleEntry], now: datetime | None = None
) -> list[tuple[ScheduleEntry, datetime]]:
    """Each entry with its next run time after ``now`` (UTC), soonest first."""
    now = now or datetime.now(UTC)
    return sorted(((e, e.next_run(now)) for e in entries), key=lambda item: item[1])


def _cli_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | dict):
        return json.dumps(list(value) if isinstance(value, tuple) else value)
    return "none" if value is None else str(value)


def report_command(entry: ScheduleEntry, *, opskit: str = "opskit") -> list[str]:
    """The ``opskit report run`` arguments that run ``entry`` (without run id and date).

    >>> report_command(ScheduleEntry("executive_summary", "0 6 * * *", {"days": 30, "region": "brazil"}))
    ['opskit', 'report', 'run', 'executive_summary', '-p', 'days=30', '-p', 'region=brazil']
    """
    args = [opskit, "report", "run", entry.name]
    for k, v in entry.parameters.items():
        args += ["-p", f"{k}={_cli_value(v)}"]
    return args


def crontab_lines(entries: list[ScheduleEntry], *, opskit: str, home: Path) -> list[str]:
    """Crontab lines (``CRON_TZ=UTC``) running each entry with ``opskit report run``.

    These lines have no retries, state or locks; for those run
    ``opskit schedule run --once`` from cron every few minutes instead.
    """
    lines = ["CRON_TZ=UTC"]
    for e in entries:
        command = shlex.join(report_command(e, opskit=opskit))
        lines.append(f"{e.cron} cd {shlex.quote(str(home))} && {command}")
    return lines
