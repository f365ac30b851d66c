"""The HTML reports in a real headless Chromium, offline.

Every request that is not a ``file:`` URL is aborted and recorded; every page
must draw each chart container (an svg or canvas inside ``div.b2b-chart``),
make no outside request and log no console error. Uses Debian's chromium
(``/usr/bin/chromium``) through Playwright; never ``playwright install``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.clientkit import open_report_page
from tests.support.reportkit import Built


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
        containers = open_report_page(page, page_path)
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


@pytest.fixture(scope="module")
def lab_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's notebooks beside freshly generated acme demo data."""
    from b2b_analysis import demo as gen

    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(Path(__file__).resolve().parents[2] / "notebooks", root / "notebooks")
    gen.generate(root / "params" / "data" / "acme", profile="acme", orders=5_000, seed=0)
    (root / "params" / "acme.yaml").write_text(gen.params_yaml("acme", "data/acme"))
    return root


@pytest.mark.slow
def test_jupyterlab_runs_a_notebook_and_draws_its_charts(
    browser: object, lab_tree: Path, jupyterlab: Callable[[Path], Any]
) -> None:
    """JupyterLab on 127.0.0.1 with a token: clear, run all, every chart drawn offline."""
    lab = jupyterlab(lab_tree)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    outside: list[str] = []
    errors: list[str] = []

    def route(r: object) -> None:
        url = r.request.url  # type: ignore[attr-defined]
        if lab.serves(url):
            r.continue_()  # type: ignore[attr-defined]
        else:
            outside.append(url)
            r.abort()  # type: ignore[attr-defined]

    page.route("**/*", route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(lab.url("notebooks/overview.ipynb"))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    accept = page.locator(".jp-Dialog button.jp-mod-accept")  # "Select kernel"
    try:
        accept.wait_for(timeout=15_000)
        accept.click()
    except Exception:  # no dialog: the kernel started by itself
        pass
    page.click("div.lm-MenuBar-itemLabel:text('Edit')")
    page.click("li.lm-Menu-item:has-text('Clear Outputs of All Cells')")
    page.wait_for_function("() => document.querySelectorAll('.jp-RenderedVegaLite').length === 0")
    page.click("div.lm-MenuBar-itemLabel:text('Run')")
    page.click("li.lm-Menu-item:has-text('Run All Cells')")
    page.wait_for_function(
        "() => document.querySelectorAll('.jp-RenderedVegaLite svg.marks').length >= 5",
        timeout=120_000,
    )
    assert (
        page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        ).count()
        == 0
    )
    assert outside == [], outside
    assert errors == [], errors
    page.close()


@pytest.mark.slow
def test_a_page_copied_alone_elsewhere_still_draws_every_chart(
    browser: object, built: Built, tmp_path: Path
) -> None:
    """A client opens one emailed report page: no sibling files, no network."""
    page = next(p for p in sorted(built.out.glob("*/aov.html")))
    lonely = tmp_path / "somewhere else" / "report.html"
    lonely.parent.mkdir(parents=True)
    shutil.copyfile(page, lonely)
    containers, drawn, outside, errors = _open(browser, lonely)
    assert containers >= 3 and drawn == containers
    assert outside == [] and errors == []
