"""Client-side rate limiting, pagination with loop protection, and progress bars."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from opskit.errors import ResponseError

__all__ = ["Page", "TokenBucket", "paginate", "progress_enabled", "progress_iter"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Upper bound on pages for one pull; a server that never stops is a bug, not data.
MAX_PAGES = 100_000


class TokenBucket:
    """A token bucket allowing ``rate`` requests per second with a burst of ``burst``.

    Waiting uses the injected ``sleep``; time is read from the injected ``clock``
    so tests can run the limiter on a fake clock without waiting.

    Parameters
    ----------
    rate
        Sustained requests per second (> 0).
    burst
        Bucket size; default ``max(1, rate)``.
    clock, sleep
        Time source (seconds) and sleep function.
    """

    def __init__(
        self,
        *,
        rate: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0 requests per second")
        self.rate = float(rate)
        self.capacity = float(burst if burst is not None else max(1.0, rate))
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.capacity
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping first if the bucket is empty; return the wait (s)."""
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._last)
            self._last = max(self._last, now)
            self._tokens = min(self.capacity, self._tokens + elapsed * self.rate) - 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
            if wait > 0:
                self._sleep(wait)
            return wait


@dataclass
class Page(Generic[T]):
    """One page of a paginated pull.

    ``next_cursor`` is what to send for the next page (a token, key, offset...),
    or ``None`` when the server signalled the last page.
    """

    items: list[T]
    next_cursor: Hashable | None = None
    total: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def progress_enabled(progress: bool | None) -> bool:
    """Resolve the ``progress`` argument: ``None`` means "in a notebook or a TTY"."""
    if progress is not None:
        return progress
    if "ipykernel" in sys.modules:
        return True
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


@contextmanager
def _bar(enabled: bool, desc: str, total: int | None) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from tqdm.auto import tqdm  # imported lazily: only multi-page pulls with a display need it

    bar = tqdm(total=total, desc=desc, unit="item", leave=False)
    try:
        yield bar
    finally:
        bar.close()


def paginate(
    fetch: Callable[[Hashable | None], Page[T]],
    *,
    system: str,
    what: str,
    progress: bool | None = None,
    max_pages: int = MAX_PAGES,
) -> list[T]:
    """Pull every page by following the server's cursor, with loop protection.

    Parameters
    ----------
    fetch
        Called with ``None`` for the first page, then with each ``next_cursor``.
    system, what
        Used in messages and the progress bar (``"jira"``, ``"issues"``).
    progress
        Show a tqdm bar (notebook-aware) from the second page on; ``None`` = auto.
    max_pages
        Hard stop against a server that never signals the end.

    Returns
    -------
    list
        Every item of every page, in server order.

    Raises
    ------
    ResponseError
        If the server repeats a cursor or exceeds ``max_pages``.
    """
    items: list[T] = []
    seen: set[Hashable] = set()
    page = fetch(None)
    items.extend(page.items)
    if page.next_cursor is None:
        return items
    with _bar(progress_enabled(progress), f"{system} {what}", page.total) as bar:
        if bar is not None:
            bar.update(len(page.items))
        pages = 1
        while page.next_cursor is not None:
            cursor = page.next_cursor
            if not page.items:
                logger.warning(
                    "%s: empty page of %s with a next cursor after %d pages; stopping",
                    system,
                    what,
                    pages,
                )
                break
            if cursor in seen:
                raise ResponseError(
                    f"{system}: the server repeated a page cursor after {pages} pages of {what}; "
                    "stopping to avoid an endless loop",
                    system=system,
                )
            if pages >= max_pages:
                raise ResponseError(
                    f"{system}: more than {max_pages} pages of {what}; narrow the query",
                    system=system,
                )
            seen.add(cursor)
            page = fetch(cursor)
            pages += 1
            items.extend(page.items)
            if bar is not None:
                bar.update(len(page.items))
    return items


def progress_iter(
    items: Sequence[T], *, enabled: bool | None, desc: str, unit: str = "window"
) -> Iterator[T]:
    """Iterate ``items`` with a tqdm bar when there is more than one and display is on."""
    show = len(items) > 1 and progress_enabled(enabled)
    if not show:
        yield from items
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=len(items), desc=desc, unit=unit, leave=False)
    try:
        for item in items:
            yield item
            bar.update(1)
    finally:
        bar.close()
