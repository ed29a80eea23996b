"""Benchmark: calibration of the issue-duration intervals on demo issues and Apache Jira.

A time-based holdout (the latest-created 25 % of issues) is predicted by a log-normal AFT
model fitted on the earlier issues (censored at the holdout start). Reported per interval
level: the share of *resolved* held-out issues inside it, and the censoring-aware share
(Kaplan-Meier estimate of the probability-integral transform).

Run: ``python -m benchmarks.duration [--scale 0.2]`` (markdown to stdout).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import pandas as pd

from opskit.analytics.duration import issue_duration
from opskit.catalog import load
from opskit.config import load_settings
from opskit.demo import build_demo
from opskit.warehouse import Warehouse

JIRA = Path(__file__).resolve().parents[2] / "shared" / "data" / "jira" / "apache_jira_bugs.csv"


def jira_issues() -> tuple[pd.DataFrame, pd.Timestamp]:
    """Jira bugs with ``component`` = project:first component, and the data's as-of time."""
    cols = ["key", "project", "priority", "components", "created", "updated", "resolved"]
    df = pd.read_csv(JIRA, usecols=cols)
    df["component"] = df["project"] + ":" + df["components"].str.split(";").str[0].fillna("-")
    for col in ("created", "updated", "resolved"):
        df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
    as_of = df[["created", "updated", "resolved"]].max().max()
    return df, as_of


def rows(name: str, res_fn) -> list[str]:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    res = res_fn()
    took = time.perf_counter() - t0
    out = []
    for r in res.tables["calibration"].itertuples():
        out.append(
            f"| {name} | {res.summary['issues']} | {r.n} | {r.n_resolved} | {r.level:.0%} | "
            f"{r.coverage_resolved:.1%} | {r.coverage:.1%} | {took:.1f} |"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print("# Issue duration interval calibration (time-based holdout, latest 25 %)\n")
    print(
        "| data | issues | held out | resolved held out | interval | inside (resolved) | "
        "inside (censoring-aware) | s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        build_demo(Warehouse(f"duckdb://{path}", read_only=False), seed=7, scale=args.scale)
        settings = load_settings(warehouse_url=f"duckdb://{path}")
        issues = load("production_issues", settings=settings)
        print(
            "\n".join(
                rows(
                    f"demo issues (scale {args.scale})",
                    lambda: issue_duration(issues, min_count=10),
                )
            ),
            flush=True,
        )
    if not JIRA.exists():
        print("\nApache Jira data not found at", JIRA)
        return
    jira, as_of = jira_issues()
    feats = ("priority", "project", "component")
    print(
        "\n".join(
            rows(
                "Apache Jira (8 projects)",
                lambda: issue_duration(jira, features=feats, as_of=as_of, min_count=50),
            )
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
