"""The lexicon sentiment score: sign, negation, intensifiers, bounds."""

from __future__ import annotations

import pytest

from opskit.analytics.topics import sentiment_score, sentiment_scores

CASES = [
    ("great app, love it", "positive"),
    ("terrible, it keeps crashing and buffering", "negative"),
    ("the app is not good", "negative"),
    ("not bad at all", "positive"),
    ("", "zero"),
    ("the show starts at nine", "zero"),
    ("I can't log in, it's broken", "negative"),
]


@pytest.mark.parametrize(("text", "sign"), CASES)
def test_sentiment_sign(text, sign):
    score = sentiment_score(text)
    assert {"positive": score > 0, "negative": score < 0, "zero": score == 0}[sign]


def test_intensifier_strengthens_and_scores_stay_in_bounds():
    assert sentiment_score("very bad") < sentiment_score("bad") < 0
    many = " ".join(["awful"] * 50)
    assert -1 <= sentiment_score(many) < -0.95


def test_negative_words_flip_but_weaken_when_negated():
    assert 0 < sentiment_score("not bad") < -sentiment_score("bad")


def test_vector_form_matches_scalar():
    texts = [t for t, _ in CASES]
    assert list(sentiment_scores(texts)) == [sentiment_score(t) for t in texts]
