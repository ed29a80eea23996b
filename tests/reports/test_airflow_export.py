"""``opskit schedule export --airflow``: a DAG file Airflow loads, running the scheduler's commands.

The first tests read the generated file without Airflow (its imports, and what it
builds when run against stand-in ``airflow`` modules). The last one uses a real
Apache Airflow from its own virtualenv (never opskit's: Airflow's pins conflict),
named by ``OPSKIT_AIRFLOW_PYTHON``: it loads the DAG with no import errors and runs
one report task end to end with ``airflow dags test``. Without that variable the
test skips, saying how to make the virtualenv; under ``OPSKIT_REQUIRE_SYSTEM=1``
(``.ci/run``, which makes it) it fails instead.
"""

from __future__ import annotations

import ast
import json
import os
import shlex
import shutil
import subprocess
import sys
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
import pytest
from typer.testing import CliRunner

from opskit.cli import app
from opskit.reports import load_schedule, notebook_path
from opskit.reports.airflow import write_dag_file
from opskit.reports.jobs import RunRequest
from opskit.reports.params import validate
from opskit.reports.schedule import report_command
from tests.conftest import system_required

REPO = Path(__file__).resolve().parents[2]
SLOT = datetime(2026, 11, 26, 6, tzinfo=UTC)
# Read at import: the demo_env fixture clears every OPSKIT_* variable while it is active.
AIRFLOW_PYTHON = os.environ.get("OPSKIT_AIRFLOW_PYTHON", "")
AIRFLOW_REQUIRED = system_required()
AIRFLOW_HOWTO = (
    "python3 -m venv /opt/airflow-venv && /opt/airflow-venv/bin/pip install "
    "'apache-airflow==2.10.5' -c .ci/airflow-constraints.txt, then "
    "export OPSKIT_AIRFLOW_PYTHON=/opt/airflow-venv/bin/python"
)

SCHEDULE = """
[defaults]
retries = 1
timeout_s = 900

[[report]]
name = "executive_summary"
id = "exec"
cron = "0 6 * * *"
parameters = { days = 30 }
matrix = [{ region = "brazil" }, { region = "north america", days = 7 }]
retries = 3
retry_backoff_s = 120
publish = true
publish_title = "Executive summary {region}"

[[report]]
name = "service_health"
cron = "5 * * * *"
parameters = { days = 7, resolution = "5min", include_qoe = false }
retry_backoff_s = 0
timeout_s = 300
"""


class _Recorder:
    """Stand-ins for the Airflow classes the DAG file uses: they record their arguments."""

    def __init__(self) -> None:
        self.dags: dict[str, dict[str, Any]] = {}
        self.tasks: list[dict[str, Any]] = []
        recorder = self

        class DAG:
            def __init__(self, dag_id: str, **kw: Any) -> None:
                recorder.dags[dag_id] = {"dag": self, **kw}
                self.dag_id = dag_id

            def __enter__(self) -> DAG:
                recorder.current = self.dag_id
                return self

            def __exit__(self, *exc: object) -> None:
                recorder.current = ""

        def bash_operator(**kw: Any) -> None:
            recorder.tasks.append({"dag_id": recorder.current, **kw})

        self.current = ""
        self.modules = {
            "airflow": types.ModuleType("airflow"),
            "airflow.timetables.trigger": types.ModuleType("airflow.timetables.trigger"),
            "airflow.operators.bash": types.ModuleType("airflow.operators.bash"),
        }
        self.modules["airflow"].DAG = DAG  # type: ignore[attr-defined]
        self.modules["airflow.timetables.trigger"].CronTriggerTimetable = (  # type: ignore[attr-defined]
            lambda cron, timezone: ("cron", cron, timezone)
        )
        self.modules["airflow.operators.bash"].BashOperator = bash_operator  # type: ignore[attr-defined]


def _entries(tmp_path: Path) -> list[Any]:
    path = tmp_path / "schedule.toml"
    path.write_text(SCHEDULE)
    return load_schedule(path, notebooks=REPO / "notebooks" / "analyses")


def test_the_dag_file_imports_airflow_and_the_standard_library_only(tmp_path: Path) -> None:
    dag_file = write_dag_file(_entries(tmp_path), tmp_path / "dags")
    assert dag_file.name == "opskit_dags.py" and [p.name for p in dag_file.parent.iterdir()] == [
        "opskit_dags.py"
    ]
    imported = set()
    for node in ast.walk(ast.parse(dag_file.read_text())):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(str(node.module))
    assert imported == {
        "__future__", "datetime", "airflow", "airflow.timetables.trigger",
        "airflow.operators.bash", "airflow.providers.standard.operators.bash",
    }  # fmt: skip


def test_each_task_runs_the_schedulers_command_with_its_retries_and_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = _entries(tmp_path)
    dag_file = write_dag_file(entries, tmp_path / "dags", opskit="/opt/opskit/bin/opskit")
    fake = _Recorder()
    for name, module in fake.modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    exec(compile(dag_file.read_text(), str(dag_file), "exec"), {"__name__": "opskit_dags"})

    assert {k: (v["schedule"], v["catchup"], v["max_active_runs"]) for k, v in fake.dags.items()} == {
        "opskit_exec": (("cron", "0 6 * * *", "UTC"), False, 1),
        "opskit_service_health": (("cron", "5 * * * *", "UTC"), False, 1),
    }  # fmt: skip
    assert [(t["dag_id"], t["task_id"]) for t in fake.tasks] == [
        ("opskit_exec", "exec.region-brazil"),
        ("opskit_exec", entries[1].slug),
        ("opskit_service_health", "service_health"),
    ]
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    for entry, task in zip(entries, fake.tasks, strict=True):
        assert task["retries"] == entry.retries
        assert task["retry_delay"] == timedelta(seconds=entry.retry_backoff_s)
        assert task["retry_exponential_backoff"] is (entry.retry_backoff_s > 0)
        assert task["max_retry_delay"] == timedelta(hours=1)
        assert task["execution_timeout"] == timedelta(seconds=entry.timeout_s)
        # Airflow renders the command for a slot: it is the scheduler's, to the same run folder
        rendered = env.from_string(task["bash_command"]).render(
            logical_date=SLOT, ds=SLOT.date().isoformat()
        )
        run_id = RunRequest(entry, SLOT, 1, tmp_path).run_id
        assert shlex.split(rendered) == [
            *report_command(entry, opskit="/opt/opskit/bin/opskit"),
            "--run-id", run_id, "--date", "2026-11-26",
        ]  # fmt: skip
        args = shlex.split(rendered)
        given = dict(args[i + 1].split("=", 1) for i, a in enumerate(args) if a == "-p")
        notebook = notebook_path(entry.name, REPO)
        assert validate(notebook, given) == validate(notebook, entry.parameters)
    assert RunRequest(entries[0], SLOT, 1, tmp_path).run_id == "sched-0600-exec-region-brazil"
    assert "Confluence is left to `opskit schedule run`" in fake.tasks[0]["doc_md"]


def test_the_export_command_checks_the_schedule_and_says_what_it_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSKIT_HOME", str(REPO))
    schedule = tmp_path / "schedule.toml"
    schedule.write_text(SCHEDULE)
    cli = CliRunner()
    args = ["schedule", "export", "--airflow", str(tmp_path / "dags"), "--file", str(schedule)]
    done = cli.invoke(app, [*args, "--worker-home", "/srv/ops"])
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == f"{tmp_path / 'dags' / 'opskit_dags.py'}: 2 DAG(s), 3 task(s)"
    assert "2 job(s) publish to Confluence" in done.stderr
    assert "ENV = {'OPSKIT_HOME': '/srv/ops'}" in (tmp_path / "dags" / "opskit_dags.py").read_text()
    schedule.write_text(SCHEDULE.replace('"north america", days = 7', '"north america", dayz = 7'))
    bad = cli.invoke(app, args)
    assert bad.exit_code == 2
    assert "exec[region=\"north america\",dayz=7]: executive_summary has no parameter 'dayz'" in (
        bad.stderr
    )
    schedule.write_text(SCHEDULE)
    assert cli.invoke(app, [*args, "--prefix", "ops kit"]).exit_code == 2


# -- a real Airflow -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def airflow_python() -> str:
    """The Python of a virtualenv holding Apache Airflow (``OPSKIT_AIRFLOW_PYTHON``)."""
    if not AIRFLOW_PYTHON:
        problem = "OPSKIT_AIRFLOW_PYTHON is not set"
    elif not Path(AIRFLOW_PYTHON).is_file():
        problem = f"OPSKIT_AIRFLOW_PYTHON={AIRFLOW_PYTHON} does not exist"
    else:
        return AIRFLOW_PYTHON
    reason = f"Apache Airflow in its own virtualenv is needed and {problem}; make it with: {AIRFLOW_HOWTO}"
    if AIRFLOW_REQUIRED:
        pytest.fail(f"required here but cannot run: {reason}")
    pytest.skip(reason)


ONE_TASK = """
[[report]]
name = "executive_summary"
cron = "0 6 * * *"
parameters = { days = 7 }
matrix = { region = ["brazil"] }
retries = 1
retry_backoff_s = 5
timeout_s = 240
"""


@pytest.mark.slow
def test_airflow_loads_the_dag_and_runs_a_report_task_into_the_schedulers_run_folder(
    airflow_python: str,
    demo_env: dict[str, str],
    opskit_kernel: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "home"
    (home / "notebooks" / "analyses").mkdir(parents=True)
    shutil.copy(
        REPO / "notebooks" / "analyses" / "executive_summary.ipynb", home / "notebooks" / "analyses"
    )
    (home / "reports").mkdir()
    (home / "reports" / "schedule.toml").write_text(ONE_TASK)
    monkeypatch.setenv("OPSKIT_HOME", str(home))
    dags = tmp_path / "dags"
    export = CliRunner().invoke(app, ["schedule", "export", "--airflow", str(dags)])
    assert export.exit_code == 0, export.output

    airflow_home = tmp_path / "airflow"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "SequentialExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        # the worker finds `opskit` on its PATH, as a real worker would
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "OPSKIT_HOME": str(home),
        "OPSKIT_WAREHOUSE_URL": demo_env["OPSKIT_WAREHOUSE_URL"],
    }

    def airflow(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [airflow_python, "-m", "airflow", *args], env=env, cwd=tmp_path,
            capture_output=True, text=True, timeout=240, check=False,
        )  # fmt: skip

    migrated = airflow("db", "migrate")
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    errors = airflow("dags", "list-import-errors", "--output", "json")
    assert errors.returncode == 0, errors.stdout[-2000:] + errors.stderr[-2000:]
    assert errors.stdout.strip().splitlines()[-1] in ("[]", "No data found"), errors.stdout

    ran = airflow("dags", "test", "opskit_executive_summary", SLOT.isoformat())
    log = ran.stdout + ran.stderr
    assert ran.returncode == 0, log[-4000:]
    assert "--run-id sched-0600-region-brazil --date 2026-11-26" in log
    (entry,) = load_schedule(home / "reports" / "schedule.toml")
    folder = (
        home
        / "reports"
        / "executive_summary"
        / "2026-11-26"
        / RunRequest(entry, SLOT, 1, home).run_id
    )
    manifest = json.loads((folder / "run.json").read_text())  # where the scheduler would write it
    assert manifest["status"] == "succeeded"
    assert manifest["parameters"]["region"] == "brazil" and manifest["parameters"]["days"] == 7
    assert (folder / "executive_summary.html").is_file()
