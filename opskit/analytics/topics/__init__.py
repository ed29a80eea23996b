"""Complaint topics: themes, labels, examples, volume, trend, sentiment, churn.

TF-IDF (unigrams + bigrams) and non-negative matrix factorisation, with the
topic count chosen by stability, a transparent lexicon sentiment score and the
churn lift of each theme's complainants.

>>> from opskit.analytics.topics import find_topics          # doctest: +SKIP
>>> res = find_topics(complaints, churn=subscription_events)  # doctest: +SKIP
>>> res.frame[["label", "tickets", "ticket_trend", "churn_lift"]]  # doctest: +SKIP
"""

from __future__ import annotations

from opskit.analytics.topics.core import TopicsResult, find_topics
from opskit.analytics.topics.sentiment import sentiment_score, sentiment_scores
from opskit.analytics.topics.warehouse import topics_from_warehouse

__all__ = [
    "TopicsResult",
    "find_topics",
    "sentiment_score",
    "sentiment_scores",
    "topics_from_warehouse",
]
