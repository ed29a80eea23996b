"""What a person must never read: the checks every surface's text is held to.

:func:`text_problems` finds, in text a person reads (a report page, a dashboard, an
MCP answer, the CLI's tables), the marks of numbers and objects that skipped the
presentation layer: scientific notation, raw ``snake_case`` keys used as labels, Python
reprs, log-level words, nbconvert's placeholder alt text. The browser tests run it
over every page; the report runner records its findings in ``run.json``.
"""

from __future__ import annotations

import re

__all__ = ["PLACEHOLDER_ALT", "text_problems"]

#: nbconvert's alt text for an image nobody described.
PLACEHOLDER_ALT = "No description has been provided"

_CHECKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("scientific notation", re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?[eE][+-]?\d+(?![\w.])")),
    ("raw key as a label", re.compile(r"(?<![\w/.-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+\s*:(?!//)")),
    (
        "Python repr",
        re.compile(r"Timestamp\(|dtype[:=(]|\bNaN\b|\bNaT\b|\bnan\b|<NA>|\bNone\b|object at 0x"),
    ),
    ("log level", re.compile(r"\b(?:WARNING|ERROR|CRITICAL|DEBUG|Traceback)\b")),
    ("placeholder alt text", re.compile(re.escape(PLACEHOLDER_ALT))),
)


def text_problems(text: str) -> list[str]:
    """Every problem found in ``text``, as ``"<kind>: <the text around it>"``.

    Examples
    --------
    >>> text_problems("Forecast revenue: $26.0M; churn 3.4 %")
    []
    >>> text_problems("budget_usd: 2.17e+06")
    ['scientific notation: budget_usd: 2.17e+06', 'raw key as a label: budget_usd: 2.17e+06']
    >>> text_problems("WARNING opskit: dropping constant feature(s)")
    ['log level: WARNING opskit: dropping co']
    """
    out = []
    for kind, pattern in _CHECKS:
        for m in pattern.finditer(text):
            around = text[max(0, m.start() - 20) : m.end() + 20].replace("\n", " ").strip()
            out.append(f"{kind}: {around}")
    return out
