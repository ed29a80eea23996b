"""The Voila process that serves the dashboards on loopback.

:func:`serve` starts Voila on 127.0.0.1 in ``notebooks/dashboards/`` (which holds
``voila.json``: preheated kernel pools, sources stripped, tracebacks hidden) and,
optionally, a low-priority process that warms the filter grid.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import IO

from opskit.config import Settings, load_settings
from opskit.dashboards.serving.files import dashboard_dir, trust_dashboards, write_chart_bundle

__all__ = ["serve", "voila_command"]


def voila_command(port: int, *, preheat: bool = True) -> list[str]:
    """The Voila command line, run from the dashboards folder (which holds ``voila.json``)."""
    cmd = [
        sys.executable,
        "-m",
        "voila",
        ".",
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
    ]
    return cmd if preheat else [*cmd, "--VoilaConfiguration.preheat_kernel=False"]


def serve(
    *,
    port: int = 8866,
    settings: Settings | None = None,
    warm_grid: bool = True,
    output: IO[bytes] | None = None,
    preheat: bool = True,
) -> subprocess.Popen[bytes]:
    """Start Voila on 127.0.0.1:``port`` serving the dashboards; return the process.

    The caller owns the process (``opskit dashboard`` waits on it); Voila's log
    goes to ``output`` (default: this process's stdout/stderr). ``preheat=False``
    turns the kernel pools off (every viewer waits for a fresh kernel). With
    ``warm_grid`` a background process warms the filter grid
    (:func:`~opskit.dashboards.serving.warm.precompute` with ``grid=True``) at low
    priority once Voila runs.
    """
    settings = settings or load_settings()
    folder = dashboard_dir(settings)
    write_chart_bundle(folder)
    trust_dashboards(folder)
    env = {**os.environ, "OPSKIT_HOME": str(settings.home)}
    # The ``opskit`` Voila template (lab without CDN links) lives next to the notebooks.
    env["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(folder / "share"), os.environ.get("JUPYTER_PATH", "")) if p
    )
    proc = subprocess.Popen(
        voila_command(port, preheat=preheat),
        cwd=folder,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT if output else None,
    )
    if warm_grid:
        code = "from opskit.dashboards.serving.warm import precompute; precompute(grid=True)"
        subprocess.Popen(["nice", "-n", "15", sys.executable, "-c", code], env=env,
                         stdout=subprocess.DEVNULL)  # fmt: skip
    return proc
