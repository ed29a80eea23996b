"""Benchmark: complaint topics — agreement with known labels, readability, speed.

Prints markdown:

* CFPB narratives (``../shared/data``): NMI and ARI of the clusters against
  ``Product`` and ``Issue`` (auto topic count and a few fixed counts);
* Netflix 1-2 star reviews: the topics (labels, volumes, trend, sentiment) and
  the Spearman correlation of the lexicon sentiment with the star rating (all
  5,999 reviews);
* demo warehouse: NMI / ARI of the topics against the true themes
  (``demo_truth_tickets``) next to the agents' category;
* timings of ``find_topics`` at 5k and 60k tickets.

Run: ``python -m benchmarks.topics [--scale 0.05]`` (builds a temporary demo
warehouse at ``--scale``; 1.0 gives about 62,000 tickets). Shared data sections
are skipped when ``../shared/data`` (or ``$OPSKIT_SHARED_DATA``) is absent.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
from scipy.stats import spearmanr

from opskit.analytics.topics import find_topics, sentiment_scores
from opskit.analytics.topics.evaluate import (
    agreement,
    load_cfpb_narratives,
    load_netflix_reviews,
    shared_data_dir,
)
from opskit.catalog import warehouse_provenance
from opskit.demo import build_demo
from opskit.warehouse import Warehouse


def _timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def cfpb() -> None:
    frame = load_cfpb_narratives()
    print(f"## CFPB narratives ({len(frame):,}) vs labels\n")
    print(f"{frame['product'].nunique()} products, {frame['issue'].nunique()} issues.\n")
    print("| topics | NMI product | ARI product | NMI issue | ARI issue | seconds |")
    print("|---|---|---|---|---|---|")
    for k in ("auto", 8, 12, 16):
        res, secs = _timed(find_topics, frame, n_topics=k, subscriber=None)
        c = res.tables["assignments"]["topic_id"]
        p, i = agreement(frame["product"], c), agreement(frame["issue"], c)
        name = f"auto ({res.summary['n_topics']})" if k == "auto" else str(k)
        print(
            f"| {name} | {p['nmi']:.3f} | {p['ari']:.3f} | {i['nmi']:.3f} | {i['ari']:.3f} "
            f"| {secs:.2f} |"
        )
    print()


def netflix() -> None:
    every = load_netflix_reviews()
    rho = spearmanr(sentiment_scores(every["content"].fillna("")), every["score"]).statistic
    low = load_netflix_reviews(max_score=2)
    print(f"## Netflix Play Store reviews, 1-2 stars ({len(low):,})\n")
    print(f"Lexicon sentiment vs stars (all {len(every):,} reviews): Spearman {rho:.3f}\n")
    for k in ("auto", 12):
        res, secs = _timed(
            find_topics,
            low,
            text="content",
            n_topics=k,
            time="at",
            subscriber=None,
            stop_words=("netflix", "app"),
        )
        print(f"n_topics={k} -> {res.summary['n_topics']} topics in {secs:.2f} s\n")
        print("| topic | label | reviews | share | trend (28 d) | sentiment | example |")
        print("|---|---|---|---|---|---|---|")
        for r in res.frame.itertuples():
            ex = (r.examples[0] if r.examples else "")[:90].replace("|", "/")
            print(
                f"| {r.topic_id} | {r.label} | {r.tickets} | {r.share:.1%} | "
                f"{r.ticket_trend:+.0%} | {r.sentiment:+.2f} | {ex} |"
            )
        print()


def demo(scale: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "opskit.duckdb"
        build_demo(Warehouse(f"duckdb://{path}", read_only=False), seed=7, scale=scale)
        with Warehouse(f"duckdb://{path}") as wh:
            tickets = wh.table("complaints").order_by("ticket_id").to_pandas()
            truth = wh.table("demo_truth_tickets").to_pandas()
            subs = wh.table("subscriptions").to_pandas()
            source = warehouse_provenance(wh)
    theme = tickets.merge(truth, on="ticket_id", validate="one_to_one")["theme"]
    print(f"## Demo warehouse (seed 7, scale {scale}: {len(tickets):,} tickets)\n")
    agent = agreement(theme, tickets["category"])
    print("| clustering | topics | NMI vs true theme | ARI | seconds |")
    print("|---|---|---|---|---|")
    print(f"| agent category (82 % right) | 10 | {agent['nmi']:.3f} | {agent['ari']:.3f} | - |")
    for k in ("auto", 10):
        res, secs = _timed(find_topics, tickets, n_topics=k, churn=subs, provenance=source)
        a = agreement(theme, res.tables["assignments"]["topic_id"])
        print(
            f"| topics n_topics={k} | {res.summary['n_topics']} | {a['nmi']:.3f} | "
            f"{a['ari']:.3f} | {secs:.2f} |"
        )
    print("\nFindings (auto):\n")
    res = find_topics(tickets, churn=subs, provenance=source)
    for f in res.findings:
        print(f"- {f.text()}")
    print("\n## Speed (demo tickets, auto topic count, churn + trend)\n")
    print("| tickets | topics | seconds |")
    print("|---|---|---|")
    for n in (5_000, 20_000, 60_000):
        if n > len(tickets):
            reps = -(-n // len(tickets))
            part = pd.concat([tickets] * reps, ignore_index=True).iloc[:n]
        else:
            part = tickets.iloc[:n]
        res, secs = _timed(find_topics, part, churn=subs, provenance=source)
        print(f"| {n:,} | {res.summary['n_topics']} | {secs:.2f} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="demo warehouse scale")
    args = parser.parse_args()
    print("# Complaint topics benchmark\n")
    if (shared_data_dir() / "complaints").is_dir():
        cfpb()
        netflix()
    else:
        print(f"(shared data not found at {shared_data_dir()}: real-text sections skipped)\n")
    demo(args.scale)


if __name__ == "__main__":
    main()
