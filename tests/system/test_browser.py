"""The HTML reports in a real headless Chromium, offline.

Every request that is not a ``file:`` URL is aborted and recorded; every page
must draw each chart container (an svg or canvas inside ``div.b2b-chart``),
make no outside request and log no console error. Uses Debian's chromium
(``/usr/bin/chromium``) through Playwright; never ``playwright install``.
"""

from __future__ import annotations

import re
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


def _committed_charts(notebook: Path) -> int:
    """How many charts the committed notebook's outputs hold (the refreshed run's)."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    return sum(
        1
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if any("vegalite" in mime for mime in output.get("data", {}))
    )


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
    charts = _committed_charts(lab_tree / "notebooks" / "overview.ipynb")
    assert charts >= 4  # volume, money, the revenue bridge, satisfaction at least
    page.wait_for_function(
        f"() => document.querySelectorAll('.jp-RenderedVegaLite svg.marks').length >= {charts}",
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


# ------------------------------------------------------------------ layout and locale

#: Every element wider than the viewport that is not inside a horizontal scroll
#: container (a wide table may scroll inside its own box, the page may not).
_OVERFLOWING = """() => {
  const limit = document.documentElement.clientWidth + 1;
  const scrolls = el => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if ((o === "auto" || o === "scroll") && p !== document.documentElement
          && p !== document.body) { return true; }
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > limit && !scrolls(el)) {
      out.push(el.tagName.toLowerCase() + "." + el.className + " right=" + Math.round(r.right));
    }
  }
  return out.slice(0, 5);
}"""

#: The page's content width and the width each chart is drawn at.
_WIDTHS = """() => {
  const body = document.body, style = getComputedStyle(body);
  const content = body.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const charts = [...document.querySelectorAll("div.b2b-chart")].map(c => {
    const drawn = c.querySelector("svg.marks, canvas");
    return drawn ? drawn.getBoundingClientRect().width : 0;
  });
  return {content, charts, scroll: document.documentElement.scrollWidth,
          client: document.documentElement.clientWidth};
}"""


def _laid_out(browser: object, path: Path, width: int) -> dict[str, Any]:
    page = browser.new_page(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
    try:
        open_report_page(page, path)
        facts: dict[str, Any] = page.evaluate(_WIDTHS)
        facts["overflowing"] = page.evaluate(_OVERFLOWING)
        facts["values"] = page.locator("table.b2b-scorecard td.value").all_inner_texts()
        facts["chart_text"] = page.locator("div.b2b-chart svg text").all_text_contents()
    finally:
        page.close()
    return facts


@pytest.mark.slow
def test_every_page_fits_1280_px_with_charts_across_the_page(browser: object, built: Built) -> None:
    """No horizontal scroll on a 1280 px screen; each chart at least 80 % of the content."""
    for path in sorted(built.out.rglob("*.html")):
        name = path.relative_to(built.out)
        facts = _laid_out(browser, path, 1280)
        assert facts["scroll"] <= facts["client"], f"{name} scrolls sideways: {facts}"
        narrow = [w for w in facts["charts"] if w < 0.8 * facts["content"]]
        assert narrow == [], f"{name}: charts {narrow} px of {facts['content']} px"


@pytest.mark.slow
def test_every_page_is_usable_on_a_phone(browser: object, built: Built) -> None:
    """At 390 px nothing sticks out of the screen except inside its own scroll box."""
    for path in sorted(built.out.rglob("*.html")):
        facts = _laid_out(browser, path, 390)
        name = path.relative_to(built.out)
        assert facts["overflowing"] == [], f"{name}: {facts['overflowing']}"
        assert facts["scroll"] <= facts["client"], f"{name} scrolls sideways"


#: Amounts as German and Spanish write them: "1.896.347,50 SEK", "1.896.347,50 €".
_AMOUNT = r"^-?\d{{1,3}}(\.\d{{3}})*,\d{{2}}\u00a0{currency}$"
_PERCENT = re.compile(r"^-?\d{1,3}(\.\d{3})*,\d\u00a0%$")


@pytest.mark.slow
@pytest.mark.parametrize(("slug", "currency"), [("nordic", "SEK"), ("iberia", "€")])
def test_numbers_are_written_in_the_clients_locale(
    browser: object, built: Built, slug: str, currency: str
) -> None:
    """nordic is de-DE, iberia es-ES (their demo params): the scorecard, the chart axes."""
    facts = _laid_out(browser, built.out / slug / "index.html", 1280)
    amount = re.compile(_AMOUNT.format(currency=re.escape(currency)))
    values = facts["values"]
    assert any(amount.match(v) for v in values), values
    assert any(_PERCENT.match(v) for v in values), values
    assert not [v for v in values if re.search(r"\d,\d{3}\.\d", v)], values  # no en-US number
    aov = _laid_out(browser, built.out / slug / "aov.html", 1280)["chart_text"]
    axis = re.compile(r"^\d{1,3}(\.\d{3})*\u00a0" + re.escape(currency) + "$")
    assert any(axis.match(t) for t in aov), aov
    retention = _laid_out(browser, built.out / slug / "retention.html", 1280)["chart_text"]
    assert any(re.match(r"^\d+\u00a0%$", t) for t in retention), retention[:20]
