"""The Voila application ``opskit dashboard`` runs (imported only in the server process).

- :class:`DashboardKernelManager` is the kernel manager under Voila's kernel pools;
  it stops every kernel at once when the server stops.
- ``/opskit/status`` answers JSON (server pid, live kernels): what
  ``opskit dashboard`` polls before it prints the URLs.
- ``/`` lists the dashboards instead of Voila's file tree.
- :meth:`OpskitVoila.stop` makes the server exit promptly once it has shut down.
"""

from __future__ import annotations

import gc
import html
import json
import os
from typing import Any

import tornado.web
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from jupyter_server.utils import url_path_join
from voila.app import Voila
from voila.tornado.treehandler import TornadoVoilaTreeHandler

from opskit.dashboards.serving.files import DASHBOARDS

__all__ = ["DashboardKernelManager", "OpskitVoila", "main"]


class DashboardKernelManager(AsyncMappingKernelManager):
    """The kernel manager Voila builds its pooling manager on."""

    async def shutdown_all(self, now: bool = True) -> None:  # type: ignore[override]
        """Stop every kernel at once.

        A dashboard kernel holds nothing worth a graceful shutdown (which takes Voila
        1-2 s per round of kernels while the port stays taken), so ``now`` defaults to true.
        """
        await super().shutdown_all(now=now)


class StatusHandler(tornado.web.RequestHandler):
    """``/opskit/status``: the server's pid, live kernels and culling, as JSON."""

    def get(self) -> None:
        """Answer the status document."""
        km = self.settings["kernel_manager"]
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        status = {
            "pid": os.getpid(),
            "kernels": len(km.list_kernel_ids()),
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
    """Voila with its kernel manager, ``/opskit/status``, an index page and a prompt exit."""

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
        """Voila's routes, with the root handler replaced and the status route added."""
        routes = []
        for route in super().init_handlers():
            pattern, handler = route[0], route[1]
            if handler is TornadoVoilaTreeHandler and pattern == self.server_url:
                route = (pattern, IndexHandler)
            routes.append(route)
        return [(url_path_join(self.server_url, "opskit/status"), StatusHandler), *routes]


def main() -> None:
    """Run the server (``python -c 'from opskit.dashboards.serving.app import main; main()' .``)."""
    OpskitVoila.launch_instance()
