"""Notebook parameters: read the ``parameters`` cell, validate and coerce values.

Papermill only *warns* on unknown parameter names and injects whatever text it
is given; opskit checks names and types against the notebook's declared,
annotated defaults before a kernel starts (:func:`validate`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import papermill as pm

from opskit import inputs
from opskit.errors import ConfigError, ParameterError

__all__ = ["NotebookParameter", "inspect", "validate"]


class NotebookParameter(dict[str, Any]):
    """One declared parameter: ``name``, ``type`` (as written), ``default``, ``help``."""


def inspect(notebook: Path) -> dict[str, NotebookParameter]:
    """The parameters a notebook declares in its ``parameters`` cell.

    Raises
    ------
    ConfigError
        If the notebook has no cell tagged ``parameters``.
    """
    raw = pm.inspect_notebook(str(notebook))
    if not raw:
        raise ConfigError(f"{notebook.name} has no cell tagged 'parameters'")
    out = {}
    for name, info in raw.items():
        out[name] = NotebookParameter(
            name=name,
            type=(info.get("inferred_type_name") or "None").replace(" ", ""),
            default=info.get("default"),
            help=info.get("help", ""),
        )
    return out


def _coerce(name: str, kind: str, value: Any) -> Any:
    base = (
        kind.removeprefix("Optional[").removesuffix("]") if kind.startswith("Optional[") else kind
    )
    optional = kind.startswith("Optional[") or kind.endswith("|None") or kind.startswith("None|")
    base = base.replace("|None", "").replace("None|", "")
    if value is None or (isinstance(value, str) and value.lower() in ("none", "null") and optional):
        if optional:
            return None
        raise ConfigError(f"parameter {name!r} ({kind}) cannot be empty")
    where = f"parameter {name!r} ({kind})"
    if base in ("int", "float"):
        return inputs.number(value, where=where, integer=base == "int", error=ConfigError)
    if base == "bool":
        return inputs.boolean(value, where=where, error=ConfigError)
    try:
        if base.startswith("list"):
            if isinstance(value, list | tuple):
                return list(value)
            text = str(value).strip()
            return (
                json.loads(text)
                if text.startswith("[")
                else [v.strip() for v in text.split(",") if v.strip()]
            )
        if base in ("str", "None", ""):
            return value if isinstance(value, str) else str(value)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ConfigError(f"parameter {name!r} expects {kind}, got {value!r}") from None
    return value


def validate(notebook: Path, params: dict[str, Any]) -> dict[str, Any]:
    """Check ``params`` against the notebook's declared parameters and coerce their types.

    Values given as text (from the command line) are converted to the declared
    type: ``int``, ``float``, ``bool`` (true/false), ``list[...]`` (JSON or
    comma-separated), ``str``; ``Optional``/``| None`` types accept ``none``.
    Numbers and booleans follow :mod:`opskit.inputs` (finite, ``True`` is not 1),
    and a report with an analysis (``opskit.analyses.ANALYSES``) has every value
    checked against that analysis's ranges, so a bad value fails before a kernel
    starts.

    Raises
    ------
    ConfigError
        On an unknown name (listing the valid ones), a value of the wrong type, or
        one outside the analysis's range.
    """
    declared = inspect(notebook)
    unknown = sorted(set(params) - set(declared))
    if unknown:
        valid = ", ".join(f"{p['name']}: {p['type']} = {p['default']}" for p in declared.values())
        raise ConfigError(
            f"{notebook.stem} has no parameter {unknown[0]!r}; valid parameters: {valid}"
        )
    values = {k: _coerce(k, declared[k]["type"], v) for k, v in params.items()}
    return _check_ranges(notebook.stem, values)


def _check_ranges(report: str, values: dict[str, Any]) -> dict[str, Any]:
    """Check values against the ranges of the report's analysis (if it has one)."""
    from opskit.analyses import ANALYSES
    from opskit.analyses._common import check_arguments

    if report not in ANALYSES:
        return values
    try:
        return check_arguments(ANALYSES[report], values, name=f"report {report!r}")
    except ParameterError as exc:
        raise ConfigError(str(exc)) from None
