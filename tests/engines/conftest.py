"""A throwaway PostgreSQL server for the engine tests, from Debian's ``postgresql`` package.

:func:`postgres_server` (session scope) runs ``initdb`` into a fresh temporary directory and
starts the server with ``pg_ctl``: listening on 127.0.0.1 only, on a free port, with its
Unix socket inside that directory, ``trust`` authentication (nothing else can reach it) and
durability switched off (``fsync``, ``synchronous_commit``, ``full_page_writes``: the cluster
dies with the session). The end of the session stops it and removes the directory.

``initdb`` refuses to run as root, so as root the server runs as the unprivileged ``postgres``
user the Debian package creates (``runuser -u postgres``); as anyone else it runs as that user.
Without the server binaries (``/usr/lib/postgresql/<version>/bin``) or psycopg the tests skip,
naming what to install; under ``OPSKIT_REQUIRE_SYSTEM=1`` (``.ci/run``) they fail instead.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require_system, system_required

PG_ROOT = Path("/usr/lib/postgresql")
SERVER_USER = "postgres"  # created by Debian's postgresql-common
SUPERUSER = "opskit"  # the cluster's bootstrap superuser (initdb -U)
START_TIMEOUT_S = 60


def server_binaries() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` that has initdb and pg_ctl."""
    found = [
        d
        for d in PG_ROOT.glob("*/bin")
        if d.parent.name.isdigit() and (d / "initdb").is_file() and (d / "pg_ctl").is_file()
    ]
    return max(found, key=lambda d: int(d.parent.name), default=None)


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway server: where it listens and how to reach a database."""

    bin_dir: Path
    host: str
    port: int
    user: str

    @property
    def version(self) -> str:
        return self.bin_dir.parent.name

    def url(self, database: str = "postgres") -> str:
        """The opskit warehouse URL (``postgres://user@127.0.0.1:port/database``)."""
        return f"postgres://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its warehouse URL."""
        import psycopg
        from psycopg import sql

        dsn = f"host={self.host} port={self.port} user={self.user} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as con:
            con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _runner() -> list[str]:
    """The prefix that runs a server command as a non-root user."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        require_system(f"the {SERVER_USER!r} user (initdb refuses root)", "postgresql", False)
    runuser = shutil.which("runuser")
    require_system("the command 'runuser'", "util-linux", runuser is not None)
    return [str(runuser), "-u", SERVER_USER, "--"]


def _run(cmd: list[str], what: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=START_TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stderr or done.stdout}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server on 127.0.0.1 for this test session (see the module docstring)."""
    bin_dir = server_binaries()
    require_system(
        f"the PostgreSQL server ({PG_ROOT}/<version>/bin/initdb)", "postgresql", bin_dir is not None
    )
    assert bin_dir is not None
    try:
        import psycopg  # noqa: F401
    except ImportError:
        reason = "psycopg is not installed: pip install 'opskit[postgres]'"
        if system_required():
            pytest.fail(f"required here but cannot run: {reason}")
        pytest.skip(reason)
    prefix = _runner()
    # Not under pytest's tmp_path: its parents are private to root, and the server runs
    # as another user.
    root = Path(tempfile.mkdtemp(prefix="opskit-pg-"))
    data, log = root / "data", root / "server.log"
    if prefix:
        shutil.chown(root, user=SERVER_USER)
    port = _free_port()
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {root} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    pg_ctl = [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data)]
    try:
        _run(
            [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            "initdb",
        )  # fmt: skip
        _run([*pg_ctl, "-l", str(log), "-o", options, "-w", "-t", str(START_TIMEOUT_S), "start"],
             f"pg_ctl start (log: {log})")  # fmt: skip
        try:
            yield PostgresServer(bin_dir, "127.0.0.1", port, SUPERUSER)
        finally:
            _run([*pg_ctl, "-m", "fast", "-w", "stop"], "pg_ctl stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
