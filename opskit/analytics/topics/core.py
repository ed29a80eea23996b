"""``find_topics``: complaint themes with labels, examples, volume, trend, sentiment, churn."""

from __future__ import annotations

import logging
import time as _time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from opskit import provenance as prov
from opskit.analytics._result import Result
from opskit.analytics.topics import _measures as measures
from opskit.analytics.topics._model import TopicModel, assign_from_weights, fit_topic_model
from opskit.analytics.topics._prepare import check_column, text_series
from opskit.analytics.topics._report import build_findings, topics_chart
from opskit.analytics.topics.sentiment import sentiment_scores

__all__ = ["TopicsResult", "find_topics"]

logger = logging.getLogger(__name__)

DEFAULT_TIME = "created_at"
DEFAULT_SUBSCRIBER = "subscriber_id"


@dataclass
class TopicsResult(Result):
    """Complaint themes (a :class:`~opskit.analytics._result.Result`).

    ``frame`` has one row per topic; ``tables`` hold ``assignments`` (one row per
    input document), ``terms`` (top terms with weights), ``weekly`` (tickets per
    topic and week, when there are times) and ``model_selection`` (stability per
    candidate topic count, when ``n_topics="auto"``).
    """

    model: TopicModel | None = field(default=None, repr=False)

    def assign(self, texts: Iterable[str | None]) -> pd.DataFrame:
        """Label new texts with the fitted topics.

        Parameters
        ----------
        texts
            Strings (``None`` counts as empty).

        Returns
        -------
        pandas.DataFrame
            ``text, topic_id, label, weight, sentiment``; ``topic_id`` is -1 for a
            text with no known content word; ``weight`` is the topic's share of
            the text's topic weight.

        Raises
        ------
        ValueError
            If a value is not a string.
        """
        if self.model is None:
            raise ValueError("this result has no fitted model")
        values = list(texts)
        bad = [v for v in values if v is not None and not isinstance(v, str)]
        if bad:
            raise ValueError(f"texts must be strings; got {type(bad[0]).__name__} {bad[0]!r}")
        series = pd.Series([v or "" for v in values], dtype=object)
        out = self.model.assign(series)
        out.insert(0, "text", series)
        out["sentiment"] = sentiment_scores(series)
        return out


def find_topics(
    frame: pd.DataFrame,
    text: str = "text",
    n_topics: int | str = "auto",
    *,
    time: str | None = DEFAULT_TIME,
    subscriber: str | None = DEFAULT_SUBSCRIBER,
    churn: pd.DataFrame | None = None,
    churn_window_days: int = 30,
    trend_days: int = 28,
    stop_words: Iterable[str] = (),
    random_state: int = 0,
    provenance: prov.Provenance | None = None,
) -> TopicsResult:
    """Cluster complaint text into themes (TF-IDF + NMF).

    Parameters
    ----------
    frame
        One row per complaint.
    text
        Column with the complaint text.
    n_topics
        Number of themes, or ``"auto"``: the most detailed count among the most
        stable ones, by NMF stability on resamples (see
        :mod:`opskit.analytics.topics._model`), from 6 to 16.
    time
        Column with the complaint time (datetimes or ISO 8601 strings; naive
        times are taken as UTC) for weekly volumes and trend, or None.
        If the default ``created_at`` is absent, trends are skipped (noted in
        ``summary``); a named column that is absent is an error.
    subscriber
        Column with the complainant's id (for churn), or None; absent default
        is skipped like ``time``.
    churn
        Subscription events (``subscriber``, ``event_type``, ``event_time``; the
        first ``cancel`` counts) or first cancellations (``subscriber``,
        ``cancelled_at``). Without it there is no churn measure.
    churn_window_days
        A complainant churned if they cancelled within this many days after
        their first complaint in the theme.
    trend_days
        ``ticket_trend`` compares tickets in the last ``trend_days`` days (up to the
        latest complaint) with the ``trend_days`` days before.
    stop_words
        Extra words to leave out of the topics (e.g. your product name).
    random_state
        Seed; the result is deterministic given it.
    provenance
        Where the frame came from; required if the frame carries none (frames
        from opskit do).

    Returns
    -------
    TopicsResult
        ``frame`` columns: ``topic_id, label, top_terms, tickets, share,
        recent_tickets, previous_tickets, ticket_trend, sentiment, complainants,
        churned, churn_rate, churn_lift, churn_p_value, examples`` (topic 0 is
        the largest; ``share`` is of assigned documents; ``sentiment`` is the
        mean lexicon score in [-1, 1], see :mod:`opskit.analytics.topics.sentiment`).

    Raises
    ------
    ValueError
        Empty frame, missing or non-text column, all texts empty, too little
        text, a bad ``n_topics``, a named time/subscriber column that is missing
        or not datetimes, or no provenance.

    Notes
    -----
    Short and empty texts: documents with fewer than 2 content words (after
    stop words) do not shape the topics but are still assigned; a document
    with no known content word gets ``topic_id`` -1 ("unassigned") and is left
    out of topic volumes (``summary["unassigned"]`` counts them).
    """
    t0 = _time.perf_counter()
    texts = text_series(frame, text)
    source = _provenance(frame, provenance, churn)
    notes: list[str] = []
    time = _optional_column(frame, time, DEFAULT_TIME, "time", notes)
    subscriber = _optional_column(frame, subscriber, DEFAULT_SUBSCRIBER, "subscriber", notes)
    times = _times(frame, time) if time is not None else None
    fit = fit_topic_model(texts, n_topics, random_state, tuple(stop_words))
    model = fit.model
    k = model.n_topics
    assigned = assign_from_weights(fit.weights, model.labels).iloc[fit.codes]
    assigned = assigned.reset_index(drop=True)
    topic = assigned["topic_id"].to_numpy()
    senti = sentiment_scores(fit.distinct)[fit.codes]
    ok = topic >= 0
    tickets = np.bincount(topic[ok], minlength=k)
    sent_sum = np.bincount(topic[ok], weights=senti[ok], minlength=k)
    out = pd.DataFrame(
        {
            "topic_id": np.arange(k),
            "label": model.labels,
            "top_terms": model.top_terms,
            "tickets": tickets.astype(np.int64),
            "share": tickets / max(int(ok.sum()), 1),
        }
    )
    tables: dict[str, pd.DataFrame] = {}
    if times is not None and times.notna().any():
        recent, before, pct = measures.trend(times, topic, k, trend_days)
        tables["weekly"] = measures.weekly(times, topic, model.labels)
    else:
        recent = before = np.zeros(k, dtype=np.int64)
        pct = np.full(k, np.nan)
    out["recent_tickets"], out["previous_tickets"], out["ticket_trend"] = recent, before, pct
    out["sentiment"] = np.where(tickets > 0, sent_sum / np.maximum(tickets, 1), np.nan)
    summary: dict[str, Any] = {
        "documents": len(texts),
        "assigned": int(ok.sum()),
        "unassigned": int((~ok).sum()),
        "n_topics": k,
        "topic_count": "auto (NMF stability)" if model.selection is not None else "given",
        "mean_sentiment": float(senti.mean()),
    }
    churn_table = _churn(frame, subscriber, times, topic, churn, k, churn_window_days, notes)
    if churn_table is not None:
        table, extra = churn_table
        out = pd.concat([out, table], axis=1)
        summary.update(extra)
    else:
        for col in ("complainants", "churned"):
            out[col] = np.zeros(k, dtype=np.int64)
        for col in ("churn_rate", "churn_lift", "churn_p_value"):
            out[col] = np.nan
    out["examples"] = measures.examples(fit)
    assignments = pd.DataFrame({"row": frame.index.to_numpy(), "text": texts.to_numpy()})
    assignments = pd.concat([assignments, assigned], axis=1)
    assignments["sentiment"] = senti
    assignments["content_words"] = fit.content_words[fit.codes]
    if times is not None:
        assignments["time"] = times.to_numpy()
    if subscriber is not None:
        assignments["subscriber"] = frame[subscriber].to_numpy()
    tables["assignments"] = assignments
    tables["terms"] = model.term_weights
    if model.selection is not None:
        tables["model_selection"] = model.selection
    if notes:
        summary["notes"] = notes
    summary["seconds"] = round(_time.perf_counter() - t0, 3)
    findings = build_findings(out, summary, source, trend_days)
    for table in (out, *tables.values()):
        prov.attach(table, source)
    logger.info("find_topics: %d documents, %d topics, %.2f s", len(texts), k, summary["seconds"])
    return TopicsResult(
        name="complaint_topics",
        frame=out,
        provenance=source,
        findings=findings,
        summary=summary,
        tables=tables,
        _chart=topics_chart,
        model=model,
    )


def _provenance(
    frame: pd.DataFrame, given: prov.Provenance | None, churn: pd.DataFrame | None
) -> prov.Provenance:
    if given is None:
        try:
            given = prov.of(frame)
        except ValueError as exc:
            raise ValueError(
                "the frame carries no provenance (it was not loaded through opskit); pass "
                "provenance=Provenance(kind='cache', systems=('...',), as_of=...)"
            ) from exc
    if churn is not None and prov.ATTR in churn.attrs:
        return prov.combine([given, prov.of(churn)])
    return given


def _optional_column(
    frame: pd.DataFrame, column: str | None, default: str, role: str, notes: list[str]
) -> str | None:
    if column is None:
        return None
    if column == default and column not in frame.columns:
        notes.append(f"no {default!r} column: {role}-based measures skipped")
        logger.warning("find_topics: no %r column, %s-based measures skipped", default, role)
        return None
    check_column(frame, column, role)
    return column


def _times(frame: pd.DataFrame, column: str) -> pd.Series:
    col = frame[column]
    try:
        if pd.api.types.is_datetime64_any_dtype(col):
            return pd.to_datetime(col, utc=True).reset_index(drop=True)
        return pd.to_datetime(col, utc=True, format="ISO8601").reset_index(drop=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"time column {column!r} does not hold datetimes ({exc})") from exc


def _churn(
    frame: pd.DataFrame,
    subscriber: str | None,
    times: pd.Series | None,
    topic: np.ndarray,
    churn: pd.DataFrame | None,
    k: int,
    window_days: int,
    notes: list[str],
) -> tuple[pd.DataFrame, dict[str, float]] | None:
    if churn is None:
        return None
    if subscriber is None or times is None:
        raise ValueError("churn needs both a subscriber and a time column in the frame")
    cancelled = measures.first_cancellations(churn, subscriber)
    table, extra = measures.churn_by_topic(
        frame[subscriber].reset_index(drop=True), times, topic, cancelled, k, window_days
    )
    if extra["complainants_observed"] == 0:
        notes.append(f"no complaint is older than {window_days} days: churn not measured")
    return table, extra
