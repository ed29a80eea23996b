"""Every chart of every analysis: alt text written for it, units on its axes, readable legends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from opskit import analyses
from opskit.config import Settings
from opskit.present.lint import text_problems

UNIT = ("(", ")")


def _views(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every single-view spec inside a layered / concatenated / faceted spec."""
    yield spec
    for key in ("layer", "hconcat", "vconcat", "concat"):
        for sub in spec.get(key, []):
            yield from _views(sub)
    if "spec" in spec:
        yield from _views(spec["spec"])


def _axis_titles(spec: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    for view in _views(spec):
        for channel in ("x", "y"):
            enc = view.get("encoding", {}).get(channel)
            if not isinstance(enc, dict) or enc.get("type") != "quantitative":
                continue
            if enc.get("axis", {}) is None:  # an axis drawn by another layer
                continue
            yield channel, enc.get("title")


@pytest.fixture(scope="module")
def charts(demo_env: dict[str, str]) -> dict[str, dict[str, Any]]:
    from opskit.config import load_settings

    settings: Settings = load_settings()
    out = {}
    for name, fn in analyses.ANALYSES.items():
        for chart, c in fn(settings=settings).all_charts().items():
            out[f"{name}/{chart}"] = c.to_dict(validate=True)
    return out


def test_every_chart_has_alt_text_written_for_it(charts: dict[str, dict[str, Any]]) -> None:
    for name, spec in charts.items():
        text = spec.get("description", "")
        assert len(text) > 40 and text.endswith("."), (name, text)
        assert not text.startswith("Chart"), (name, text)
        assert text_problems(text) == [], (name, text)


def test_every_quantitative_axis_names_its_unit(charts: dict[str, dict[str, Any]]) -> None:
    for name, spec in charts.items():
        titled = [(ch, t) for ch, t in _axis_titles(spec) if t]
        assert titled, f"{name}: no titled value axis"
        for channel, title in titled:
            assert all(mark in title for mark in UNIT), (
                f"{name}: {channel} axis {title!r} has no unit"
            )
            assert "_" not in title, f"{name}: raw key in axis title {title!r}"


def test_legends_use_words_not_true_false(charts: dict[str, dict[str, Any]]) -> None:
    for name, spec in charts.items():
        for view in _views(spec):
            color = view.get("encoding", {}).get("color", {})
            field = color.get("field", "") if isinstance(color, dict) else ""
            assert not field.startswith(("is_", "has_")), f"{name}: legend of the flag {field}"
