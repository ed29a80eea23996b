"""Dashboard data and serving: precomputed results, filtered views, and Voila on loopback.

Heavy work never runs per viewer. :func:`precompute` (run by ``opskit dashboard``
before Voila starts) stores what is slow to compute in the result cache, keyed
by the warehouse build (a rebuilt warehouse or edited dataset code makes new keys):

- the tables of :func:`opskit.health.service_health` (~10 s);
- Kaplan-Meier retention curves by plan, overall and per region;
- the board views (:mod:`opskit.boards`: cards, insights, chart specs and the
  first-paint SVGs) of the default pages, plus (``grid=True``) every overview one
  filter away from a default, so a filter change reads one memoised view.

:class:`DashboardData` is what board views are computed from: it loads frames for
a :class:`Filters` value through the catalog memo (and an in-process LRU). A
viewer kernel reads stored board views and creates it only for a selection that
was never computed, which is then stored for every later viewer.

:func:`serve` starts Voila on 127.0.0.1 with ``notebooks/dashboards/voila.json``
(preheated kernel pools, sources stripped, tracebacks hidden).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

import pandas as pd

from opskit import provenance as prov
from opskit.cache import ResultCache, cache_key, settings_scope
from opskit.config import Settings, load_settings
from opskit.warehouse import open_warehouse

# The catalog (datasets, scipy, Ibis expressions) is imported where data is computed:
# a viewer kernel reading precomputed board views never needs it.

__all__ = [
    "CHART_BUNDLE",
    "DASHBOARDS",
    "WINDOWS",
    "DashboardData",
    "Filters",
    "dashboard_dir",
    "dashboard_urls",
    "precompute",
    "serve",
    "stored_frame",
    "voila_command",
    "write_chart_bundle",
]

logger = logging.getLogger(__name__)

#: Date-range choices of the filter bar: label -> days before the data's as-of time.
WINDOWS: dict[str, int] = {"Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90}
DEFAULT_DAYS = 30
#: The dashboards served, by notebook stem.
DASHBOARDS = ("ops_overview", "service_health")
#: Which filter bar fields each dataset takes (the others are not passed, so keys are shared).
_RELEVANT: dict[str, tuple[str, ...]] = {
    "kpi_summary": ("plan", "region", "device"),
    "revenue_impact": ("plan", "region"),
    "churn_signals": ("plan", "region"),
    "streaming_qoe": ("region", "device"),
    "production_issues": (),
    "pareto_analysis": (),
    "operational_efficiency": (),
}
#: Stored (precomputed) results: name -> purpose of the table.
HEALTH_TABLES = ("summary", "alerts", "anomalies", "problems")
_ANOMALY_COLUMNS = ["entity", "metric", "timestamp", "value", "score", "is_anomaly", "severity",
                    "expected", "lower", "upper", "detector"]  # fmt: skip


@dataclass(frozen=True)
class Filters:
    """The filter bar's state.

    Parameters
    ----------
    days
        Window length, ending at the data's as-of time (one of :data:`WINDOWS`).
    region, device, plan
        One value each, or ``None`` for all.
    """

    days: int = DEFAULT_DAYS
    region: str | None = None
    device: str | None = None
    plan: str | None = None

    def for_dataset(self, name: str, as_of: pd.Timestamp, **extra: Any) -> dict[str, Any]:
        """Catalog filters for ``name``: the window plus only the fields it takes."""
        out: dict[str, Any] = {"start": (as_of - pd.Timedelta(days=self.days)).isoformat()}
        for key in _RELEVANT.get(name, ()):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out.update(extra)
        return out

    def label(self) -> str:
        """Human text, e.g. ``last 30 days · region brazil``."""
        parts = [f"last {self.days} days"]
        parts += [
            f"{k} {getattr(self, k)}" for k in ("region", "device", "plan") if getattr(self, k)
        ]
        return " · ".join(parts)


def dashboard_dir(settings: Settings | None = None) -> Path:
    """``notebooks/dashboards`` of the project (falls back to the source checkout)."""
    home = Path((settings or load_settings()).home)
    for root in (home, Path(__file__).resolve().parents[1]):
        folder = root / "notebooks" / "dashboards"
        if folder.is_dir():
            return folder
    raise FileNotFoundError(f"no notebooks/dashboards folder under {home}")


# -- stored results ------------------------------------------------------------------------------
def _store(settings: Settings) -> tuple[ResultCache, str]:
    return ResultCache.for_settings(settings), settings_scope(settings)


def _put(cache: ResultCache, scope: str, name: str, frame: pd.DataFrame, **key: Any) -> None:
    dataset = f"dashboard_{name}"
    cache.put(cache_key(dataset, key, memo=scope), frame, dataset=dataset, filters=key,
              system="warehouse", purpose="memo", tag=scope)  # fmt: skip


def stored_frame(
    name: str, *, settings: Settings | None = None, compute: bool = True, **key: Any
) -> pd.DataFrame | None:
    """A precomputed table (``health_alerts``, ``retention`` ...) for this warehouse build.

    When it is missing and ``compute`` is true, the precompute step that makes it
    runs now (logged at WARNING: the first viewer pays for it) and stores it.
    """
    settings = settings or load_settings()
    cache, scope = _store(settings)
    dataset = f"dashboard_{name}"
    hit = cache.get(cache_key(dataset, key, memo=scope), dataset=dataset, purpose="memo")
    if hit is not None:
        return hit.frame
    if not compute:
        return None
    logger.warning("no precomputed %s %s for this warehouse: computing it now", name, key)
    if name.startswith("health_"):
        _precompute_health(settings, cache, scope)
    elif name == "retention":
        _precompute_retention(settings, cache, scope, [key.get("region")])
    return stored_frame(name, settings=settings, compute=False, **key)


def _precompute_health(settings: Settings, cache: ResultCache, scope: str) -> None:
    from opskit.health import ALERT_SCORE, service_health

    result = service_health(settings=settings)
    p = result.provenance
    anomalies = result.tables["anomalies"]
    tables = {
        "summary": result.frame,
        "alerts": result.tables["alerts"],
        "anomalies": anomalies[[c for c in _ANOMALY_COLUMNS if c in anomalies.columns]].assign(
            is_alert=anomalies["score"] >= ALERT_SCORE
        ),
        "problems": result.tables["problems"].drop(columns=["provenance"], errors="ignore"),
    }
    for name, frame in tables.items():
        frame = frame.reset_index(drop=True)
        frame.attrs["summary"] = {k: str(v) for k, v in result.summary.items()}
        _put(cache, scope, f"health_{name}", prov.attach(frame.copy(), p))


def _precompute_retention(
    settings: Settings, cache: ResultCache, scope: str, regions: Iterable[str | None]
) -> None:
    from opskit.analytics.churn import retention_curves
    from opskit.catalog import load

    months = load("subscriber_months", settings=settings)
    for region in regions:
        part = months if region is None else months[months["region"] == region]
        result = retention_curves(part, by="plan", horizon_months=24)
        frame = prov.attach(result.frame.reset_index(drop=True), result.provenance)
        _put(cache, scope, "retention", frame, region=region)


def _grid(options: dict[str, list[str]]) -> Iterator[Filters]:
    """Every default view and every view one filter away from one."""
    for days in WINDOWS.values():
        base = Filters(days=days)
        yield base
        for field_name, values in options.items():
            for v in values:
                yield replace(base, **{field_name: v})  # type: ignore[arg-type]


def precompute(
    *,
    settings: Settings | None = None,
    grid: bool = False,
    log: Callable[[str], None] | None = None,
) -> dict[str, float]:
    """Store the slow results and warm the memo of the default overview; return seconds per step.

    Parameters
    ----------
    settings
        Settings to use (default: read from the environment).
    grid
        Also warm every view one filter away from a default (a few minutes at scale 1).
    log
        Called with one line per step (``opskit dashboard`` prints them).
    """
    settings = settings or load_settings()
    say = log or logger.info
    cache, scope = _store(settings)
    timings: dict[str, float] = {}

    def step(name: str, fn: Callable[[], Any]) -> None:
        t0 = time.perf_counter()
        fn()
        timings[name] = time.perf_counter() - t0
        say(f"precompute {name}: {timings[name]:.1f} s")

    from opskit.boards import board_view

    data = DashboardData(settings=settings)
    step("overview", lambda: data.view(Filters()))
    if stored_frame("health_summary", settings=settings, compute=False) is None:
        step("service_health", lambda: _precompute_health(settings, cache, scope))
    if stored_frame("retention", settings=settings, compute=False, region=None) is None:
        regions = [None, *data.options["region"]]
        step("retention", lambda: _precompute_retention(settings, cache, scope, regions))
    # What viewer kernels read: the default pages, with static SVGs for the first paint.
    step("board views", lambda: [board_view(b, settings=settings, data=data, svg=True)
                                 for b in ("overview", "health")])  # fmt: skip
    if grid:
        step("filter grid", lambda: [board_view("overview", f, settings=settings, data=data)
                                     for f in _grid(data.options)])  # fmt: skip
    return timings


# -- what a dashboard kernel holds ---------------------------------------------------------------
class DashboardData:
    """Frames for the dashboards, read from the catalog memo and precomputed results.

    Parameters
    ----------
    settings
        Settings to use (default: read from the environment).
    max_frames
        Frames kept in this process (least recently used dropped first).
    """

    def __init__(self, *, settings: Settings | None = None, max_frames: int = 96) -> None:
        self.settings = settings or load_settings()
        self._frames: OrderedDict[str, pd.DataFrame] = OrderedDict()
        self._max = max_frames
        from opskit.catalog import get_dataset
        from opskit.datasets import Context

        wh = open_warehouse(self.settings)
        try:
            meta = wh.meta()
            self.as_of = (
                pd.Timestamp(meta["data_end"])
                if "data_end" in meta
                else pd.Timestamp.now(tz="UTC").floor("h")
            )
            ctx = Context(wh, {}, self.as_of)
            kpi = get_dataset("kpi_summary")
            self.options: dict[str, list[str]] = {
                k: kpi.filter(k).valid_options(ctx) for k in ("region", "device", "plan")
            }
        finally:
            wh.close()

    def load(self, name: str, filters: Filters, **extra: Any) -> pd.DataFrame:
        """``opskit.load(name)`` for the filter bar's state (memoised here and in the catalog)."""
        kwargs = filters.for_dataset(name, self.as_of, **extra)
        key = f"{name}|{sorted(kwargs.items())}"
        frame = self._frames.get(key)
        if frame is None:
            from opskit.catalog import load

            frame = load(name, settings=self.settings, **kwargs)
            self._frames[key] = frame
            while len(self._frames) > self._max:
                self._frames.popitem(last=False)
        else:
            self._frames.move_to_end(key)
        return frame

    def stored(self, name: str, **key: Any) -> pd.DataFrame:
        """A precomputed table (computed now if missing), kept in this process."""
        cache_id = f"stored:{name}|{sorted(key.items())}"
        frame = self._frames.get(cache_id)
        if frame is None:
            found = stored_frame(name, settings=self.settings, **key)
            if found is None:
                raise LookupError(f"no precomputed {name} {key}")
            frame = self._frames[cache_id] = found
        return frame

    def view(self, filters: Filters) -> dict[str, pd.DataFrame]:
        """Every frame the overview shows for ``filters``."""
        qoe_grain = "hour" if filters.days <= 14 else "day"
        return {
            "kpis": self.load("kpi_summary", filters),
            "revenue": self.load("revenue_impact", filters),
            "cohorts": self.load("churn_signals", filters),
            "qoe": self.load("streaming_qoe", filters, granularity=qoe_grain),
            "issues": self.load("production_issues", filters),
            "pareto": self.load(
                "pareto_analysis", filters, dimension=["delay_by_component", "cost_overrun_by_show"]
            ),
            "efficiency": self.load("operational_efficiency", filters),
        }


# -- serving -------------------------------------------------------------------------------------
#: Where the chart JavaScript is served from, relative to the dashboards folder (``voila.json``
#: allow-lists it): one cached file per page instead of ~0.9 MB inside every chart widget.
CHART_BUNDLE = "_opskit/altair-jupyterchart.js"


def write_chart_bundle(folder: Path | None = None) -> Path:
    """Write Altair's offline ``JupyterChart`` module (Vega bundled, no CDN) for Voila to serve."""
    import altair as alt

    target = (folder or dashboard_dir()) / CHART_BUNDLE
    alt.JupyterChart.enable_offline()
    text = str(alt.JupyterChart._esm)
    if not target.exists() or target.read_text() != text:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, target)
    return target


def dashboard_urls(port: int, host: str = "127.0.0.1") -> dict[str, str]:
    """The URL of each dashboard on a Voila server at ``host:port``."""
    return {name: f"http://{host}:{port}/voila/render/{name}.ipynb" for name in DASHBOARDS}


def trust_dashboards(folder: Path) -> None:
    """Sign the project's dashboard notebooks as trusted (Jupyter's notebook signatures).

    They are opskit's own notebooks, committed without outputs; signing them once per
    machine is what ``jupyter trust`` does, and Voila then serves them without warning
    that they are untrusted.
    """
    import nbformat
    from nbformat.sign import NotebookNotary

    notary = NotebookNotary()  # type: ignore[no-untyped-call]
    for path in sorted(folder.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
        if not notary.check_signature(nb):  # type: ignore[no-untyped-call]
            notary.sign(nb)  # type: ignore[no-untyped-call]


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
    ``warm_grid`` a background process warms the filter grid (:func:`precompute`
    with ``grid=True``) at low priority once Voila runs.
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
        code = "from opskit.dashboard import precompute; precompute(grid=True)"
        subprocess.Popen(["nice", "-n", "15", sys.executable, "-c", code], env=env,
                         stdout=subprocess.DEVNULL)  # fmt: skip
    return proc
