"""The report HTML, opened in headless Debian Chromium with the network blocked.

The page must render its chart (an SVG image, no JavaScript or CDN needed),
show no error output, log no console or page errors and try to fetch nothing
from the network. Skipped when Playwright or ``/usr/bin/chromium`` is missing
(CI installs Debian's ``chromium``; Playwright's own browsers are never used).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from opskit.reports import run_report

CHROMIUM = Path("/usr/bin/chromium")


def test_report_html_renders_its_chart_offline_in_chromium(report_home: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    run = run_report("weekly", {"days": 6, "label": "browser"})

    blocked: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            context = browser.new_context(offline=True)

            def route(r):  # file:// only; anything else would need the network
                if r.request.url.startswith("file://"):
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
            page.on(
                "console",
                lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None,
            )
            page.goto(run.html.as_uri(), wait_until="load")
            page.wait_for_timeout(300)  # let any late script run (and fail) before checking

            text = page.inner_text("body")
            assert "browser: 6 days, verbose=False" in text
            assert "DEMO DATA" in text  # the provenance banner
            charts = page.locator("img[src^='data:image/svg+xml'], .jp-OutputArea-output svg")
            assert charts.count() >= 1
            chart = charts.first
            box = chart.bounding_box()
            assert box is not None and box["width"] > 100 and box["height"] > 50
            if chart.evaluate("e => e.tagName.toLowerCase()") == "img":
                assert chart.evaluate("e => e.complete && e.naturalWidth > 0")
            else:  # an inline <svg>: Vega's line mark is drawn
                assert chart.locator("path").count() > 0
            for bad in (".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']",
                        ".output_error", "[data-mime-type='application/vnd.jupyter.error']"):  # fmt: skip
                assert page.locator(bad).count() == 0, bad
            assert "Traceback" not in text and "Javascript Error" not in text
        finally:
            browser.close()
    assert blocked == [], f"the report tried to fetch {blocked}"
    assert errors == []
