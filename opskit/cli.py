"""The ``opskit`` command.

Examples::

    opskit demo build --scale 0.1
    opskit datasets --rows
    opskit show churn_signals --filter region=brazil --format csv
    opskit describe apm_health
    opskit doctor
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from opskit.errors import ConfigError, DatasetError, OpsKitError, ParameterError

app = typer.Typer(
    help="opskit: operations analytics for a video-streaming service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
demo_app = typer.Typer(help="The synthetic demo warehouse.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
report_app = typer.Typer(
    help="Report notebooks, run with papermill into reports/.", no_args_is_help=True
)
app.add_typer(report_app, name="report")
schedule_app = typer.Typer(help="When reports run (reports/schedule.toml).", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _guard(fn: Any) -> Any:
    """Turn opskit's own errors into one clear line on stderr (no traceback).

    Bad input (a dataset, filter, parameter or setting) exits 2, other errors 1.
    """
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except OpsKitError as exc:
            bad_input = isinstance(exc, DatasetError | ConfigError | ParameterError)
            raise _fail(str(exc), 2 if bad_input else 1) from None

    return wrapper


@app.callback()
def main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="log INFO lines to stderr")
    ] = False,
) -> None:
    """opskit: operations analytics for a video-streaming service."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@demo_app.command("build")
@_guard
def demo_build(
    seed: Annotated[
        int | None, typer.Option(help="random seed (default: setting demo_seed)")
    ] = None,
    scale: Annotated[
        float | None, typer.Option(help="size factor, 1.0 = ~290k subscribers")
    ] = None,
    end: Annotated[str | None, typer.Option(help="last day of the demo year, YYYY-MM-DD")] = None,
) -> None:
    """Generate the demo streaming business into the warehouse (replaces it atomically)."""
    from opskit.config import load_settings
    from opskit.demo import build_demo
    from opskit.warehouse import open_warehouse

    settings = load_settings()
    seed = settings.demo_seed if seed is None else seed
    scale = settings.demo_scale if scale is None else scale
    if not 0.001 <= scale <= 10:
        raise _fail(f"--scale must be between 0.001 and 10, got {scale}", 2)
    target = open_warehouse(settings, read_only=False)
    typer.echo(f"building demo warehouse (seed {seed}, scale {scale}) at {target.path or target}")
    t0 = time.perf_counter()
    report = build_demo(target, seed=seed, scale=scale, end=end, progress=True)
    typer.echo(
        f"done in {time.perf_counter() - t0:.1f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in report.rows.items() if not k.startswith("opskit"))
    )


def _parse_filters(name: str, raw: list[str]) -> dict[str, Any]:
    from opskit.catalog import get_dataset

    ds = get_dataset(name)
    kinds = {f.name: f.kind for f in ds.filters}
    out: dict[str, Any] = {}
    for item in raw:
        if "=" not in item:
            raise _fail(f"--filter takes key=value, got {item!r}", 2)
        key, value = item.split("=", 1)
        key = key.strip()
        out[key] = value.split(",") if kinds.get(key) == "choices" and "," in value else value
    return out


@app.command()
@_guard
def datasets(
    rows: Annotated[
        bool, typer.Option("--rows/--no-rows", help="load each dataset to count rows")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """List the catalog: name, rows, provenance and freshness of every dataset."""
    from opskit.catalog import datasets as list_datasets

    df = list_datasets(rows=rows)
    if as_json:
        typer.echo(df.to_json(orient="records", date_format="iso", indent=2))
        return
    from opskit.present import table_text

    if rows:
        first = df["detail"].iloc[0] if len(df) else ""
        show = df[["name", "rows", "provenance", "as_of", "default_window"]].copy()
        show["as_of"] = pd.to_datetime(show["as_of"], utc=True)
        typer.echo(table_text(show, max_rows=None, context="catalog"))
        typer.echo(f"\nData: {first}")
    else:
        typer.echo(table_text(df[["name", "summary", "filters"]], max_rows=None, context="catalog"))


@app.command()
@_guard
def show(
    name: Annotated[str, typer.Argument(help="dataset name (see `opskit datasets`)")],
    filter_: Annotated[
        list[str] | None, typer.Option("--filter", "-f", help="key=value; a,b for several")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table",
    limit: Annotated[int, typer.Option(help="rows to print in table format (0 = all)")] = 50,
) -> None:
    """Print one dataset, filtered."""
    from opskit import provenance
    from opskit.catalog import load

    if fmt not in ("table", "csv", "json"):
        raise _fail(f"--format must be table, csv or json, got {fmt!r}", 2)
    df = load(name, **_parse_filters(name, filter_ or []))
    p = provenance.of(df)
    if fmt == "csv":
        df.to_csv(sys.stdout, index=False)
    elif fmt == "json":
        payload = {
            "dataset": name,
            "filters": df.attrs.get("filters", {}),
            "provenance": p.to_dict(),
            "rows": json.loads(df.to_json(orient="records", date_format="iso")),
        }
        typer.echo(json.dumps(payload, indent=2, default=str))
    else:
        from opskit.present import table_text

        typer.echo(table_text(df, max_rows=limit or None, context=name))
        typer.echo(f"\n{len(df):,} rows; {p.label()}")


@app.command()
@_guard
def describe(name: Annotated[str, typer.Argument(help="dataset name")]) -> None:
    """Document a dataset: what it is, its filters and columns."""
    from opskit.catalog import dataset_info

    info = dataset_info(name)
    typer.echo(f"{info['name']}: {info['doc']}\n")
    typer.echo(
        f"default window: {info['default_window'] or 'none'}; live source: {info['live_source'] or 'none'}\n"
    )
    typer.echo("filters:")
    for f in info["filters"]:
        opts = f" ({', '.join(f['options'])})" if f["options"] else ""
        typer.echo(f"  {f['name']:18s} {f['kind']:9s} {f['doc']}{opts}")
    typer.echo("\ncolumns:")
    for col, doc in info["columns"].items():
        typer.echo(f"  {col:30s} {doc}")


@app.command()
@_guard
def doctor(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Check settings, the warehouse and each source (secrets are never printed)."""
    from opskit.doctor import run_checks

    report = run_checks()
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
    else:
        for section, items in report.items():
            typer.echo(f"[{section}]")
            for key, value in items.items():
                typer.echo(f"  {key}: {value}")
    if any(item.get("ok") is False for item in report.values() if isinstance(item, dict)):
        raise typer.Exit(1)


def _report_params(raw: list[str]) -> dict[str, str]:
    out = {}
    for item in raw:
        if "=" not in item:
            raise _fail(f"-p takes key=value, got {item!r}", 2)
        key, value = item.split("=", 1)
        out[key.strip()] = value
    return out


@report_app.command("run")
def report_run(
    name: Annotated[
        str | None, typer.Argument(help="report name (see `opskit report list`)")
    ] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="key=value")] = None,
    run_all: Annotated[
        bool, typer.Option("--all", help="run every report with its defaults")
    ] = False,
    run_id: Annotated[
        str | None, typer.Option(help="run folder name (for idempotent retries)")
    ] = None,
    logical_date: Annotated[
        str | None, typer.Option("--date", help="logical date YYYY-MM-DD")
    ] = None,
    jobs: Annotated[
        int,
        typer.Option("--jobs", "-j", min=0, help="reports run at once (0: one per CPU, at most 4)"),
    ] = 0,
    output: Annotated[
        Path | None, typer.Option(help="reports folder (default <home>/reports)")
    ] = None,
) -> None:
    """Run report notebook(s): exit 0 ok, 1 a cell failed, 2 bad parameters, 3 kernel/timeout."""
    from concurrent.futures import ThreadPoolExecutor
    from datetime import date as date_cls

    from opskit.config import load_settings
    from opskit.errors import ReportError, ReportExecutionError
    from opskit.reports import build_index, report_names, run_report

    if run_all == (name is not None):
        raise _fail("give a report name or --all (not both)", 2)
    home = load_settings().home
    root = output or home / "reports"
    names = report_names(home) if run_all else [str(name)]
    try:
        day = date_cls.fromisoformat(logical_date) if logical_date else None
    except ValueError:
        raise _fail(f"--date must be YYYY-MM-DD, got {logical_date!r}", 2) from None
    values = _report_params(param or [])

    def one(n: str) -> int:
        """Run one report, print one line; return its exit code."""
        try:
            run = run_report(n, values, run_id=run_id, logical_date=day, output_root=root)
            typer.echo(f"{n}: succeeded in {run.manifest['duration_s']:.1f} s -> {run.html}")
            return 0
        except ConfigError as exc:
            typer.echo(f"error: {exc}", err=True)
            return 2
        except ReportExecutionError as exc:
            typer.echo(f"{n}: FAILED: {exc} (notebook: {exc.output_path})", err=True)
            return 1 if exc.cell_index is not None else 3
        except ReportError as exc:
            typer.echo(f"error: {exc}", err=True)
            return 3

    workers = jobs or min(os.cpu_count() or 1, 4)
    # Each report runs in its own kernel process; threads only wait on them.
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(names)))) as pool:
        worst = max(pool.map(one, names), default=0)
    index = build_index(root)
    typer.echo(f"index: {index}")
    if worst:
        raise typer.Exit(worst)


@report_app.command("list")
@_guard
def report_list() -> None:
    """List the report notebooks and their parameters."""
    from opskit.config import load_settings
    from opskit.reports import notebook_path, report_names
    from opskit.reports.params import inspect

    home = load_settings().home
    for n in report_names(home):
        ps = inspect(notebook_path(n, home))
        typer.echo(
            f"{n}: " + ", ".join(f"{p['name']}: {p['type']} = {p['default']}" for p in ps.values())
        )


@report_app.command("index")
@_guard
def report_index() -> None:
    """Rebuild reports/index.html from every run folder."""
    from opskit.config import load_settings
    from opskit.reports import build_index

    typer.echo(build_index(load_settings().home / "reports"))


def _schedule_entries(home: Path, schedule_file: Path | None = None) -> list[Any]:
    """The jobs of the schedule (matrix jobs expanded), every report and parameter checked."""
    from opskit.reports import load_schedule, report_names
    from opskit.reports.runner import NOTEBOOK_DIR

    path = schedule_file or home / "reports" / "schedule.toml"
    return load_schedule(path, known_reports=report_names(home), notebooks=home / NOTEBOOK_DIR)


@schedule_app.command("list")
@_guard
def schedule_list() -> None:
    """Show each scheduled report and its next run (UTC)."""
    from opskit.config import load_settings
    from opskit.reports import next_runs
    from opskit.reports.scheduler import STATE_DIR
    from opskit.reports.state import SchedulerState

    home = load_settings().home
    entries = _schedule_entries(home)
    state = SchedulerState(home / "reports" / STATE_DIR).read()
    for entry, when in next_runs(entries):
        last = state.get(entry.key, {})
        done = f"  last: {last['last_slot'][:16]} {last.get('status')}" if last else ""
        typer.echo(
            f"{when:%Y-%m-%d %H:%M} UTC  {entry.key:28s} {entry.cron:15s} "
            f"{entry.parameters or ''}{done}"
        )


@schedule_app.command("crontab")
@_guard
def schedule_crontab() -> None:
    """Print crontab lines that run the schedule (install with `crontab`)."""
    import shutil

    from opskit.config import load_settings
    from opskit.reports import crontab_lines

    home = load_settings().home
    entries = _schedule_entries(home)
    exe = shutil.which("opskit") or str(
        __import__("pathlib").Path(sys.executable).parent / "opskit"
    )
    typer.echo("\n".join(crontab_lines(entries, opskit=exe, home=home)))


@schedule_app.command("run")
@_guard
def schedule_run(
    once: Annotated[
        bool, typer.Option("--once", help="run whatever is due, then exit (for cron or CI)")
    ] = False,
    schedule_file: Annotated[
        str | None, typer.Option("--file", help="schedule file (default reports/schedule.toml)")
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            min=0,
            help="due jobs run at once (default 1; 0: one per CPU, at most 4)",
        ),
    ] = 1,
) -> None:
    """Run due reports: retries, catch-up once, one run per job at a time.

    With --once: exit 0 when nothing failed, 1 when a job failed, 2 on a bad
    schedule. Without it: keep running until SIGINT/SIGTERM (running jobs finish).
    """
    import signal
    from pathlib import Path

    from opskit.config import load_settings
    from opskit.reports.scheduler import JobResult, Scheduler

    home = load_settings().home
    path = Path(schedule_file) if schedule_file else home / "reports" / "schedule.toml"

    def show(r: JobResult) -> None:
        where = f" -> {r.folder}" if r.folder else ""
        extra = f" ({r.error})" if r.error else ""
        if r.missed:
            extra += f" [{r.missed} older missed slot(s) skipped]"
        if r.publish:
            extra += f" [publish: {r.publish.get('status')}]"
        typer.echo(
            f"{r.job} @ {r.slot:%Y-%m-%d %H:%M} UTC: {r.status}"
            f"{f' after {r.attempts} attempt(s)' if r.attempts else ''}{where}{extra}",
            err=r.is_failure,
        )

    workers = jobs or min(os.cpu_count() or 1, 4)
    scheduler = Scheduler(path, home=home, on_result=show, jobs=workers)
    scheduler.entries()  # a bad schedule fails here (exit 2), before anything runs
    if once:
        results = scheduler.run_due()
        if not results:
            nxt = scheduler.next_due()
            typer.echo(f"nothing due; next slot {nxt:%Y-%m-%d %H:%M} UTC" if nxt else "no jobs")
        if any(r.is_failure for r in results):
            raise typer.Exit(1)
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: scheduler.stop())
    typer.echo(
        f"scheduler running ({path}, {workers} job(s) at once); stop with Ctrl-C or SIGTERM",
        err=True,
    )
    scheduler.run_forever()


@schedule_app.command("export")
@_guard
def schedule_export(
    airflow: Annotated[
        Path, typer.Option("--airflow", help="Airflow DAGs folder to write the DAG file into")
    ],
    schedule_file: Annotated[
        Path | None, typer.Option("--file", help="schedule file (default reports/schedule.toml)")
    ] = None,
    prefix: Annotated[str, typer.Option(help="DAG ids are <prefix>_<job id>")] = "opskit",
    opskit: Annotated[
        str, typer.Option(help="command the tasks run (default: opskit on the workers' PATH)")
    ] = "opskit",
    worker_home: Annotated[
        str | None,
        typer.Option(help="OPSKIT_HOME for the tasks (default: the workers' environment)"),
    ] = None,
) -> None:
    """Write the schedule as Airflow DAGs: one per job, one task per matrix combination."""
    from opskit.config import load_settings
    from opskit.reports.airflow import write_dag_file

    home = load_settings().home
    path = schedule_file or home / "reports" / "schedule.toml"
    entries = _schedule_entries(home, path)
    out = write_dag_file(
        entries, airflow, source=str(path), prefix=prefix, opskit=opskit, home=worker_home
    )
    dags = len({e.base_key for e in entries})
    typer.echo(f"{out}: {dags} DAG(s), {len(entries)} task(s)")
    publishing = [e.key for e in entries if e.publish]
    if publishing:
        typer.echo(
            f"note: {len(publishing)} job(s) publish to Confluence under `opskit schedule run`; "
            "their Airflow tasks only run the report",
            err=True,
        )


@app.command("mcp")
@_guard
def mcp_serve(
    http: Annotated[
        bool, typer.Option("--http", help="streamable HTTP on 127.0.0.1 instead of stdio")
    ] = False,
    port: Annotated[int, typer.Option("--port", help="HTTP port (with --http)")] = 8765,
    warm: Annotated[
        bool,
        typer.Option("--warm/--no-warm", help="answer every analysis's default question at start"),
    ] = True,
) -> None:
    """Serve datasets and analyses to AI assistants over MCP (stdio by default)."""
    from opskit.mcpserver import serve

    serve("streamable-http" if http else "stdio", port=port, warm=warm)


@app.command()
@_guard
def dashboard(
    port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8866,
    warm: Annotated[
        bool, typer.Option("--warm/--no-warm", help="warm every one-filter view in the background")
    ] = True,
    max_kernels: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="live kernels at most, preheated pools included; viewers beyond get a busy "
            "page (default: setting OPSKIT_DASHBOARD__MAX_KERNELS, 12)",
            show_default=False,
        ),
    ] = None,
    cull_idle: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="seconds a closed page's kernel may sit idle before it stops "
            "(default: setting OPSKIT_DASHBOARD__CULL_IDLE_S, 120)",
            show_default=False,
        ),
    ] = None,
    start_timeout: Annotated[
        float | None,
        typer.Option(
            min=1,
            help="seconds Voila may take to answer HTTP "
            "(default: setting OPSKIT_DASHBOARD__START_TIMEOUT_S, 180)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the Voila dashboards on 127.0.0.1 (precomputes what is slow first).

    The URLs are printed once the server answers. Voila's own output goes to
    logs/dashboard-<port>.log under the project home.

    Ctrl-C or SIGTERM stops Voila, its kernels and the warmer, and frees the port.
    """
    from opskit.config import load_settings
    from opskit.dashboards.serving.process import run

    limits = {
        "max_kernels": max_kernels,
        "cull_idle_s": cull_idle,
        "start_timeout_s": start_timeout,
    }
    chosen = {k: v for k, v in limits.items() if v is not None}
    settings = load_settings(dashboard=chosen) if chosen else load_settings()
    run(port=port, settings=settings, warm_grid=warm, say=typer.echo)


if __name__ == "__main__":  # pragma: no cover
    app()
