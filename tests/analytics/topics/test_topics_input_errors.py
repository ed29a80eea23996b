"""Bad input gets a clear ValueError, never a silent result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opskit.analytics.topics import find_topics

TEXTS = ["video keeps buffering", "charged twice refund", "password reset fails"] * 10

CASES = [
    ("empty frame", pd.DataFrame({"text": pd.Series([], dtype=object)}), {}, "empty"),
    ("missing column", pd.DataFrame({"body": TEXTS}), {}, "text column 'text' not found"),
    ("numeric column", pd.DataFrame({"text": np.arange(30)}), {}, "must hold strings"),
    ("mixed object column", pd.DataFrame({"text": [*TEXTS[:-1], 42]}), {}, "must hold strings"),
    ("all empty", pd.DataFrame({"text": ["", "  ", None] * 10}), {}, "empty or missing"),
    ("stop words only", pd.DataFrame({"text": ["the and of", "it is"] * 10}), {}, "content words"),
    ("bad n_topics", pd.DataFrame({"text": TEXTS}), {"n_topics": "many"}, "n_topics"),
    ("zero n_topics", pd.DataFrame({"text": TEXTS}), {"n_topics": 0}, "n_topics"),
    ("bool n_topics", pd.DataFrame({"text": TEXTS}), {"n_topics": True}, "n_topics"),
    (
        "named time column missing",
        pd.DataFrame({"text": TEXTS}),
        {"time": "opened"},
        "time column 'opened' not found",
    ),
    (
        "time column not datetimes",
        pd.DataFrame({"text": TEXTS, "created_at": ["soon"] * 30}),
        {},
        "does not hold datetimes",
    ),
    (
        "churn without subscriber",
        pd.DataFrame({"text": TEXTS}),
        {"churn": pd.DataFrame({"subscriber_id": [1], "cancelled_at": ["2026-01-01"]})},
        "subscriber",
    ),
]


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_raises_clear_value_error(frame, kwargs, message, prov):
    with pytest.raises(ValueError, match=message):
        find_topics(frame, provenance=prov, **kwargs)


def test_frame_without_provenance_needs_provenance_argument():
    with pytest.raises(ValueError, match="provenance"):
        find_topics(pd.DataFrame({"text": TEXTS}))


def test_churn_frame_without_known_columns_raises(planted):
    bad = pd.DataFrame({"subscriber_id": [1], "when": ["2026-01-01"]})
    with pytest.raises(ValueError, match="cancelled_at"):
        find_topics(planted, n_topics=3, churn=bad)


def test_not_a_frame_raises_type_error(prov):
    with pytest.raises(TypeError, match="DataFrame"):
        find_topics(TEXTS, provenance=prov)  # type: ignore[arg-type]


def test_assign_rejects_non_strings(planted):
    res = find_topics(planted, n_topics=3)
    with pytest.raises(ValueError, match="strings"):
        res.assign(["fine text", 3])  # type: ignore[list-item]
