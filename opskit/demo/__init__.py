"""Deterministic synthetic data for every warehouse table, with planted ground truth.

``opskit demo build`` (or :func:`build_demo`) fills the warehouse with a
seeded streaming business; ``demo_truth`` records what was planted so tests can
check that opskit recovers it.
"""

from __future__ import annotations

from opskit.demo.build import BuildReport, build_demo

__all__ = ["BuildReport", "build_demo"]
