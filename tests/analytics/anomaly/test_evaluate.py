"""Event-level precision/recall helpers (table-driven)."""

from __future__ import annotations

import pandas as pd
import pytest

from opskit.analytics.anomaly.evaluate import alert_runs, event_scores, match_events

T = pd.date_range("2024-01-01", periods=10, freq="min", tz="UTC")


def _frame(flags: str, entity: str = "api") -> pd.DataFrame:
    """``flags``: one char per minute, ``x`` flagged, ``.`` normal, ``?`` unknown."""
    label = pd.array([{"x": True, ".": False, "?": None}[c] for c in flags], dtype="boolean")
    return pd.DataFrame(
        {"entity": entity, "timestamp": T[: len(flags)], "is_anomaly": label, "score": 0.7}
    )


@pytest.mark.parametrize(
    ("flags", "runs"),
    [
        ("..........", []),
        ("xx..x.....", [(0, 1), (4, 4)]),
        ("x?x.......", [(0, 0), (2, 2)]),
        ("xxxxxxxxxx", [(0, 9)]),
    ],
)
def test_alert_runs_are_maximal_flagged_stretches(flags, runs):
    got = alert_runs(_frame(flags), ["entity"])
    assert [(T.get_loc(a), T.get_loc(b)) for a, b in zip(got.start, got.end, strict=True)] == runs


def test_runs_do_not_span_two_series():
    both = pd.concat([_frame("....x"), _frame("x....", "db")], ignore_index=True)
    assert len(alert_runs(both, ["entity"])) == 2


# (flags, event minutes, tolerance, recall, precision)
CASES = [
    ("..xx......", (2, 4), "0min", 1.0, 1.0),
    ("......x...", (2, 4), "0min", 0.0, 0.0),
    ("......x...", (2, 4), "2min", 1.0, 1.0),
    ("x.x.......", (2, 4), "0min", 1.0, 0.5),
    ("..........", (2, 4), "0min", 0.0, float("nan")),
]


@pytest.mark.parametrize(("flags", "event", "tol", "recall", "precision"), CASES)
def test_event_scores(flags, event, tol, recall, precision):
    events = pd.DataFrame({"entity": ["api"], "start": [T[event[0]]], "end": [T[event[1]]]})
    s = event_scores(_frame(flags), events, on=["entity"], tolerance=tol)
    assert s.recall == recall
    assert s.precision == pytest.approx(precision, nan_ok=True)


def test_alerts_on_another_entity_do_not_count():
    events = pd.DataFrame({"entity": ["db"], "start": [T[2]], "end": [T[4]]})
    s = event_scores(_frame("..xx......"), events, on=["entity"])
    assert (s.recall, s.precision) == (0.0, 0.0)


def test_match_events_reports_delay_and_keeps_event_index():
    events = pd.DataFrame({"entity": ["api"], "start": [T[1]], "end": [T[5]]}, index=pd.Index([42]))
    out = match_events(alert_runs(_frame("...x......"), ["entity"]), events, on=["entity"])
    assert out.index.tolist() == [42]
    assert bool(out.loc[42, "found"])
    assert out.loc[42, "delay"] == pd.Timedelta("2min")


def test_missing_columns_raise_clearly():
    with pytest.raises(ValueError, match="lacks column"):
        alert_runs(pd.DataFrame({"timestamp": T}), [])
