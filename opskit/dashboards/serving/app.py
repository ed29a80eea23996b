"""The Voila application ``opskit dashboard`` runs (imported only in the server process).

Voila 0.5 starts a kernel for every page opened and has no limit of its own; a
kernel costs a few hundred MB. This module bounds that and makes the server say so:

- :class:`DashboardKernelManager` keeps at most ``max_kernels`` live kernels, the
  preheated pools included. A pool refill waits for a free slot (a kernel culled or
  shut down); a viewer never waits for one.
- :class:`DashboardHandler` is Voila's page handler, except that a viewer who would
  need a kernel beyond the limit gets a busy page (HTTP 503 with ``Retry-After``;
  it retries by itself) instead of a page that hangs.
- ``/opskit/status`` answers JSON (server pid, live kernels, the limits): what
  ``opskit dashboard`` polls before it prints the URLs, and what tests read.
- ``/`` lists the dashboards instead of Voila's file tree.

Idle kernels of closed pages are culled by jupyter-server's own culler
(``MappingKernelManager.cull_idle_timeout`` / ``cull_interval`` /
``cull_connected=False``, set by :func:`~opskit.dashboards.serving.process.voila_command`);
pooled kernels are never culled (Voila's kernel manager skips them).

The limit reads Voila's kernel pools (``VoilaKernelManager._pools``), a private
attribute of Voila 0.5; ``tests/dashboards/test_serving.py`` pins the behaviour.
"""

from __future__ import annotations

import asyncio
import gc
import html
import json
import os
import uuid
import weakref
from datetime import UTC, datetime
from typing import Any

import tornado.web
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from jupyter_server.utils import url_path_join
from traitlets import Float, Integer
from voila.app import Voila
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.treehandler import TornadoVoilaTreeHandler

from opskit.dashboards.serving.files import DASHBOARDS

__all__ = ["DashboardHandler", "DashboardKernelManager", "OpskitVoila", "main"]

#: Seconds the busy page waits before it tries again (also its ``Retry-After``).
BUSY_RETRY_S = 30
_BUSY = "All dashboard kernels are in use"


class DashboardKernelManager(AsyncMappingKernelManager):
    """A kernel manager that keeps at most ``max_kernels`` live kernels.

    Voila builds its pooling manager on top of this class, so pooled kernels count
    too. A kernel start for a pool (``VOILA_PREHEAT=True`` in its environment) waits
    for a free slot; any other start beyond the limit is refused with HTTP 503
    (answered with the busy page).
    """

    max_kernels = Integer(
        0, config=True, help="Live kernels at most, pools included (0: no limit)."
    )
    slot_poll_s = Float(0.5, config=True, help="How often a waiting pool refill looks for a slot.")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]
        self._starting: set[str] = set()
        #: Kernel id -> the pool task that started it (it has a slot; starting, rendering, ready).
        self._pool_tasks: weakref.WeakValueDictionary[str, asyncio.Task[Any]] = (
            weakref.WeakValueDictionary()
        )
        self._closing = False

    def live_kernels(self) -> int:
        """Kernels running or starting."""
        return len(set(self.list_kernel_ids()) | self._starting)

    def has_room(self) -> bool:
        """Whether one more kernel may start."""
        return not self.max_kernels or self.live_kernels() < self.max_kernels

    def can_serve(self, notebook: str) -> bool:
        """Whether a viewer of ``notebook`` gets a kernel without waiting for a free slot.

        Voila hands a viewer the oldest task of the notebook's pool once a pooled
        kernel of that notebook has started (else it starts a new kernel): fine when
        that task's kernel is ready or on its way (it has a slot). A refill still
        waiting for a slot would keep the page hanging, so then only room will do.
        """
        first = self._next_pooled(notebook)
        if first is not None and notebook in getattr(self, "notebook_data", {}):
            if first.done():
                if not first.cancelled() and first.exception() is None:
                    return True
            elif first in self._pool_tasks.values():
                return True
        return self.has_room()

    async def wait_for_pool(self, notebook: str, timeout: float = 60) -> None:
        """Wait while the first pooled kernel of ``notebook`` is starting (right after start-up).

        Until one has started, Voila would start one more kernel for a viewer instead
        of handing out the pooled one that is seconds away.
        """
        deadline = asyncio.get_running_loop().time() + timeout
        while notebook not in getattr(self, "notebook_data", {}) and self._filling(notebook):
            if asyncio.get_running_loop().time() > deadline:
                return
            await asyncio.sleep(0.1)

    def _filling(self, notebook: str) -> bool:
        pool = getattr(self, "_pools", {}).get(notebook) or []
        slotted = set(self._pool_tasks.values())
        return any(not t.done() and t in slotted for t in pool)

    def _next_pooled(self, notebook: str) -> asyncio.Task[Any] | None:
        """The pool task Voila hands the next viewer of ``notebook`` (Voila 0.5's ``_pools``)."""
        pool = getattr(self, "_pools", {}).get(notebook) or []
        return pool[0] if pool else None

    def hand_out(self, notebook: str) -> None:
        """A viewer takes the next pooled kernel of ``notebook``: its idle time starts now.

        A kernel can wait in a pool for hours; without this the culler would count that
        wait and could stop it between the page's HTTP answer and its websocket.
        """
        first = self._next_pooled(notebook)
        if first is None or not first.done() or first.cancelled() or first.exception():
            return
        kernel_id = first.result().get("kernel_id")
        if kernel_id in self:
            kernel: Any = self.get_kernel(kernel_id)
            kernel.last_activity = datetime.now(UTC)  # what jupyter-server's culler reads

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        """Jupyter-server's culling, except for a kernel still being prepared for a pool."""
        task = self._pool_tasks.get(kernel_id)
        if task is not None and not task.done():
            return
        await super().cull_kernel_if_idle(kernel_id)  # type: ignore[no-untyped-call]

    async def start_kernel(  # type: ignore[override]
        self, *, kernel_id: str | None = None, **kwargs: Any
    ) -> str:
        """Start a kernel once there is room (a pool refill waits; a viewer is refused)."""
        if kernel_id is not None and kernel_id in self:
            return str(await super().start_kernel(kernel_id=kernel_id, **kwargs))
        for_pool = (kwargs.get("env") or {}).get("VOILA_PREHEAT") == "True"
        while not self.has_room():
            if not for_pool or self._closing:
                raise tornado.web.HTTPError(503, reason=_BUSY)
            await asyncio.sleep(self.slot_poll_s)
        kernel_id = kernel_id or str(uuid.uuid4())
        self._starting.add(kernel_id)
        task = asyncio.current_task()
        if for_pool and task is not None:  # the pool's task (Voila awaits it for a viewer)
            self._pool_tasks[kernel_id] = task
        try:
            return str(await super().start_kernel(kernel_id=kernel_id, **kwargs))
        finally:
            self._starting.discard(kernel_id)

    async def shutdown_all(self, now: bool = True) -> None:  # type: ignore[override]
        """Stop every kernel at once; pool refills still waiting for a slot give up.

        A dashboard kernel holds nothing worth a graceful shutdown (which takes Voila
        1-2 s per round of kernels while the port stays taken), so ``now`` defaults to true.
        """
        self._closing = True
        await super().shutdown_all(now=now)


def _busy_page(km: Any, base_url: str) -> str:
    idle = int(getattr(km, "cull_idle_timeout", 0))
    freed = (
        f"Sessions of closed pages end after {idle // 60} idle minute(s)."
        if idle >= 60
        else (f"Sessions of closed pages end after {idle} idle seconds." if idle else "")
    )
    links = "".join(
        f'<li><a href="{html.escape(url_path_join(base_url, "voila/render", f"{n}.ipynb"))}">'
        f"{html.escape(n)}</a></li>"
        for n in DASHBOARDS
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="{BUSY_RETRY_S}">
<title>Dashboards busy</title></head>
<body class="opskit-busy" style="font-family:system-ui,'DejaVu Sans',sans-serif;max-width:42em;margin:3em auto;line-height:1.5">
<h1>All dashboard sessions are in use</h1>
<p>This server runs at most {int(km.max_kernels)} live dashboard sessions, and every one of them
is serving an open page. {freed} This page tries again every {BUSY_RETRY_S} seconds.</p>
<p>Need it now? Run your own copy with <code>opskit dashboard --port 8867</code>, or ask whoever
runs this server to raise <code>--max-kernels</code> (setting <code>OPSKIT_DASHBOARD__MAX_KERNELS</code>).</p>
<p>The dashboards of this server (another one may have a session free):</p>
<ul>{links}</ul>
</body></html>"""


class DashboardHandler(TornadoVoilaHandler):  # type: ignore[misc]
    """Voila's page handler, answering with the busy page when no kernel slot is free."""

    @tornado.web.authenticated
    async def get(self, path: str | None = None) -> None:
        """Render ``path``, or the busy page when the kernel limit is reached."""
        km = self.kernel_manager
        if path and isinstance(km, DashboardKernelManager):
            await km.wait_for_pool(path)
            if not km.can_serve(path):
                self.log.warning("%d live kernels (at most %d): a viewer of %s got the busy page",
                                 km.live_kernels(), km.max_kernels, path)  # fmt: skip
                self._send_busy()
                return
            km.hand_out(path)
        await super().get(path=path)

    def _send_busy(self) -> None:
        self.set_status(503, reason=_BUSY)
        self.set_header("Retry-After", str(BUSY_RETRY_S))
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(_busy_page(self.kernel_manager, self.base_url))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """The busy page for a start refused at the limit; Voila's error page otherwise."""
        if status_code == 503 and not self._headers_written:
            self.clear()
            self._send_busy()
            return
        super().write_error(status_code, **kwargs)


class StatusHandler(tornado.web.RequestHandler):
    """``/opskit/status``: the server's pid, live kernels and limits, as JSON."""

    def get(self) -> None:
        """Answer the status document."""
        km = self.settings["kernel_manager"]
        live = km.live_kernels() if hasattr(km, "live_kernels") else len(km.list_kernel_ids())
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        status = {
            "pid": os.getpid(),
            "kernels": live,
            "max_kernels": int(getattr(km, "max_kernels", 0)),
            "cull_idle_timeout": int(km.cull_idle_timeout),
            "cull_interval": int(km.cull_interval),
            "dashboards": list(DASHBOARDS),
        }
        self.finish(json.dumps(status))


class IndexHandler(tornado.web.RequestHandler):
    """``/``: links to the dashboards (Voila would show its file tree)."""

    def get(self) -> None:
        """Answer the list of dashboards."""
        base = self.settings.get("base_url", "/")
        items = "".join(
            f'<li><a href="{html.escape(url_path_join(base, "voila/render", f"{n}.ipynb"))}">'
            f"{html.escape(n.replace('_', ' '))}</a></li>"
            for n in DASHBOARDS
        )
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>opskit dashboards'
            '</title></head><body style="font-family:system-ui,sans-serif;margin:3em auto;'
            f'max-width:42em"><h1>opskit dashboards</h1><ul>{items}</ul></body></html>'
        )


class OpskitVoila(Voila):  # type: ignore[misc]
    """Voila with the bounded kernel manager, the busy page, ``/opskit/status`` and an index."""

    def initialize(self, argv: list[str] | None = None) -> None:
        """Voila's start-up, with :class:`DashboardKernelManager` under its kernel pools."""
        super().initialize(argv)
        config = self.voila_configuration
        if not issubclass(config.multi_kernel_manager_class, DashboardKernelManager):
            config.multi_kernel_manager_class = DashboardKernelManager

    def stop(self) -> None:
        """Voila's shutdown (kernels, connection files), then a quick exit.

        The collector would otherwise walk every object the server ever held as the
        interpreter exits (seconds on a busy machine); freezing them skips that walk.
        """
        super().stop()
        gc.freeze()

    def init_handlers(self) -> list[Any]:
        """Voila's routes, with the page and root handlers replaced and the status route added."""
        routes = []
        for route in super().init_handlers():
            pattern, handler = route[0], route[1]
            if handler is TornadoVoilaHandler:
                route = (pattern, DashboardHandler, *route[2:])
            elif handler is TornadoVoilaTreeHandler and pattern == self.server_url:
                route = (pattern, IndexHandler)
            routes.append(route)
        return [(url_path_join(self.server_url, "opskit/status"), StatusHandler), *routes]


def main() -> None:
    """Run the server (``python -c 'from opskit.dashboards.serving.app import main; main()' .``)."""
    OpskitVoila.launch_instance()
