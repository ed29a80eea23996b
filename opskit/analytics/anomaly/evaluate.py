"""Event-level evaluation: do the alerts of an AnomalyFrame find known incidents?

Point-level precision/recall over-counts long incidents and punishes an alert that fires
a minute late. Operations teams think in *events* and *alerts* instead:

* an **alert** is a run of consecutive flagged points of one series
  (:func:`alert_runs`); a gap or an unflagged point ends it;
* an **event** (a planted or labelled incident) is **found** when an alert of a matching
  series overlaps ``[start, end + tolerance]`` (:func:`match_events`);
* an alert is **true** when it overlaps some matching event's ``[start, end +
  tolerance]`` (:func:`match_alerts`);
* **recall** is the share of events found, **precision** the share of true alerts
  (:func:`event_scores`).

"Matching" is set by the ``on`` columns, which may differ for the two sides: recall on
``["entity", "metric"]`` asks that the incident be seen on the metric it was planted
on; precision on ``["entity"]`` accepts an alert on any metric of the affected service
(an outage also moves the error rate and apdex).

Examples
--------
>>> import pandas as pd
>>> t = pd.date_range("2024-01-01", periods=6, freq="min", tz="UTC")
>>> frame = pd.DataFrame({"entity": "api", "timestamp": t,
...                       "is_anomaly": pd.array([False, True, True, False, False, True])})
>>> events = pd.DataFrame({"entity": ["api"], "start": [t[1]], "end": [t[2]]})
>>> s = event_scores(frame, events, on=["entity"])
>>> (s.recall, s.precision, s.n_alerts)
(1.0, 0.5, 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["EventScores", "alert_runs", "event_scores", "match_alerts", "match_events"]

TIME = "timestamp"


def _check_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}; has {list(frame.columns)}")


def alert_runs(frame: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Runs of consecutive flagged points, one row per alert.

    Parameters
    ----------
    frame
        An AnomalyFrame (``timestamp``, ``is_anomaly``, optionally ``score``) with one
        series per ``by`` group, each in time order.
    by
        Columns that identify a series (e.g. ``["entity", "metric"]``).

    Returns
    -------
    pd.DataFrame
        ``by`` columns, ``start``/``end`` (first/last flagged timestamp), ``n_points``
        and ``max_score`` (NaN without a ``score`` column), ordered by series and start.

    Raises
    ------
    ValueError
        If a needed column is missing.
    """
    by = list(by)
    _check_columns(frame, [*by, TIME, "is_anomaly"], "frame")
    flagged = frame["is_anomaly"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    if by:
        group = frame.groupby(by, sort=False, observed=True, dropna=False).ngroup().to_numpy()
    else:
        group = np.zeros(len(frame), dtype=np.int64)
    new_series = np.r_[True, group[1:] != group[:-1]]
    starts = flagged & (new_series | ~np.r_[False, flagged[:-1]])
    run_id = np.cumsum(starts) - 1
    rows = frame.loc[flagged, [*by, TIME]].copy()
    rows["_run"] = run_id[flagged]
    rows["_score"] = frame.loc[flagged, "score"] if "score" in frame.columns else np.nan
    agg = rows.groupby("_run", sort=True).agg(
        **{c: (c, "first") for c in by},
        start=(TIME, "min"),
        end=(TIME, "max"),
        n_points=(TIME, "size"),
        max_score=("_score", "max"),
    )
    return agg.reset_index(drop=True)


def _pairs(
    alerts: pd.DataFrame, events: pd.DataFrame, on: Sequence[str], tolerance: pd.Timedelta
) -> pd.DataFrame:
    """Every (alert, event) pair of the same ``on`` key that overlaps in time."""
    # positional ids, whatever the callers' indexes are
    a = alerts[[*on, "start", "end"]].reset_index(drop=True).reset_index(names="_alert")
    e = events[[*on, "start", "end"]].reset_index(drop=True).reset_index(names="_event")
    if on:
        both = a.merge(e, on=list(on), suffixes=("_a", "_e"))
    else:
        both = a.merge(e, how="cross", suffixes=("_a", "_e"))
    hit = (both["start_a"] <= both["end_e"] + tolerance) & (both["end_a"] >= both["start_e"])
    return both.loc[hit]


def match_events(
    alerts: pd.DataFrame,
    events: pd.DataFrame,
    *,
    on: Sequence[str] = (),
    tolerance: pd.Timedelta | str = "0min",
) -> pd.DataFrame:
    """The events with whether an alert found them.

    Parameters
    ----------
    alerts
        From :func:`alert_runs`.
    events
        One row per known incident: ``on`` columns, ``start``, ``end``.
    on
        Columns an alert must share with an event to count for it.
    tolerance
        How long after an event's end an alert still counts (alerting needs evidence,
        so a short incident is often confirmed just after it ends).

    Returns
    -------
    pd.DataFrame
        ``events`` plus ``found`` (bool), ``first_alert`` (start of the earliest
        matching alert, NaT if none) and ``delay`` (``first_alert - start``, negative
        for an alert that began before the event).
    """
    on, tol = list(on), pd.Timedelta(tolerance)
    _check_columns(alerts, [*on, "start", "end"], "alerts")
    _check_columns(events, [*on, "start", "end"], "events")
    pairs = _pairs(alerts, events, on, tol)
    first = pairs.groupby("_event")["start_a"].min().astype(alerts["start"].dtype)
    out = events.copy()
    out["first_alert"] = first.reindex(range(len(events))).array
    out["found"] = out["first_alert"].notna().to_numpy()
    out["delay"] = out["first_alert"] - out["start"]
    return out


def match_alerts(
    alerts: pd.DataFrame,
    events: pd.DataFrame,
    *,
    on: Sequence[str] = (),
    tolerance: pd.Timedelta | str = "0min",
) -> pd.DataFrame:
    """The alerts with whether each overlaps a known event (``true_alert``).

    Same matching rule as :func:`match_events`.
    """
    on, tol = list(on), pd.Timedelta(tolerance)
    _check_columns(alerts, [*on, "start", "end"], "alerts")
    _check_columns(events, [*on, "start", "end"], "events")
    hit = set(_pairs(alerts, events, on, tol)["_alert"])
    out = alerts.copy()
    out["true_alert"] = [i in hit for i in range(len(alerts))]
    return out


@dataclass(frozen=True)
class EventScores:
    """Event-level recall and alert-level precision, with the matched tables."""

    recall: float
    precision: float
    n_events: int
    n_alerts: int
    events: pd.DataFrame
    alerts: pd.DataFrame


def event_scores(
    frame: pd.DataFrame,
    events: pd.DataFrame,
    *,
    on: Sequence[str] = (),
    precision_on: Sequence[str] | None = None,
    series: Sequence[str] | None = None,
    tolerance: pd.Timedelta | str = "0min",
) -> EventScores:
    """Recall over ``events`` and precision over the alerts of an AnomalyFrame.

    Parameters
    ----------
    frame
        An AnomalyFrame, possibly of many series (key columns in front).
    events
        Known incidents: ``on`` columns, ``start``, ``end``.
    on
        Key an alert must share with an event for recall.
    precision_on
        Key for precision (default ``on``); e.g. ``["entity"]`` to accept an alert on
        any metric of the affected entity.
    series
        Columns identifying one series in ``frame`` (default: ``on`` plus
        ``precision_on``); alerts never span two series.
    tolerance
        Grace period after an event's end (see :func:`match_events`).

    Returns
    -------
    EventScores
        ``recall`` (NaN without events), ``precision`` (NaN without alerts), counts
        and the matched ``events``/``alerts`` tables.
    """
    on = list(on)
    prec_on = on if precision_on is None else list(precision_on)
    keys = list(series) if series is not None else list(dict.fromkeys([*on, *prec_on]))
    alerts = alert_runs(frame, keys)
    ev = match_events(alerts, events, on=on, tolerance=tolerance)
    al = match_alerts(alerts, events, on=prec_on, tolerance=tolerance)
    recall = float(ev["found"].mean()) if len(ev) else float("nan")
    precision = float(al["true_alert"].mean()) if len(al) else float("nan")
    return EventScores(recall, precision, len(ev), len(al), ev, al)
