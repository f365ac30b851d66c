"""The HTML reports in a real headless Chromium, offline.

Every request that is not a ``file:`` URL is aborted and recorded; every page
must draw each chart container (an svg or canvas inside ``div.b2b-chart``),
make no outside request and log no console error. Uses Debian's chromium
(``/usr/bin/chromium``) through Playwright; never ``playwright install``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_report import Built, built_reports

CHROMIUM = os.environ.get("B2B_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        reason = f"no Chromium at {CHROMIUM}; scripts/test.sh installs Debian's chromium"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return built_reports(tmp_path_factory)


def _open(browser: object, page_path: Path) -> tuple[int, int, list[str], list[str]]:
    """(chart containers, drawn charts, outside requests, console errors) of one page."""
    page = browser.new_page()  # type: ignore[attr-defined]
    outside: list[str] = []
    errors: list[str] = []

    def route(r: object) -> None:
        url = r.request.url  # type: ignore[attr-defined]
        if url.startswith("file:"):
            r.continue_()  # type: ignore[attr-defined]
        else:
            outside.append(url)
            r.abort()  # type: ignore[attr-defined]

    page.route("**/*", route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(page_path.as_uri(), wait_until="load")
        containers = page.locator("div.b2b-chart").count()
        if containers:
            page.wait_for_function(
                "n => document.querySelectorAll("
                "'div.b2b-chart svg.marks, div.b2b-chart canvas').length >= n",
                arg=containers,
                timeout=30_000,
            )
        drawn = page.locator("div.b2b-chart svg.marks, div.b2b-chart canvas").count()
    finally:
        page.close()
    return containers, drawn, outside, errors


@pytest.mark.slow
def test_every_report_page_renders_offline(browser: object, built: Built) -> None:
    pages = sorted(built.out.rglob("*.html"))
    assert len(pages) >= 1 + len(built.clients) * 5
    charts_seen = 0
    for path in pages:
        containers, drawn, outside, errors = _open(browser, path)
        name = path.relative_to(built.out)
        assert drawn == containers, f"{name}: {drawn} of {containers} charts drawn"
        assert outside == [], f"{name} requested {outside}"
        assert errors == [], f"{name} logged {errors}"
        charts_seen += containers
    assert charts_seen >= len(built.clients) * 15
