"""Per-topic measures: examples, weekly volumes and trend, churn of complainants."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from opskit.analytics.topics._model import FittedTopics

__all__ = ["churn_by_topic", "examples", "first_cancellations", "trend", "weekly"]

N_EXAMPLES = 3
EXAMPLE_CHARS = 240


def examples(fit: FittedTopics) -> list[list[str]]:
    """The most typical texts of each topic.

    Typicality of a distinct fitting text for its topic = cosine similarity of
    its TF-IDF vector with the topic's term vector, times the topic's share of
    the text's weight; texts that differ only in case or spacing are shown once.
    """
    h = np.asarray(fit.model.nmf.components_, dtype=np.float64)
    h = h / np.maximum(np.linalg.norm(h, axis=1, keepdims=True), 1e-12)
    rows = np.flatnonzero(fit.is_fit)
    cos = np.asarray(fit.x[rows] @ h.T)  # TF-IDF rows are unit length
    w = fit.weights[rows]
    total = w.sum(axis=1)
    topic = np.where(total > 0, w.argmax(axis=1), -1)
    purity = w / np.maximum(total, 1e-12)[:, None]
    out: list[list[str]] = []
    for k in range(h.shape[0]):
        mine = np.flatnonzero(topic == k)
        score = cos[mine, k] * purity[mine, k]
        picked: list[str] = []
        seen: set[str] = set()
        for i in mine[np.argsort(-score, kind="stable")]:
            text = " ".join(str(fit.distinct.iat[rows[i]]).split())
            if text.lower() in seen:
                continue
            seen.add(text.lower())
            picked.append(text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…")
            if len(picked) == N_EXAMPLES:
                break
        out.append(picked)
    return out


def weekly(times: pd.Series, topic: np.ndarray, labels: list[str]) -> pd.DataFrame:
    """Tickets per topic and week (weeks start on Monday, UTC); empty weeks are 0."""
    frame = pd.DataFrame({"week": _week(times), "topic_id": topic})
    frame = frame[(frame["topic_id"] >= 0) & frame["week"].notna()]
    if frame.empty:
        return pd.DataFrame(columns=["week", "topic_id", "label", "tickets"])
    counts = frame.groupby(["week", "topic_id"]).size().unstack(fill_value=0)
    weeks = pd.date_range(counts.index.min(), counts.index.max(), freq="7D")
    counts = counts.reindex(index=weeks, columns=range(len(labels)), fill_value=0)
    long = counts.rename_axis(index="week", columns="topic_id").stack().rename("tickets")
    out = long.reset_index()
    out["label"] = np.asarray(labels, dtype=object)[out["topic_id"].to_numpy()]
    out["tickets"] = out["tickets"].astype("int64")
    return out[["week", "topic_id", "label", "tickets"]]


def _week(times: pd.Series) -> pd.Series:
    days = times.dt.floor("D")
    return days - pd.to_timedelta(days.dt.weekday, unit="D")


def trend(
    times: pd.Series, topic: np.ndarray, k: int, days: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tickets in the last ``days`` days vs the ``days`` before, per topic.

    The periods end at the latest ticket time. ``ticket_trend`` is the relative
    change (0.25 = +25 %), NaN when the earlier period has no tickets of the topic.
    """
    end = times.max()
    span = pd.Timedelta(days=days)
    recent_mask = np.asarray((times > end - span) & (times <= end))
    before_mask = np.asarray((times > end - 2 * span) & (times <= end - span))
    ok = topic >= 0
    recent = np.bincount(topic[ok & recent_mask], minlength=k).astype(np.int64)
    before = np.bincount(topic[ok & before_mask], minlength=k).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(before > 0, recent / np.maximum(before, 1) - 1.0, np.nan)
    return recent, before, pct


def first_cancellations(events: pd.DataFrame, subscriber: str) -> pd.Series:
    """First ``cancel`` time per subscriber from subscription events.

    ``events`` needs ``subscriber``, ``event_type`` and ``event_time`` columns, or
    ``subscriber`` and ``cancelled_at`` (one row per churned subscriber).

    Raises
    ------
    ValueError
        If the columns are missing.
    """
    if subscriber in events.columns and "cancelled_at" in events.columns:
        times = events[[subscriber, "cancelled_at"]].rename(columns={"cancelled_at": "t"})
    elif {subscriber, "event_type", "event_time"} <= set(events.columns):
        cancels = events[events["event_type"] == "cancel"]
        times = cancels[[subscriber, "event_time"]].rename(columns={"event_time": "t"})
    else:
        raise ValueError(
            f"churn frame needs columns ({subscriber!r}, 'event_type', 'event_time') or "
            f"({subscriber!r}, 'cancelled_at'); it has {list(events.columns)}"
        )
    t = pd.to_datetime(times["t"], utc=True)
    return t.groupby(times[subscriber].to_numpy()).min().dropna()


def churn_by_topic(
    subscribers: pd.Series,
    times: pd.Series,
    topic: np.ndarray,
    cancelled: pd.Series,
    k: int,
    window_days: int,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Share of complainants who cancel within ``window_days`` of their complaint.

    A complainant of a topic counts once, from their first complaint in it. A
    complaint is only counted when its whole window is observed (created at
    least ``window_days`` before the latest complaint). The base rate is the same
    share over all complainants (from their first complaint of any topic); lift =
    topic rate / base rate; the p-value is a two-sided binomial test of the topic
    rate against the base rate.
    """
    end = times.max() - pd.Timedelta(days=window_days)
    frame = pd.DataFrame({"sub": subscribers.to_numpy(), "t": times.to_numpy(), "topic": topic})
    frame = frame[(frame["topic"] >= 0) & frame["sub"].notna() & frame["t"].notna()]
    frame = frame[frame["t"] <= end]
    window = pd.Timedelta(days=window_days)

    def flag(first: pd.DataFrame) -> pd.Series:
        c = first["sub"].map(cancelled)
        return (c >= first["t"]) & (c <= first["t"] + window)

    overall = frame.groupby("sub", sort=False)["t"].min().reset_index()
    n_base = len(overall)
    base = float(flag(overall).mean()) if n_base else float("nan")
    per = frame.groupby(["topic", "sub"], sort=False)["t"].min().reset_index()
    per["churned"] = flag(per)
    agg = per.groupby("topic")["churned"].agg(["size", "sum"]).reindex(range(k), fill_value=0)
    n = agg["size"].to_numpy().astype(np.int64)
    churned = agg["sum"].to_numpy().astype(np.int64)
    rate = np.where(n > 0, churned / np.maximum(n, 1), np.nan)
    lift = rate / base if base > 0 else np.full(k, np.nan)
    pvals = np.array(
        [
            stats.binomtest(int(c), int(m), base).pvalue if m > 0 and 0 < base < 1 else np.nan
            for c, m in zip(churned, n, strict=True)
        ]
    )
    table = pd.DataFrame(
        {
            "complainants": n,
            "churned": churned,
            "churn_rate": rate,
            "churn_lift": lift,
            "churn_p_value": pvals,
        }
    )
    return table, {"base_churn_rate": base, "complainants_observed": float(n_base)}
