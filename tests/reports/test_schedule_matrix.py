"""Matrix jobs: one schedule entry fanned out into a job per combination, checked before any run."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opskit.errors import ConfigError
from opskit.reports import crontab_lines, load_schedule
from opskit.reports.jobs import RunOutcome, RunRequest
from opskit.reports.schedule import ScheduleEntry
from opskit.reports.scheduler import Scheduler
from opskit.reports.state import SchedulerState

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks" / "analyses"
SLOT = datetime(2026, 11, 26, 6, tzinfo=UTC)


def _load(tmp_path: Path, text: str, **kw) -> list[ScheduleEntry]:
    path = tmp_path / "schedule.toml"
    path.write_text(text)
    return load_schedule(path, **kw)


def _run_id(entry: ScheduleEntry) -> str:
    return RunRequest(entry, SLOT, 1, Path(".")).run_id


def test_a_table_of_lists_expands_into_every_combination_merged_over_the_parameters(
    tmp_path: Path,
) -> None:
    entries = _load(
        tmp_path,
        """
[defaults]
retries = 1

[[report]]
name = "executive_summary"
cron = "0 6 * * *"
parameters = { days = 30, top_findings = 5 }
matrix = { region = ["us", "brazil"], days = [7, 30] }
timeout_s = 600
""",
    )
    assert [e.key for e in entries] == [
        "executive_summary[region=us,days=7]",
        "executive_summary[region=us,days=30]",
        "executive_summary[region=brazil,days=7]",
        "executive_summary[region=brazil,days=30]",
    ]
    third = entries[2]
    assert third.parameters == {"days": 7, "top_findings": 5, "region": "brazil"}
    assert (third.cron, third.retries, third.timeout_s) == ("0 6 * * *", 1, 600.0)
    assert [_run_id(e) for e in entries[:2]] == [
        "sched-0600-region-us.days-7",
        "sched-0600-region-us.days-30",
    ]
    assert third.slug == "executive_summary.region-brazil.days-7"  # lock file, Airflow task id


def test_a_list_of_parameter_sets_is_one_job_each_and_plain_jobs_keep_their_keys(
    tmp_path: Path,
) -> None:
    entries = _load(
        tmp_path,
        """
[[report]]
name = "executive_summary"
id = "exec"
cron = "0 6 * * *"
parameters = { days = 30 }
matrix = [{ region = "us" }, { region = "north america", days = 7 }]

[[report]]
name = "executive_summary"
cron = "0 6 * * *"

[[report]]
name = "service_health"
id = "health-2d"
cron = "5 * * * *"
parameters = { days = 2 }
""",
    )
    us, north, plain, health = entries
    assert (us.key, us.parameters, _run_id(us)) == (
        "exec[region=us]", {"days": 30, "region": "us"}, "sched-0600-exec-region-us",
    )  # fmt: skip
    assert north.key == 'exec[region="north america",days=7]'
    assert re.fullmatch(r"sched-0600-exec-region-north-america-[0-9a-f]{6}\.days-7", _run_id(north))
    # jobs without a matrix read as they always did
    assert (plain.key, _run_id(plain), plain.slug) == (
        "executive_summary", "sched-0600", "executive_summary",
    )  # fmt: skip
    assert (health.key, _run_id(health)) == ("health-2d", "sched-0600-health-2d")
    lines = crontab_lines(entries, opskit="opskit", home=Path("/srv/ops"))
    assert lines[2].endswith("report run executive_summary -p days=7 -p 'region=north america'")


def test_matrix_parameters_are_checked_against_the_notebook_before_anything_runs(
    tmp_path: Path,
) -> None:
    ok = '[[report]]\nname = "executive_summary"\ncron = "0 6 * * *"\n'
    entries = _load(
        tmp_path, ok + 'matrix = { region = ["us", "brazil", "india"] }\n', notebooks=NOTEBOOKS
    )
    assert [e.parameters["region"] for e in entries] == ["us", "brazil", "india"]
    with pytest.raises(ConfigError) as unknown:
        _load(tmp_path, ok + 'matrix = { regoin = ["us"] }\n', notebooks=NOTEBOOKS)
    assert str(unknown.value).startswith(
        "schedule.toml: entry 1 (executive_summary): executive_summary[regoin=us]: "
        "executive_summary has no parameter 'regoin'; valid parameters: days: int = 30, region:"
    )
    with pytest.raises(ConfigError, match=r"\[days=nan\]: parameter 'days' \(int\)"):
        _load(tmp_path, ok + 'matrix = { days = [7, "nan"] }\n', notebooks=NOTEBOOKS)
    with pytest.raises(ConfigError, match="has no parameter 'dayz'"):  # plain jobs are checked too
        _load(tmp_path, ok + "parameters = { dayz = 3 }\n", notebooks=NOTEBOOKS)


def test_a_scheduler_with_a_bad_matrix_value_refuses_to_start(tmp_path: Path) -> None:
    home = tmp_path
    (home / "notebooks").mkdir()
    (home / "notebooks" / "analyses").symlink_to(NOTEBOOKS)
    (home / "reports").mkdir()
    path = home / "reports" / "schedule.toml"
    path.write_text(
        '[[report]]\nname = "executive_summary"\ncron = "0 6 * * *"\n'
        "matrix = { top_findings = [5, 10, 2.5] }\n"
    )
    ran: list[RunRequest] = []
    sched = Scheduler(path, home=home, runner=lambda r: ran.append(r) or RunOutcome("succeeded"))
    with pytest.raises(ConfigError, match=r"executive_summary\[top_findings=2.5\]: parameter"):
        sched.entries()
    assert ran == []


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ("{}", "matrix is empty; it must be a table of lists"),
        ('{ region = "us" }', "matrix.region must be a non-empty list of values"),
        ("{ region = [] }", "matrix.region must be a non-empty list"),
        ("[]", "matrix must be a table of lists"),
        ('"us"', "matrix must be a table of lists"),
        ("[{}]", "matrix item 1 must be a non-empty table of parameter values"),
        ("{ region = [{ a = 1 }] }", "matrix value of 'region' must be a string, number"),
        ('{ region = ["us", "us"] }', r"matrix combination \{'region': 'us'\} appears twice"),
        (f"{{ a = [{', '.join(map(str, range(40)))}], b = [{', '.join(map(str, range(40)))}] }}",
         "matrix expands into 1600 jobs; at most 1000"),
    ],
)  # fmt: skip
def test_bad_matrices_get_clear_errors(tmp_path: Path, matrix: str, message: str) -> None:
    text = f'[[report]]\nname = "weekly"\ncron = "0 6 * * *"\nmatrix = {matrix}\n'
    with pytest.raises(ConfigError, match=f"schedule.toml: entry 1 \\(weekly\\): {message}"):
        _load(tmp_path, text)


def test_matrix_jobs_keep_ids_run_folders_and_published_pages_apart(tmp_path: Path) -> None:
    job = '[[report]]\nname = "weekly"\ncron = "0 6 * * *"\n'
    with pytest.raises(ConfigError, match="entry 2: job id 'weekly' is used twice"):
        _load(tmp_path, job + "matrix = { days = [1] }\n" + job + "matrix = { days = [2] }\n")
    with pytest.raises(ConfigError, match=r"entry 2: job file name 'weekly.days-1' is used twice"):
        _load(tmp_path, job + "matrix = { days = [1] }\n" + job + 'id = "weekly.days-1"\n')
    with pytest.raises(ConfigError, match="would publish to the same page 'Weekly'; name a matrix"):
        _load(
            tmp_path, job + 'matrix = { days = [1, 2] }\npublish = true\npublish_title = "Weekly"\n'
        )
    with pytest.raises(
        ConfigError, match=r"names 'region', which is not a matrix parameter; it may name \{days\}"
    ):
        _load(
            tmp_path,
            job + 'matrix = { days = [1] }\npublish = true\npublish_title = "W {region}"\n',
        )
    with pytest.raises(ConfigError, match="job file name 'state' is reserved"):  # state.lock
        _load(tmp_path, job + 'id = "state"\n')
    with pytest.raises(ConfigError, match=r"\[defaults\] may set only"):
        _load(tmp_path, "[defaults]\nmatrix = { days = [1] }\n")
    titled = _load(
        tmp_path,
        job
        + 'matrix = { region = ["us", "uk"] }\npublish = true\npublish_title = "Weekly {region}"\n',
    )
    assert [e.publish_title for e in titled] == ["Weekly us", "Weekly uk"]
    default = _load(tmp_path, job + 'matrix = { region = ["us"] }\npublish = true\n')
    assert default[0].publish_title == "weekly report (region us)"


class _Runner:
    def __init__(self, *script: RunOutcome) -> None:
        self.script, self.calls = list(script), []

    def __call__(self, request: RunRequest) -> RunOutcome:
        self.calls.append(request)
        return self.script.pop(0) if self.script else RunOutcome("succeeded")


def test_each_combination_is_a_job_of_its_own_for_state_locks_and_retries(tmp_path: Path) -> None:
    entries = _load(
        tmp_path,
        '[[report]]\nname = "weekly"\ncron = "0 6 * * *"\nretries = 1\nretry_backoff_s = 0\n'
        'matrix = { region = ["us", "brazil"] }\n',
    )
    runner = _Runner(RunOutcome("failed", error="boom"))  # us fails once, then both succeed
    clock = lambda: datetime(2026, 11, 26, 6, 30, tzinfo=UTC)  # noqa: E731
    sched = Scheduler(entries, home=tmp_path, runner=runner, clock=clock, sleep=lambda s: None)
    results = sched.run_due()
    assert [(r.job, r.status, r.attempts) for r in results] == [
        ("weekly[region=us]", "succeeded", 2),
        ("weekly[region=brazil]", "succeeded", 1),
    ]
    assert [(c.run_id, c.attempt) for c in runner.calls] == [
        ("sched-0600-region-us", 1), ("sched-0600-region-us", 2), ("sched-0600-region-brazil", 1),
    ]  # fmt: skip
    state = SchedulerState(tmp_path / "reports" / ".scheduler").read()
    assert sorted(state) == ["weekly[region=brazil]", "weekly[region=us]"]
    assert sorted(p.name for p in (tmp_path / "reports" / ".scheduler").glob("weekly*.lock")) == [
        "weekly.region-brazil.lock", "weekly.region-us.lock",
    ]  # fmt: skip
    assert sched.run_due() == []  # the slot is handled for every combination


def test_the_readme_matrix_example_is_a_valid_schedule(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    (example,) = re.findall(r"```toml\n(.*?matrix.*?)```", readme, re.S)
    entries = _load(tmp_path, example, notebooks=NOTEBOOKS)
    assert len(entries) >= 3 and any("region=brazil" in e.key for e in entries)
