"""The served folder: dashboard notebooks, the chart bundle, trust, and URLs.

``notebooks/dashboards/`` holds one notebook per dashboard (:data:`DASHBOARDS`),
``voila.json`` (kernel pools, sources stripped, tracebacks hidden) and the ``opskit``
Voila template (no CDN links). :func:`write_chart_bundle` adds the chart JavaScript
Voila serves to every page.
"""

from __future__ import annotations

import os
from pathlib import Path

from opskit.config import Settings, load_settings

__all__ = [
    "CHART_BUNDLE",
    "DASHBOARDS",
    "dashboard_dir",
    "dashboard_urls",
    "trust_dashboards",
    "write_chart_bundle",
]

#: The dashboards served, by notebook stem.
DASHBOARDS = ("ops_overview", "service_health")
#: Where the chart JavaScript is served from, relative to the dashboards folder (``voila.json``
#: allow-lists it): one cached file per page instead of ~0.9 MB inside every chart widget.
CHART_BUNDLE = "_opskit/altair-jupyterchart.js"
_CHECKOUT = Path(__file__).resolve().parents[3]


def dashboard_dir(settings: Settings | None = None) -> Path:
    """``notebooks/dashboards`` of the project (falls back to the source checkout).

    Raises
    ------
    FileNotFoundError
        Neither the project home nor the checkout has the folder.
    """
    home = Path((settings or load_settings()).home)
    for root in (home, _CHECKOUT):
        folder = root / "notebooks" / "dashboards"
        if folder.is_dir():
            return folder
    raise FileNotFoundError(f"no notebooks/dashboards folder under {home}")


def dashboard_urls(port: int, host: str = "127.0.0.1") -> dict[str, str]:
    """The URL of each dashboard on a Voila server at ``host:port``.

    Examples
    --------
    >>> dashboard_urls(8866)["ops_overview"]
    'http://127.0.0.1:8866/voila/render/ops_overview.ipynb'
    """
    return {name: f"http://{host}:{port}/voila/render/{name}.ipynb" for name in DASHBOARDS}


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
