"""Charts that render with no internet access, and that say where their numbers came from.

Altair's default HTML renderer loads Vega from a CDN, which fails offline.
:func:`setup_charts` picks a renderer that ships everything it needs:

- ``svg``: static SVG rendered in-process by ``vl-convert`` (reports: papermill
  runs and code-free HTML; the report runner selects it through the
  ``OPSKIT_CHART_RENDERER`` environment variable);
- ``lab``: JupyterLab's built-in Vega-Lite renderer (the ``mimetype`` bundle);
- ``widget``: ``alt.JupyterChart`` (anywidget, JavaScript bundled in the Python
  package) for Voila dashboards; see :mod:`opskit.dashboards.widgets`.
"""

from __future__ import annotations

import os
from typing import Any, Literal

import altair as alt

from opskit.provenance import Provenance

__all__ = ["RENDERER_ENV", "setup_charts", "with_provenance"]

RENDERER_ENV = "OPSKIT_CHART_RENDERER"
Mode = Literal["auto", "svg", "lab", "widget"]


def setup_charts(mode: Mode = "auto") -> str:
    """Enable an offline Altair renderer and return its name.

    Parameters
    ----------
    mode
        ``auto`` reads ``OPSKIT_CHART_RENDERER`` (``svg``/``lab``/``widget``) and
        defaults to ``lab``.

    Raises
    ------
    ValueError
        On an unknown mode.
    """
    if mode == "auto":
        mode = os.environ.get(RENDERER_ENV, "lab")  # type: ignore[assignment]
    if mode == "svg":
        alt.renderers.enable("svg")
    elif mode == "lab":
        alt.renderers.enable("mimetype")
    elif mode == "widget":
        alt.renderers.enable("jupyter", offline=True)
    else:
        raise ValueError(f"unknown chart mode {mode!r}; use auto, svg, lab or widget")
    return str(mode)


def with_provenance(chart: Any, prov: Provenance) -> Any:
    """Add the provenance label as the chart's subtitle (demo data is unmistakable)."""
    label = prov.label()
    title = chart.title if isinstance(chart.title, str) else None
    if title is None and isinstance(chart.title, alt.TitleParams):
        title = chart.title.text
    return chart.properties(
        title=alt.TitleParams(
            text=title or "",
            subtitle=[label],
            subtitleColor={"demo": "#8a4b00", "cache": "#5a5a00", "live": "#1f5f1f"}[prov.kind],
        )
    )
