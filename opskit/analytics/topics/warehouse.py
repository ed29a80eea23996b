"""Complaint topics straight from the warehouse (tickets + first cancellations)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from opskit import provenance as prov
from opskit.analytics.topics.core import TopicsResult, find_topics
from opskit.config import Settings
from opskit.provenance import utc_timestamp

__all__ = ["topics_from_warehouse"]


def topics_from_warehouse(
    settings: Settings | None = None,
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    **kwargs: Any,
) -> TopicsResult:
    """:func:`find_topics` on the warehouse's ``complaints``, with churn from ``subscriptions``.

    Parameters
    ----------
    settings
        Settings to use (default: read from env / ``.env`` / ``opskit.toml``).
    start, end
        Optional window on ``created_at`` (UTC; ``end`` exclusive).
    **kwargs
        Passed to :func:`find_topics` (``n_topics``, ``random_state`` ...).

    Raises
    ------
    ValueError
        If the window holds no complaints.
    """
    from opskit.catalog import warehouse_provenance
    from opskit.warehouse import open_warehouse

    with open_warehouse(settings) as wh:
        tickets = wh.table("complaints")
        if start is not None:
            tickets = tickets.filter(tickets.created_at >= utc_timestamp(start))
        if end is not None:
            tickets = tickets.filter(tickets.created_at < utc_timestamp(end))
        frame = tickets.order_by("ticket_id").to_pandas()
        subs = wh.table("subscriptions")
        cancels = (
            subs.filter(subs.event_type == "cancel")
            .group_by("subscriber_id")
            .aggregate(cancelled_at=subs.event_time.min())
            .to_pandas()
        )
        source = warehouse_provenance(wh)
    prov.attach(frame, source)
    return find_topics(frame, churn=cancels, **kwargs)
