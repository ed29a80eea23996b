"""A PDF of a report page, printed by the system's Chromium (Debian package ``chromium``).

Chromium's headless ``--print-to-pdf`` lays the page out exactly as a browser shows
it, charts included (they are static SVG images). No browser is ever downloaded: the
one on the ``PATH`` (or ``OPSKIT_CHROMIUM``) is used, started with every background
network feature off and a throw-away profile, on a local file that needs no network.
Without Chromium, :func:`print_pdf` raises :class:`PdfUnavailable` and the run records
why its PDF is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from opskit.errors import ReportError

__all__ = ["CHROMIUM_ENV", "PdfUnavailable", "find_chromium", "print_pdf"]

#: Environment variable naming the Chromium binary (default: ``chromium`` on the PATH).
CHROMIUM_ENV = "OPSKIT_CHROMIUM"
#: Seconds one page may take to print.
TIMEOUT_S = 60.0
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-pdf-header-footer",
    "--hide-scrollbars",
)


class PdfUnavailable(ReportError):
    """No Chromium to print with (install the Debian package ``chromium``)."""


def find_chromium() -> str | None:
    """The Chromium binary to print with, or ``None``."""
    named = os.environ.get(CHROMIUM_ENV)
    if named:
        return named if Path(named).is_file() else shutil.which(named)
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(page: Path, pdf: Path, *, timeout_s: float = TIMEOUT_S) -> Path:
    """Print the HTML file ``page`` to ``pdf`` with headless Chromium.

    Raises
    ------
    PdfUnavailable
        When no Chromium is installed.
    ReportError
        When Chromium fails, times out or writes no file.
    """
    binary = find_chromium()
    if binary is None:
        raise PdfUnavailable(
            "no Chromium to print the PDF with: install the Debian package 'chromium' "
            f"(or set {CHROMIUM_ENV})"
        )
    pdf = pdf.resolve()
    pdf.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="opskit-pdf-") as profile:
        cmd = [binary, *_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={pdf}",
               page.resolve().as_uri()]  # fmt: skip
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired:
            raise ReportError(
                f"Chromium took longer than {timeout_s:.0f} s to print {page.name}"
            ) from None
    if not pdf.is_file() or pdf.stat().st_size == 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise ReportError(
            f"Chromium did not print {page.name} (exit {proc.returncode}): {' | '.join(detail)}"
        )
    return pdf
