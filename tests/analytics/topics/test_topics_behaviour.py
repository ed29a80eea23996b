"""find_topics on a planted corpus: themes, volumes, trend, churn, assign, chart, findings."""

from __future__ import annotations

import re

import altair as alt
import numpy as np
import pandas as pd
import pytest

from opskit.analytics.topics import TopicsResult, find_topics
from opskit.analytics.topics.evaluate import agreement
from opskit.present import fmt

FRAME_COLUMNS = [
    "topic_id",
    "label",
    "top_terms",
    "tickets",
    "share",
    "recent_tickets",
    "previous_tickets",
    "ticket_trend",
    "sentiment",
    "complainants",
    "churned",
    "churn_rate",
    "churn_lift",
    "churn_p_value",
    "examples",
    "provenance",
]


@pytest.fixture()
def result(planted, cancels) -> TopicsResult:
    return find_topics(planted, n_topics=3, churn=cancels)


def _topic_of(res: TopicsResult, planted: pd.DataFrame, theme: str) -> int:
    a = res.tables["assignments"]
    return int(a.loc[planted["theme"] == theme, "topic_id"].mode().iat[0])


def test_frame_has_one_row_per_topic_with_documented_columns(result, planted):
    assert list(result.frame.columns) == FRAME_COLUMNS
    assert list(result.frame["topic_id"]) == [0, 1, 2]
    assert result.frame["tickets"].sum() == len(planted)
    assert result.frame["share"].sum() == pytest.approx(1.0)
    assert (result.frame["tickets"].diff().dropna() <= 0).all()  # topic 0 is the largest
    assert result.provenance.kind == "demo"


def test_planted_themes_are_recovered_with_readable_labels(result, planted):
    assert agreement(planted["theme"], result.tables["assignments"]["topic_id"])["nmi"] > 0.95
    labels = " ".join(result.frame["label"])
    for word in ("buffering", "charge|card|billing", "password|login|account"):
        assert re.search(word, labels), labels
    assert all(" / " in label for label in result.frame["label"])


def test_examples_are_typical_texts_of_the_topic(result, planted):
    login = _topic_of(result, planted, "login")
    examples = result.frame.loc[login, "examples"]
    assert 1 <= len(examples) <= 3
    assert all(e in planted["text"].str.strip().tolist() for e in examples)
    assert all(re.search("password|login|account", e) for e in examples)


def test_trend_flags_the_growing_theme(result, planted):
    billing = _topic_of(result, planted, "billing")
    assert result.frame["ticket_trend"].idxmax() == billing
    assert result.frame.loc[billing, "ticket_trend"] > 0.5
    weekly = result.tables["weekly"]
    assert weekly.groupby("topic_id")["tickets"].sum().tolist() == result.frame["tickets"].tolist()


def test_churn_lift_finds_the_planted_churn_driver(result, planted):
    login = _topic_of(result, planted, "login")
    assert result.frame["churn_lift"].idxmax() == login
    assert result.frame.loc[login, "churn_lift"] > 2
    assert result.frame.loc[login, "churn_p_value"] < 0.001
    base = result.summary["base_churn_rate"]
    assert 0.1 < base < 0.3


def test_findings_name_churn_driver_and_growth_with_computed_numbers(result, planted):
    titles = [f.title for f in result.findings]
    login_label = result.frame.loc[_topic_of(result, planted, "login"), "label"]
    billing_label = result.frame.loc[_topic_of(result, planted, "billing"), "label"]
    assert login_label in titles[0] and "cancel" in titles[0]
    assert any(billing_label in t and "fastest-growing" in t for t in titles)
    churn = result.findings[0]
    row = result.frame.loc[_topic_of(result, planted, "login")]
    assert churn.evidence["churn lift"][0] == pytest.approx(row["churn_lift"])
    assert fmt(row["churn_lift"], "ratio") in churn.text()
    assert "[demo data]" in churn.text()


def test_deterministic_given_random_state(planted, cancels):
    a = find_topics(planted, churn=cancels, random_state=5)
    b = find_topics(planted, churn=cancels, random_state=5)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    pd.testing.assert_frame_equal(a.tables["assignments"], b.tables["assignments"])


def test_auto_topic_count_reports_its_selection(planted):
    res = find_topics(planted)
    sel = res.tables["model_selection"]
    assert sel["is_chosen"].sum() == 1
    assert res.summary["n_topics"] == int(sel.loc[sel["is_chosen"], "n_topics"].iat[0])
    assert sel["stability"].between(0, 1.0001).all()


def test_assign_labels_new_texts_like_the_fit(result, planted):
    new = result.assign(["my video keeps buffering", "password reset never arrives", "", None])
    assert list(new.columns) == ["text", "topic_id", "label", "weight", "sentiment"]
    assert new.loc[0, "topic_id"] == _topic_of(result, planted, "buffering")
    assert new.loc[1, "topic_id"] == _topic_of(result, planted, "login")
    assert list(new.loc[2:, "topic_id"]) == [-1, -1]
    again = result.assign(planted["text"])
    fitted = result.tables["assignments"]["topic_id"].to_numpy()
    assert (again["topic_id"].to_numpy() == fitted).mean() > 0.98


def test_empty_and_short_texts_are_unassigned_not_dropped(planted, prov):
    frame = pd.concat(
        [planted[["text"]], pd.DataFrame({"text": ["", None, "ok", "the", "buffering"]})],
        ignore_index=True,
    )
    res = find_topics(frame, n_topics=3, time=None, subscriber=None, provenance=prov)
    a = res.tables["assignments"]
    assert len(a) == len(frame)
    assert list(a["topic_id"].iloc[-5:-1]) == [-1, -1, -1, -1]
    assert a["topic_id"].iat[-1] >= 0  # one known word: assigned, though it did not shape topics
    assert res.summary["unassigned"] == 4
    assert res.frame["tickets"].sum() == len(frame) - 4


def test_missing_default_time_and_subscriber_columns_are_skipped(planted, prov):
    res = find_topics(planted[["text"]], n_topics=3, provenance=prov)
    assert res.frame["ticket_trend"].isna().all()
    assert res.frame["churn_lift"].isna().all()
    assert "weekly" not in res.tables
    assert any("created_at" in n for n in res.summary["notes"])


def test_chart_is_altair_with_bars_and_trend_lines(result):
    chart = result.chart()
    assert isinstance(chart, alt.VConcatChart)
    spec = chart.to_dict()
    marks = [
        c["mark"]["type"] if isinstance(c["mark"], dict) else c["mark"] for c in spec["vconcat"]
    ]
    assert marks == ["bar", "line"]


def test_html_repr_shows_provenance_and_findings(result):
    html = result._repr_html_()
    assert "opskit-provenance" in html and "cancel" in html


def test_sentiment_is_mean_of_document_scores(result):
    a = result.tables["assignments"]
    means = a.groupby("topic_id")["sentiment"].mean()
    np.testing.assert_allclose(result.frame["sentiment"], means.to_numpy())
