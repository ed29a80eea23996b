"""Matrix jobs: one schedule entry fanned out into one job per combination of parameter values.

A job's ``matrix`` (``reports/schedule.toml``) is either a table of lists, every
combination of which is a job (the first key varies slowest), or a list of
parameter sets, one job each::

    matrix = { region = ["us", "brazil", "india"], days = [7, 30] }   # 6 jobs
    matrix = [{ region = "us" }, { region = "brazil", days = 7 }]       # 2 jobs

Values are strings, numbers, booleans or lists of those (for a ``list[...]``
parameter). :func:`value_text` and :func:`safe_name` give the readable and the
file-safe forms of a value used in job keys, run ids and Airflow task ids.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from typing import Any

from opskit.errors import ConfigError

__all__ = ["MAX_MATRIX", "combinations", "safe_name", "value_text"]

#: Most jobs one matrix may expand into (a typo in a list should not start thousands of runs).
MAX_MATRIX = 1000
_SAFE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")


def safe_name(text: str) -> str:
    """``text`` if it can be a file name, an Airflow task id and a URL segment as it is.

    Otherwise the safe characters with runs of others as ``-``, and a short hash
    of ``text``, so distinct texts stay distinct.

    >>> safe_name("brazil"), safe_name("north america"), safe_name("latam/brazil")
    ('brazil', 'north-america-f45c8c', 'latam-brazil-705147')
    """
    if _SAFE.fullmatch(text):
        return text
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    digest = hashlib.sha256(text.encode()).hexdigest()[:6]
    return f"{slug}-{digest}" if slug else digest


def value_text(value: Any) -> str:
    """How a matrix value reads in a job key.

    >>> [value_text(v) for v in ("brazil", 7, True, "north america", ["us", "uk"])]
    ['brazil', '7', 'true', '"north america"', '["us","uk"]']
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str) and _SAFE.fullmatch(value):
        return value
    return json.dumps(value, separators=(",", ":"))


_MATRIX_FORMS = (
    'a table of lists, e.g. matrix = { region = ["us", "brazil"] }, or a list of '
    'parameter sets, e.g. matrix = [{ region = "us" }, { region = "brazil", days = 7 }]'
)


def _matrix_value(where: str, key: str, value: Any) -> Any:
    scalar = (str, int, float, bool)
    if isinstance(value, scalar) or (
        isinstance(value, list) and all(isinstance(v, scalar) for v in value)
    ):
        return value
    raise ConfigError(
        f"{where}: matrix value of {key!r} must be a string, number, boolean or list of "
        f"those, got {value!r}"
    )


def combinations(where: str, matrix: Any) -> list[dict[str, Any]]:
    """The parameter sets of a job's ``matrix`` (``[{}]`` without one), checked.

    Parameters
    ----------
    where
        Where the job is, for error messages (``schedule.toml: entry 2 (weekly)``).
    matrix
        The ``matrix`` value read from TOML, or ``None``.

    Raises
    ------
    ConfigError
        On an empty matrix or list, a value that is a table, a combination given
        twice, or more than :data:`MAX_MATRIX` combinations.

    Examples
    --------
    >>> combinations("x", {"region": ["us", "brazil"], "days": [7, 30]})
    [{'region': 'us', 'days': 7}, {'region': 'us', 'days': 30}, {'region': 'brazil', 'days': 7}, {'region': 'brazil', 'days': 30}]
    >>> combinations("x", [{"region": "us"}, {"region": "brazil", "days": 7}])
    [{'region': 'us'}, {'region': 'brazil', 'days': 7}]
    >>> combinations("schedule.toml: entry 1 (weekly)", {"region": "us"})
    Traceback (most recent call last):
    ...
    opskit.errors.ConfigError: schedule.toml: entry 1 (weekly): matrix.region must be a non-empty list of values, e.g. region = ["us", "brazil"], got 'us'
    """
    if matrix is None:
        return [{}]
    if isinstance(matrix, dict):
        if not matrix:
            raise ConfigError(f"{where}: matrix is empty; it must be {_MATRIX_FORMS}")
        for key, values in matrix.items():
            if not isinstance(values, list) or not values:
                raise ConfigError(
                    f"{where}: matrix.{key} must be a non-empty list of values, "
                    f'e.g. {key} = ["us", "brazil"], got {values!r}'
                )
        size = math.prod(len(v) for v in matrix.values())
        if size > MAX_MATRIX:
            raise ConfigError(f"{where}: matrix expands into {size} jobs; at most {MAX_MATRIX}")
        axes = [[(k, _matrix_value(where, k, v)) for v in vs] for k, vs in matrix.items()]
        combos = [dict(c) for c in itertools.product(*axes)]
    elif isinstance(matrix, list) and matrix:
        if len(matrix) > MAX_MATRIX:
            raise ConfigError(f"{where}: matrix lists {len(matrix)} jobs; at most {MAX_MATRIX}")
        combos = []
        for n, combo in enumerate(matrix, 1):
            if not isinstance(combo, dict) or not combo:
                raise ConfigError(
                    f"{where}: matrix item {n} must be a non-empty table of parameter values, "
                    f"got {combo!r}"
                )
            combos.append({k: _matrix_value(where, k, v) for k, v in combo.items()})
    else:
        raise ConfigError(f"{where}: matrix must be {_MATRIX_FORMS}; got {matrix!r}")
    seen: set[str] = set()
    for combo in combos:
        text = json.dumps(combo, sort_keys=True)
        if text in seen:
            raise ConfigError(f"{where}: matrix combination {combo} appears twice")
        seen.add(text)
    return combos
