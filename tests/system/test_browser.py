"""The HTML reports in a real headless Chromium, offline.

Every request that is not a ``file:`` URL is aborted and recorded; every page
must draw each chart container (an svg or canvas inside ``div.b2b-chart``),
make no outside request and log no console error. Uses Debian's chromium
(``/usr/bin/chromium``) through Playwright; never ``playwright install``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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
def test_jupyterlab_runs_a_notebook_and_draws_its_charts(browser: object, lab_tree: Path) -> None:
    """JupyterLab on 127.0.0.1 with a token: clear, run all, every chart drawn offline."""
    import secrets
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(lab_tree / ".jupyter"),
        "JUPYTER_RUNTIME_DIR": str(lab_tree / ".runtime"),
    }
    log = (lab_tree / "lab.log").open("w")
    lab = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={lab_tree}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or lab.poll() is not None:
                    pytest.fail("JupyterLab did not start: " + (lab_tree / "lab.log").read_text())
                time.sleep(0.5)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
        outside: list[str] = []
        errors: list[str] = []

        def route(r: object) -> None:
            url = r.request.url  # type: ignore[attr-defined]
            if url.startswith((base, f"ws://127.0.0.1:{port}", "data:")):
                r.continue_()  # type: ignore[attr-defined]
            else:
                outside.append(url)
                r.abort()  # type: ignore[attr-defined]

        page.route("**/*", route)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{base}/lab/tree/notebooks/overview.ipynb?token={token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        accept = page.locator(".jp-Dialog button.jp-mod-accept")  # "Select kernel"
        try:
            accept.wait_for(timeout=15_000)
            accept.click()
        except Exception:  # no dialog: the kernel started by itself
            pass
        page.click("div.lm-MenuBar-itemLabel:text('Edit')")
        page.click("li.lm-Menu-item:has-text('Clear Outputs of All Cells')")
        page.wait_for_function(
            "() => document.querySelectorAll('.jp-RenderedVegaLite').length === 0"
        )
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
    finally:
        lab.terminate()
        lab.wait(30)
        log.close()


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
