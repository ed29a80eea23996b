"""The processes that serve the dashboards: started, checked and stopped as one unit.

``opskit dashboard`` (:func:`run`) is a small supervisor. It starts, each in a
session of its own (so a terminal's Ctrl-C reaches only the supervisor, which then
stops them in order):

1. the warm-up (:func:`opskit.dashboards.serving.warm.main`): chart bundle, trusted
   notebooks, stored views; its lines go to the terminal;
2. Voila (the application of :mod:`~opskit.dashboards.serving.app`) on 127.0.0.1 in
   ``notebooks/dashboards/``, and a low-priority process that warms the filter grid;
   their output (Voila's start-up noise, kernel messages) goes to
   ``<home>/logs/dashboard-<port>.log``, not to the terminal.

:class:`DashboardServer` is step 2:

- :meth:`~DashboardServer.wait_ready` returns once the server answers HTTP on the port:
  ``/opskit/status`` must answer with Voila's pid, so another server on the port does
  not count; only then are the dashboard URLs printed.
- :meth:`~DashboardServer.stop` sends SIGTERM to Voila, every kernel and every other
  process it started, waits a grace period, then sends SIGKILL to whatever is left.
  The port is free when it returns.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any, Self

import psutil

from opskit.config import DashboardSettings, Settings, load_settings
from opskit.dashboards.serving.files import (
    dashboard_dir,
    dashboard_urls,
    trust_dashboards,
    write_chart_bundle,
)
from opskit.errors import DashboardError

__all__ = ["DashboardServer", "run", "serve", "voila_command"]

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
#: The server's status route (:class:`~opskit.dashboards.serving.app.StatusHandler`).
STATUS_PATH = "/opskit/status"
_POLL_S = 0.2
_KILL_WAIT_S = 5.0
_WARM_UP = "from opskit.dashboards.serving.warm import main; raise SystemExit(main())"


def voila_command(
    port: int, *, preheat: bool = True, limits: DashboardSettings | None = None
) -> list[str]:
    """The Voila command line, run from the dashboards folder (which holds ``voila.json``).

    Parameters
    ----------
    port
        Port on 127.0.0.1; Voila fails rather than moving to another one.
    preheat
        Keep the kernel pools of ``voila.json`` (``False``: every viewer starts a kernel).
    limits
        Live kernels at most and idle-kernel culling (default: the defaults of
        :class:`~opskit.config.DashboardSettings`).

    Examples
    --------
    >>> cmd = voila_command(8866)
    >>> "--Voila.ip=127.0.0.1" in cmd, "--DashboardKernelManager.max_kernels=12" in cmd
    (True, True)
    """
    limits = limits or DashboardSettings()
    cmd = [
        sys.executable,
        "-c",
        "from opskit.dashboards.serving.app import main; main()",
        ".",
        "--no-browser",
        f"--port={port}",
        "--Voila.port_retries=0",
        f"--Voila.ip={HOST}",
        f"--DashboardKernelManager.max_kernels={limits.max_kernels}",
        f"--MappingKernelManager.cull_idle_timeout={limits.cull_idle_s}",
        f"--MappingKernelManager.cull_interval={limits.cull_interval_s}",
        "--MappingKernelManager.cull_connected=False",  # a page left open keeps its kernel
    ]
    return cmd if preheat else [*cmd, "--VoilaConfiguration.preheat_kernel=False"]


def _environment(settings: Settings, folder: Path) -> dict[str, str]:
    """The environment of every process started: the project home, the Voila template path."""
    env = {**os.environ, "OPSKIT_HOME": str(settings.home)}
    # The ``opskit`` Voila template (lab without CDN links) lives next to the notebooks.
    env["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(folder / "share"), os.environ.get("JUPYTER_PATH", "")) if p
    )
    return env


def _check_port(port: int) -> None:
    """Raise :class:`~opskit.errors.DashboardError` unless a server could listen on the port now.

    The port is bound as Voila binds it (``SO_REUSEADDR``), so connections of a
    server that just stopped do not count.
    """
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            raise DashboardError(
                f"port {port} on {HOST} is in use: stop what serves it, or pick another port "
                "with --port"
            ) from None


# -- process trees -------------------------------------------------------------------------------
def _alive(proc: psutil.Process) -> bool:
    try:
        return bool(proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def _tree(popens: list[subprocess.Popen[bytes] | None]) -> list[psutil.Process]:
    """The running ``popens`` with all their children, grandchildren ..."""
    out: dict[int, psutil.Process] = {}
    for popen in popens:
        if popen is None or popen.poll() is not None:
            continue
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(popen.pid)
            for p in [root, *root.children(recursive=True)]:
                out.setdefault(p.pid, p)
    return list(out.values())


def _send(procs: list[psutil.Process], sig: signal.Signals) -> None:
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.send_signal(sig)


def _wait_gone(
    procs: list[psutil.Process],
    timeout: float,
    popens: list[subprocess.Popen[bytes] | None],
    hurry: Callable[[], bool] | None = None,
) -> list[psutil.Process]:
    """Wait until ``procs`` are gone (reaping ``popens``); return those left after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        for popen in popens:
            if popen is not None:
                popen.poll()
        left = [p for p in procs if _alive(p)]
        if not left or time.monotonic() >= deadline or (hurry is not None and hurry()):
            return left
        time.sleep(0.05)


def _stop_tree(
    procs: list[psutil.Process],
    popens: list[subprocess.Popen[bytes] | None],
    grace: float,
    hurry: Callable[[], bool] | None = None,
) -> None:
    """SIGTERM ``procs`` (in order), wait ``grace`` seconds, SIGKILL what is left and its children."""
    _send(procs, signal.SIGTERM)
    left = _wait_gone(procs, grace, popens, hurry)
    if left:
        by_pid = {p.pid: p for p in left}
        for p in left:
            with contextlib.suppress(psutil.Error):
                by_pid.update((c.pid, c) for c in p.children(recursive=True))
        left = [p for p in by_pid.values() if _alive(p)]
        logger.warning("%d process(es) still running after SIGTERM: SIGKILL", len(left))
        _send(left, signal.SIGKILL)
        left = _wait_gone(left, _KILL_WAIT_S, popens)
    for popen in popens:
        if popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=_KILL_WAIT_S)
    if left:
        logger.warning("could not stop pids %s", [p.pid for p in left])


# -- the server ----------------------------------------------------------------------------------
class DashboardServer:
    """Voila serving the dashboards on 127.0.0.1:``port``, with every process it starts.

    Parameters
    ----------
    port
        Port on 127.0.0.1.
    settings
        Settings to use (default: read from the environment); ``settings.dashboard``
        holds the kernel limits and the start and stop timeouts.
    warm_grid
        Also start a low-priority process that stores every overview one filter away
        from a default (:func:`~opskit.dashboards.serving.warm.precompute`, ``grid=True``).
    preheat
        Keep the kernel pools (``False``: every viewer waits for a fresh kernel).
    log
        Where Voila's output goes: a path (default ``<home>/logs/dashboard-<port>.log``)
        or an open binary file.

    Notes
    -----
    The served folder must be prepared first (chart bundle, trusted notebooks):
    :func:`serve` and the warm-up of :func:`run` do it. Used as a context manager,
    the server starts on entry and stops on exit::

        with DashboardServer(port=8866) as server:
            server.wait_ready()
            print(server.urls["ops_overview"])
    """

    def __init__(
        self,
        *,
        port: int = 8866,
        settings: Settings | None = None,
        warm_grid: bool = True,
        preheat: bool = True,
        log: Path | IO[bytes] | None = None,
    ) -> None:
        self.port = port
        self.settings = settings or load_settings()
        self.warm_grid = warm_grid
        self.preheat = preheat
        self._log = (
            Path(self.settings.home) / "logs" / f"dashboard-{port}.log" if log is None else log
        )
        self.log_path: Path | None = self._log if isinstance(self._log, Path) else None
        self.voila: subprocess.Popen[bytes] | None = None
        self.warmer: subprocess.Popen[bytes] | None = None
        self._seen: dict[int, psutil.Process] = {}
        self._stopped = False

    @property
    def urls(self) -> dict[str, str]:
        """The URL of each dashboard on this server."""
        return dashboard_urls(self.port, HOST)

    def error(self, message: str) -> DashboardError:
        """A :class:`~opskit.errors.DashboardError` naming the log and quoting its end."""
        if self.log_path is None:
            return DashboardError(message)
        tail = ""
        if self.log_path.is_file():
            lines = self.log_path.read_text(errors="replace").splitlines()[-8:]
            tail = "".join(f"\n  | {line}" for line in lines)
        return DashboardError(f"{message}; Voila's log: {self.log_path}{tail}",
                              log_path=str(self.log_path))  # fmt: skip

    # -- starting ----------------------------------------------------------------------------
    def start(self) -> Self:
        """Start Voila (and the grid warmer); return at once (see :meth:`wait_ready`).

        Raises
        ------
        DashboardError
            The port is already taken.
        """
        if self.voila is not None:
            raise RuntimeError("this server was started already")
        _check_port(self.port)
        folder = dashboard_dir(self.settings)
        env = _environment(self.settings, folder)
        with contextlib.ExitStack() as stack:
            out: Any = self._log
            if self.log_path is not None:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                out = stack.enter_context(self.log_path.open("wb"))
            self.voila = subprocess.Popen(
                voila_command(self.port, preheat=self.preheat, limits=self.settings.dashboard),
                cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            if self.warm_grid:
                self.warmer = subprocess.Popen(
                    ["nice", "-n", "15", sys.executable, "-c", _WARM_UP, "--grid"], env=env,
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
        logger.info("Voila pid %s on %s:%s", self.voila.pid, HOST, self.port)
        return self

    def _answers(self) -> bool:
        assert self.voila is not None
        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.port}{STATUS_PATH}", timeout=2) as r:
                return bool(r.status == 200 and json.load(r).get("pid") == self.voila.pid)
        except (OSError, ValueError):  # refused, reset, timeout, not JSON
            return False

    def wait_ready(
        self, timeout: float | None = None, *, cancelled: Callable[[], bool] | None = None
    ) -> bool:
        """Wait until Voila answers HTTP on the port; ``False`` if ``cancelled()`` turned true.

        Parameters
        ----------
        timeout
            Seconds (default ``settings.dashboard.start_timeout_s``).
        cancelled
            Polled while waiting; once true, the wait ends.

        Raises
        ------
        DashboardError
            Voila exited, or did not answer within ``timeout``.
        """
        if self.voila is None:
            raise RuntimeError("start the server first")
        timeout = self.settings.dashboard.start_timeout_s if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while not (cancelled is not None and cancelled()):
            code = self.voila.poll()
            if code is not None:
                raise self.error(f"Voila exited with code {code} before it answered")
            if self._answers():
                self.processes()  # note the kernels started so far
                return True
            if time.monotonic() > deadline:
                raise self.error(f"Voila did not answer on {HOST}:{self.port} in {timeout:.0f} s")
            time.sleep(_POLL_S)
        return False

    # -- running -----------------------------------------------------------------------------
    def poll(self) -> int | None:
        """Voila's exit code, or ``None`` while it runs (and note any new process)."""
        if self.voila is None:
            raise RuntimeError("start the server first")
        code = self.voila.poll()
        if code is None:
            self.processes()
        return code

    def processes(self) -> list[psutil.Process]:
        """The processes of the tree still running: Voila, its kernels, the warmer ...

        Every process seen is remembered, so one orphaned later is still stopped.
        """
        for p in _tree([self.voila, self.warmer]):
            self._seen.setdefault(p.pid, p)
        return [p for p in self._seen.values() if _alive(p)]

    # -- stopping ----------------------------------------------------------------------------
    def stop(self, grace: float | None = None, *, hurry: Callable[[], bool] | None = None) -> None:
        """Stop Voila, every kernel and every child: SIGTERM, ``grace`` seconds, then SIGKILL.

        Parameters
        ----------
        grace
            Seconds between SIGTERM and SIGKILL (default ``settings.dashboard.stop_grace_s``).
        hurry
            Polled while waiting; once true (a second Ctrl-C) the rest of the grace is skipped.
        """
        if self._stopped or self.voila is None:
            self._stopped = True
            return
        self._stopped = True
        grace = self.settings.dashboard.stop_grace_s if grace is None else grace
        voila_pid = self.voila.pid
        # Voila first: it stops accepting connections and shuts its kernels down.
        procs = sorted(self.processes(), key=lambda p: p.pid != voila_pid)
        _stop_tree(procs, [self.voila, self.warmer], grace, hurry)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(
    *,
    port: int = 8866,
    settings: Settings | None = None,
    warm_grid: bool = True,
    log: Path | IO[bytes] | None = None,
    preheat: bool = True,
) -> DashboardServer:
    """Prepare the served folder and start a :class:`DashboardServer` (then: ``wait_ready``).

    The folder gets the chart bundle and trusted notebooks here, in this process;
    the views must be stored already (:func:`~opskit.dashboards.serving.warm.precompute`).
    """
    server = DashboardServer(port=port, settings=settings, warm_grid=warm_grid, preheat=preheat,
                             log=log)  # fmt: skip
    folder = dashboard_dir(server.settings)
    write_chart_bundle(folder)
    trust_dashboards(folder)
    return server.start()


# -- opskit dashboard ----------------------------------------------------------------------------
class _StopRequests:
    """What SIGINT and SIGTERM do while ``opskit dashboard`` runs: ask for a stop.

    A handler only sets flags (it must not take locks); the supervisor's loops poll
    them and stop the processes in order. A second signal cuts the grace period short.
    """

    def __init__(self) -> None:
        self.requested = False
        self.hurried = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.hurried = self.requested
        self.requested = True

    @contextlib.contextmanager
    def installed(self) -> Iterator[Self]:
        previous = {s: signal.signal(s, self) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)


def _warm_up(settings: Settings, stop: _StopRequests) -> int | None:
    """Run the warm-up process (its lines on this stdout); its exit code, ``None`` if stopped."""
    env = _environment(settings, dashboard_dir(settings))
    proc = subprocess.Popen([sys.executable, "-c", _WARM_UP], env=env, stdin=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    while proc.poll() is None:
        if stop.requested:
            _stop_tree(_tree([proc]), [proc], settings.dashboard.stop_grace_s,
                       lambda: stop.hurried)  # fmt: skip
            return None
        time.sleep(0.1)
    return proc.returncode


def run(
    *,
    port: int = 8866,
    settings: Settings | None = None,
    warm_grid: bool = True,
    say: Callable[[str], None] = print,
) -> None:
    """``opskit dashboard``: warm up, serve until SIGINT or SIGTERM, then stop everything.

    The dashboard URLs are printed (through ``say``) only once the server answers
    HTTP on the port. Returns after a requested stop, with every process it started
    gone and the port free.

    Raises
    ------
    DashboardError
        The warm-up failed, the port is taken, Voila never answered or exited by itself.
    """
    settings = settings or load_settings()
    limits = settings.dashboard
    _check_port(port)  # before minutes of warm-up
    with _StopRequests().installed() as stop:
        code = _warm_up(settings, stop)
        if code is None:
            say("stopped")
            return
        if code != 0:
            raise DashboardError(f"the warm-up failed (exit code {code}); nothing is served")
        server = DashboardServer(port=port, settings=settings, warm_grid=warm_grid)
        try:
            server.start()
            if server.wait_ready(cancelled=lambda: stop.requested):
                say(f"Voila's log: {server.log_path}")
                for name, url in server.urls.items():
                    say(f"{name}: {url}")
                say(f"At most {limits.max_kernels} live kernels; the kernel of a closed page "
                    f"stops after {limits.cull_idle_s} s idle. Stop with Ctrl-C or SIGTERM.")  # fmt: skip
            while not stop.requested:
                code = server.poll()
                if code is not None:
                    raise server.error(f"Voila stopped by itself (exit code {code})")
                time.sleep(_POLL_S)
        finally:
            server.stop(hurry=lambda: stop.hurried)
    say("stopped")
