"""What every tool and resource of one server shares: settings, a lock, a result memo.

Tool answers are memoised in memory and, when they are demo answers and no source gives
live numbers, in the project's result cache too (keyed by the warehouse build and the
code), so a server
answers a question asked before (by it, an earlier server or its own warm-up) with a
file read: the same stored answer for every assistant, until the warehouse or the code
changes.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from opskit import provenance as prov
from opskit.cache import ResultCache, cache_key, settings_scope
from opskit.config import Settings
from opskit.sources import live_sources

__all__ = ["Runtime"]

logger = logging.getLogger(__name__)

#: Tool results kept in memory (least recently used are dropped first).
MEMO_SIZE = 64
#: How long a response built on ``cache`` data is replayed (demo data never changes).
CACHE_MEMO_TTL_S = 300.0


class Runtime:
    """Settings, one lock around opskit calls and a memo of tool responses.

    Tools run on worker threads; opskit's warehouse connection and caches are
    shared, so calls are serialised by :attr:`lock`. A tool response is memoised
    under its name, its arguments and the warehouse file's modification time,
    unless its data is ``live`` (a live answer is never replayed as live); one
    built on ``cache`` data is replayed for :data:`CACHE_MEMO_TTL_S` at most.

    Parameters
    ----------
    settings
        The opskit settings the server was started with.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lock = threading.Lock()
        self._memo: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()

    def _stamp(self) -> float:
        path = self.settings.warehouse_path
        try:
            return path.stat().st_mtime if path is not None else 0.0
        except OSError:
            return 0.0

    def _stored(self, tool: str, arguments: Mapping[str, Any]) -> tuple[ResultCache, str] | None:
        """Where the answer is stored across servers, or ``None`` while a source is live."""
        if live_sources(self.settings):
            return None
        scope = settings_scope(self.settings)
        return ResultCache.for_settings(self.settings), cache_key(
            f"mcp_{tool}", arguments, memo=scope
        )

    def memoised(
        self, tool: str, arguments: Mapping[str, Any], compute: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        """The response of ``tool`` for ``arguments``: from the memo, or ``compute()`` (locked)."""
        key = json.dumps(
            {"tool": tool, "args": arguments, "stamp": self._stamp()}, sort_keys=True, default=str
        )
        with self.lock:
            hit = self._memo.get(key)
            if hit is not None and (
                hit[1].get("data") == "demo" or time.monotonic() - hit[0] < CACHE_MEMO_TTL_S
            ):
                self._memo.move_to_end(key)
                logger.info("mcp %s: memoised response", tool)
                return hit[1]
            stored = self._stored(tool, arguments)
            if stored is not None:
                found = stored[0].get(stored[1], dataset=f"mcp_{tool}", purpose="memo")
                if found is not None:
                    payload = json.loads(str(found.frame["payload"].iloc[0]))
                    self._remember(key, payload)
                    logger.info("mcp %s: stored response", tool)
                    return dict(payload)
            t0 = time.perf_counter()
            payload = compute()
            logger.info("mcp %s: computed in %.0f ms", tool, (time.perf_counter() - t0) * 1000)
            if payload.get("data") != "live":
                self._remember(key, payload)
                if stored is not None and payload.get("data") == "demo":  # fixed with the build
                    frame = pd.DataFrame({"payload": [json.dumps(payload, default=str)]})
                    if isinstance(payload.get("provenance"), dict):
                        prov.attach(frame, prov.Provenance.from_dict(payload["provenance"]))
                    cache, key_ = stored
                    cache.put(
                        key_,
                        frame,
                        dataset=f"mcp_{tool}",
                        filters=dict(arguments),
                        system="opskit",
                        purpose="memo",
                        tag=settings_scope(self.settings),
                    )
            return payload

    def _remember(self, key: str, payload: dict[str, Any]) -> None:
        self._memo[key] = (time.monotonic(), payload)
        while len(self._memo) > MEMO_SIZE:
            self._memo.popitem(last=False)

    def locked(self, compute: Callable[[], Any]) -> Any:
        """``compute()`` under the lock (no memo)."""
        with self.lock:
            return compute()
