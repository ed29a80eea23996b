"""``opskit dashboard`` as a real process: URLs once it answers, bounded kernels, a clean stop.

The command runs as a subprocess on a free loopback port with the test warehouse,
with ``--max-kernels 3 --cull-idle 5`` (and ``OPSKIT_DASHBOARD__CULL_INTERVAL_S=1``),
so the limit and the culling of idle kernels show within seconds. Every process it
starts inherits a marker variable, so a process left behind is found even when it
was orphaned.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

pytestmark = pytest.mark.slow

OPSKIT = str(Path(sys.executable).parent / "opskit")
MARK = "OPSKIT_TEST_SERVING_TREE"
MAX_KERNELS = 3  # the pools of voila.json: 2 for the overview, 1 for service health
STOP_WITHIN_S = 5.0


class Cli:
    """``opskit dashboard`` started as a subprocess, its output read line by line."""

    def __init__(self, env: dict[str, str], port: int, *args: str) -> None:
        self.port = port
        self.home = Path(env["OPSKIT_HOME"])
        self.mark = str(uuid.uuid4())
        self.proc = subprocess.Popen(
            [OPSKIT, "dashboard", "--port", str(port), *args],
            env={**env, MARK: self.mark}, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self.errors: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._readers = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self._queue), daemon=True),
            threading.Thread(target=self._collect, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _pump(stream: Any, out: queue.Queue[str | None]) -> None:
        for line in stream:
            out.put(line.rstrip("\n"))
        out.put(None)

    def _collect(self) -> None:
        assert self.proc.stderr is not None
        self.errors.extend(line.rstrip("\n") for line in self.proc.stderr)

    def read_until(self, needle: str, timeout: float = 240) -> str:
        """The first line containing ``needle`` (reading on as needed)."""
        for line in self.lines:
            if needle in line:
                return line
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                break
            self.lines.append(line)
            if needle in line:
                return line
        pytest.fail(f"no {needle!r} from opskit dashboard: {self.lines} {self.errors}")

    def first_url(self) -> str:
        line = self.read_until("http://")
        return line[line.index("http://") :]

    def log_path(self) -> Path:
        return Path(self.read_until("Voila's log: ").split("Voila's log: ", 1)[1])

    def stop(self) -> None:
        """Kill whatever is left (after a failed test) and close the pipes."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for p in marked(self.mark):
            p.kill()
        for reader in self._readers:
            reader.join(timeout=5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def marked(mark: str) -> list[psutil.Process]:
    """Running processes (this user's) that inherited the marker ``mark``."""
    out = []
    for p in psutil.process_iter():
        try:
            if p.uids().real == os.getuid() and p.environ().get(MARK) == mark and alive(p):
                out.append(p)
        except psutil.Error:
            continue
    return out


def alive(p: psutil.Process) -> bool:
    try:
        return bool(p.is_running() and p.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def get(url: str, timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and the first bytes of ``url`` (a 5xx answer is returned, not raised)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read(4096)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def assert_signal_stops_everything(cli: Cli, sig: signal.Signals) -> float:
    """Send ``sig``; within :data:`STOP_WITHIN_S` the command, Voila, every kernel and child
    must be gone and the port free. Returns the seconds it took."""
    cli.read_until("http://")
    tree = psutil.Process(cli.proc.pid).children(recursive=True)
    commands = [" ".join(p.cmdline()) for p in tree if alive(p)]
    assert any("serving.app" in c for c in commands), commands  # Voila
    assert any("ipykernel" in c for c in commands), commands  # its kernels
    t0 = time.monotonic()
    cli.proc.send_signal(sig)
    while time.monotonic() - t0 < STOP_WITHIN_S:
        left = [p for p in tree if alive(p)] + marked(cli.mark)
        if cli.proc.poll() is not None and not left and port_is_free(cli.port):
            break
        time.sleep(0.05)
    took = time.monotonic() - t0
    left = [" ".join(p.cmdline()) for p in {*tree, *marked(cli.mark)} if alive(p)]
    assert cli.proc.poll() == 0, f"opskit dashboard still running or failed after {took:.1f} s"
    assert not left, f"still running {took:.1f} s after {sig.name}: {left}"
    assert port_is_free(cli.port), f"port {cli.port} still taken {took:.1f} s after {sig.name}"
    time.sleep(0.2)  # the stderr reader catches up
    assert not any("Traceback" in e for e in cli.errors), cli.errors
    assert cli.read_until("stopped") == "stopped"
    return took


@pytest.fixture(scope="module")
def cli_env(demo_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A project home of its own (the grid warmer writes views into it), seeded with the
    views the session already stored (keys depend on the warehouse build, not the home)."""
    home = tmp_path_factory.mktemp("serving_home")
    stored = Path(demo_env["OPSKIT_HOME"]) / "data" / "cache"
    if stored.is_dir():
        shutil.copytree(stored, home / "data" / "cache")
    return {**os.environ, **demo_env, "OPSKIT_HOME": str(home),
            "OPSKIT_DASHBOARD__CULL_INTERVAL_S": "1"}  # fmt: skip


@pytest.fixture(scope="module")
def cli(cli_env: dict[str, str], free_port: Callable[[], int]) -> Iterator[Cli]:
    """``opskit dashboard`` with three kernels at most; the last test of the module stops it."""
    served = Cli(cli_env, free_port(), "--max-kernels", str(MAX_KERNELS), "--cull-idle", "5")
    try:
        yield served
    finally:
        served.stop()


def test_the_urls_are_printed_once_the_server_answers(cli: Cli) -> None:
    url = cli.first_url()
    status, _, body = get(url)  # right after the line arrived
    assert status == 200 and b"<html" in body.lower(), body[:200]
    assert url.endswith("/voila/render/ops_overview.ipynb")
    printed = [line for line in cli.lines if "http://" in line]
    assert not any(line.rstrip("/").endswith(str(cli.port)) for line in printed)  # no file tree
    assert not any("Voil" in line for line in cli.lines + cli.errors if "Voila's log" not in line)
    log = cli.log_path()
    assert log == cli.home / "logs" / f"dashboard-{cli.port}.log"
    assert "Kernel started" in log.read_text()  # Voila's own noise went there


def test_a_viewer_beyond_the_kernel_limit_gets_a_busy_page_until_an_idle_kernel_is_culled(
    cli: Cli,
) -> None:
    base = cli.first_url().split("/voila/")[0]
    status = get(f"{base}/opskit/status")
    assert status[0] == 200
    assert b'"max_kernels": 3' in status[2] and b'"cull_idle_timeout": 5' in status[2]
    assert b'"cull_interval": 1' in status[2]
    overview = f"{base}/voila/render/ops_overview.ipynb"
    # The first test took one pooled kernel; the second pooled one still serves a viewer.
    assert get(overview)[0] == 200
    code, headers, body = get(overview)  # every slot is taken (the refills wait for one)
    assert code == 503, body[:300]
    assert headers.get("Retry-After") == "30"
    assert b"All dashboard sessions are in use" in body and b"at most 3 live" in body
    # Nobody holds those pages open: their kernels are culled, the pool refills, a viewer fits.
    deadline = time.monotonic() + 90
    while (code := get(overview)[0]) != 200 and time.monotonic() < deadline:
        assert code == 503
        time.sleep(1)
    assert code == 200
    assert "Culling 'idle' kernel" in cli.log_path().read_text()


def test_sigterm_stops_voila_its_kernels_and_children_and_frees_the_port(cli: Cli) -> None:
    assert_signal_stops_everything(cli, signal.SIGTERM)


def test_ctrl_c_stops_voila_its_kernels_and_children_and_frees_the_port(
    cli_env: dict[str, str], free_port: Callable[[], int]
) -> None:
    run = Cli(cli_env, free_port())
    try:
        assert_signal_stops_everything(run, signal.SIGINT)
    finally:
        run.stop()


def test_a_taken_port_fails_at_once_with_one_error_line(
    cli_env: dict[str, str], free_port: Callable[[], int]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run([OPSKIT, "dashboard", "--port", str(port)], env=cli_env,
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode == 1 and out.stdout == ""
    assert (
        out.stderr
        == f"error: port {port} on 127.0.0.1 is in use: stop what serves it, or pick another port with --port\n"
    )
