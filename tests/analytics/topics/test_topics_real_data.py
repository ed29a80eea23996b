"""Real text: CFPB narratives against their labels, and Netflix 1-2 star reviews.

Skipped when ``../shared/data`` (or ``$OPSKIT_SHARED_DATA``) is absent. Numbers at
the time of writing (``python -m benchmarks.topics`` prints the current ones):
CFPB (1,532 narratives, auto = 8 topics) NMI 0.31 / ARI 0.14 against Product,
NMI 0.27 / ARI 0.07 against Issue.
"""

from __future__ import annotations

import re

import pytest
from scipy.stats import spearmanr

from opskit.analytics.topics import find_topics, sentiment_scores
from opskit.analytics.topics.evaluate import (
    agreement,
    load_cfpb_narratives,
    load_netflix_reviews,
)

# Known themes of low-star reviews (shared/data README 4a), as label words.
NETFLIX_THEMES = {
    "household / sharing": r"household|sharing|family",
    "login / account": r"login|log|account|password|sign",
    "price / payment": r"money|pay|price|subscription|payment|expensive",
    "crash / not working": r"working|open|crash|error|update|fix",
}


def test_cfpb_clusters_agree_with_product_and_issue_labels(shared_data):
    cfpb = load_cfpb_narratives(shared_data / "complaints" / "cfpb_complaints_sample.csv")
    res = find_topics(cfpb, subscriber=None)
    clusters = res.tables["assignments"]["topic_id"]
    product = agreement(cfpb["product"], clusters)
    issue = agreement(cfpb["issue"], clusters)
    assert product["nmi"] > 0.25 and product["ari"] > 0.08
    assert issue["nmi"] > 0.2
    labels = " ".join(res.frame["label"])
    assert re.search("debt|collection", labels) and re.search("credit report|report", labels)


def test_netflix_complaint_reviews_give_readable_known_themes(shared_data):
    reviews = load_netflix_reviews(
        max_score=2, path=shared_data / "complaints" / "netflix_playstore_reviews_2024.csv"
    )
    res = find_topics(
        reviews,
        text="content",
        n_topics=12,
        time="at",
        subscriber=None,
        stop_words=("netflix", "app"),
    )
    labels = " | ".join(res.frame["label"])
    for theme, pattern in NETFLIX_THEMES.items():
        assert re.search(pattern, labels), (theme, labels)
    terms = {t for terms in res.frame["top_terms"] for t in terms}
    assert {"ads", "ad"} & terms, "ads should be a top term of some theme"
    assert res.frame["ticket_trend"].notna().all()
    assert res.summary["unassigned"] < 0.1 * len(reviews)


def test_sentiment_tracks_star_rating_on_all_reviews(shared_data):
    reviews = load_netflix_reviews(
        path=shared_data / "complaints" / "netflix_playstore_reviews_2024.csv"
    )
    score = sentiment_scores(reviews["content"].fillna(""))
    rho = spearmanr(score, reviews["score"]).statistic
    assert rho > 0.4
    low = score[reviews["score"] <= 2].mean()
    high = score[reviews["score"] >= 4].mean()
    assert low < 0 < high


def test_missing_shared_data_skips(monkeypatch, tmp_path):
    from opskit.analytics.topics.evaluate import shared_data_dir

    monkeypatch.setenv("OPSKIT_SHARED_DATA", str(tmp_path / "nowhere"))
    assert shared_data_dir() == tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError):
        load_cfpb_narratives()
