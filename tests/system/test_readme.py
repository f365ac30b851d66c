"""The README's notebook example, run as a person would: its cells show results (not
query plans), and typed into a fresh JupyterLab notebook in headless Chromium, with no
internet, they draw their chart."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
TOKEN = "b2b-readme-test"

pytestmark = pytest.mark.slow


def readme_cells() -> list[str]:
    """The ```python blocks of the README's "In Python or a notebook" paragraph."""
    text = README.read_text(encoding="utf-8")
    start = text.index("In Python or a notebook")
    section = text[start : text.index("\n### ", start)]
    return [block.strip() for block in re.findall(r"```python\n(.*?)```", section, re.S)]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out like a checkout after the demo: ``params/acme.yaml`` and its data."""
    folder = tmp_path_factory.mktemp("readme")
    result = subprocess.run(
        [sys.executable, "-m", "b2b_analysis.cli", "generate", "params/data/acme",
         "--profile", "acme", "--orders", "3000", "--params", "params/acme.yaml"],
        cwd=folder, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return folder


RUNNER = """
import ast, json, sys
cells = json.loads(sys.stdin.read())
scope = {}
kinds = []
for source in cells:
    tree = ast.parse(source)
    last = tree.body.pop() if isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<cell>", "exec"), scope)
    value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), scope) if last else None
    kinds.append(type(value).__module__.split(".")[0] + "." + type(value).__name__)
print(json.dumps(kinds))
"""


def test_readme_cells_show_results_not_plans(workdir: Path) -> None:
    cells = readme_cells()
    assert len(cells) == 4, cells
    result = subprocess.run(
        [sys.executable, "-c", RUNNER], input=json.dumps(cells), cwd=workdir,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    kinds = json.loads(result.stdout)
    assert kinds[0] == "builtins.float"
    assert kinds[1:3] == ["polars.DataFrame", "polars.DataFrame"]
    assert kinds[3].startswith("altair.") and "Chart" in kinds[3]
    assert "LazyFrame" not in " ".join(kinds)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def jupyterlab(workdir: Path) -> Iterator[str]:
    """A real JupyterLab server on 127.0.0.1 serving ``workdir``; yields its base URL."""
    port = _free_port()
    state = workdir / ".jupyter"
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
        "JUPYTER_CONFIG_DIR": str(state / "config"),
    }
    log = (workdir / "jupyterlab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", "--allow-root", f"--IdentityProvider.token={TOKEN}",
         f"--ServerApp.root_dir={workdir}", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         f"--LabApp.user_settings_dir={state / 'settings'}",
         f"--LabApp.workspaces_dir={state / 'workspaces'}"],
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start; see {workdir / 'jupyterlab.log'}")
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_jupyterlab_draws_the_readme_cells_offline(
    workdir: Path, jupyterlab: str, browser: Any
) -> None:
    import nbformat

    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": kernel})
    nbformat.write(notebook, workdir / "readme.ipynb")
    outside: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith(jupyterlab):
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()

    page.route("**/*", route)
    try:
        _type_and_run(page, jupyterlab, f"{jupyterlab}/lab/tree/readme.ipynb?token={TOKEN}")
    finally:  # what the page showed, to look at when it fails
        page.screenshot(path=str(workdir / "jupyterlab.png"), full_page=True)
    errors = page.locator(".jp-Notebook [data-mime-type='application/vnd.jupyter.error']")
    assert errors.count() == 0, errors.all_inner_texts()
    tables = page.locator(".jp-Notebook .jp-OutputArea-output table")
    assert tables.count() >= 2  # the series and the per-channel frame, as tables
    text = page.locator(".jp-Notebook .jp-OutputArea").all_inner_texts()
    assert not any("naive plan" in t or "LazyFrame" in t for t in text)
    marks = page.locator(".jp-Notebook .vega-embed svg .mark-line path, "
                         ".jp-Notebook .vega-embed svg .mark-symbol path").count()  # fmt: skip
    assert marks > 0, "the chart has no lines or points"
    assert not [u for u in outside if "vega" in u or "jsdelivr" in u], outside
    page.close()


def _start_kernel(base: str, notebook: str) -> None:
    """Start the notebook's kernel session through the server's REST API (JupyterLab then
    joins it), so that no cell is run before a kernel is there to run it."""
    body = {"path": notebook, "name": notebook, "type": "notebook", "kernel": {"name": "python3"}}
    request = urllib.request.Request(
        f"{base}/api/sessions?token={TOKEN}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60):
        pass


def _kernel_idle(base: str) -> bool:
    """Whether the notebook's kernel has started and is idle (the server's own view)."""
    with urllib.request.urlopen(f"{base}/api/sessions?token={TOKEN}", timeout=5) as answer:
        sessions = json.load(answer)
    return any(s.get("kernel", {}).get("execution_state") == "idle" for s in sessions)


def _type_and_run(page: Any, base: str, url: str) -> None:
    """Open the notebook, wait for its kernel, then type each README cell into the active
    cell and run it, waiting for its prompt's number; then wait for the chart drawn by
    JupyterLab's own Vega."""
    _start_kernel(base, "readme.ipynb")
    page.goto(url, wait_until="load")
    page.wait_for_selector(".jp-Notebook .jp-Cell .cm-content", timeout=120_000)
    deadline = time.monotonic() + 180
    while not _kernel_idle(base):  # the page has joined the session and its kernel is up
        assert time.monotonic() < deadline, "the notebook's kernel did not start"
        time.sleep(0.5)
    page.wait_for_function(
        "() => /Idle/.test(document.body.innerText) && !/No Kernel/.test(document.body.innerText)",
        timeout=120_000,
    )
    for number, source in enumerate(readme_cells(), start=1):
        page.locator(".jp-Notebook .jp-Cell.jp-mod-active .cm-content").click()
        page.keyboard.insert_text(source)
        page.keyboard.press("Shift+Enter")
        page.wait_for_function(
            "n => [...document.querySelectorAll('.jp-Notebook .jp-InputPrompt')]"
            ".some(p => p.textContent.includes('[' + n + ']'))",
            arg=number,
            timeout=180_000,
        )
    page.wait_for_selector(".jp-Notebook .vega-embed svg", timeout=60_000)
