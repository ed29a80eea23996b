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

from opskit.errors import ConfigError

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
    try:
        if base == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if base == "float":
            return float(value)
        if base == "bool":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "1", "yes"):
                return True
            if str(value).lower() in ("false", "0", "no"):
                return False
            raise ValueError
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

    Raises
    ------
    ConfigError
        On an unknown name (listing the valid ones) or a value of the wrong type.
    """
    declared = inspect(notebook)
    unknown = sorted(set(params) - set(declared))
    if unknown:
        valid = ", ".join(f"{p['name']}: {p['type']} = {p['default']}" for p in declared.values())
        raise ConfigError(
            f"{notebook.stem} has no parameter {unknown[0]!r}; valid parameters: {valid}"
        )
    return {k: _coerce(k, declared[k]["type"], v) for k, v in params.items()}
