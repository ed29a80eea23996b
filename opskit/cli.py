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
import sys
import time
from typing import Annotated, Any

import pandas as pd
import typer

from opskit.errors import OpsKitError

app = typer.Typer(
    help="opskit: operations analytics for a video-streaming service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
demo_app = typer.Typer(help="The synthetic demo warehouse.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _guard(fn: Any) -> Any:
    """Turn opskit's own errors into one clear line on stderr (no traceback)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except OpsKitError as exc:
            raise _fail(
                str(exc), 2 if exc.__class__.__name__ in ("DatasetError", "ConfigError") else 1
            ) from None

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
    report = build_demo(target, seed=seed, scale=scale, end=end)
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
    if rows:
        first = df["detail"].iloc[0] if len(df) else ""
        show = df[["name", "rows", "provenance", "as_of", "default_window"]].copy()
        show["as_of"] = pd.to_datetime(show["as_of"], utc=True).dt.strftime("%Y-%m-%d %H:%M UTC")
        typer.echo(show.to_string(index=False))
        typer.echo(f"\nprovenance: {first}")
    else:
        typer.echo(df[["name", "summary", "filters"]].to_string(index=False))


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
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            typer.echo(df.to_string(index=False, max_rows=limit or None))
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


if __name__ == "__main__":  # pragma: no cover
    app()
