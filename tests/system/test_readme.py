"""The README's notebook example, run as a person would: its cells show results (not
query plans), and typed into a fresh JupyterLab notebook in headless Chromium, with no
internet, they draw their chart."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

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


def test_jupyterlab_draws_the_readme_cells_offline(
    workdir: Path, jupyterlab: Callable[[Path], Any], browser: Any
) -> None:
    import nbformat

    cells = readme_cells()
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": kernel})
    nbformat.write(notebook, workdir / "readme.ipynb")
    lab = jupyterlab(workdir)
    outside: list[str] = []  # every request leaving this machine, aborted
    page = browser.new_page(viewport={"width": 1280, "height": 1800})  # all four cells in view

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if lab.serves(url):
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()

    page.route("**/*", route)
    try:
        _type_and_run(page, lab.url("readme.ipynb"), cells)
    finally:  # what the page showed, to look at (also when it passes)
        page.screenshot(path=str(workdir / "jupyterlab.png"))
    outputs = [_outputs(page, number) for number in range(1, len(cells) + 1)]
    page.close()
    assert [o["source"] for o in outputs] == cells  # typed as the README shows them
    assert [o["prompt"] for o in outputs] == ["[1]:", "[2]:", "[3]:", "[4]:"]  # none lost
    for number, output in enumerate(outputs, start=1):
        assert output["errors"] == [], f"cell {number}: {output['errors']}"
        assert "naive plan" not in output["text"] and "LazyFrame" not in output["text"]
    assert re.fullmatch(r"0\.\d+", outputs[0]["text"].strip()), outputs[0]["text"]
    for output, columns in (
        (outputs[1], ["period_label", "orders", "online_order_share", "average_order_value"]),
        (outputs[2], ["channel", "average_order_value", "customer_retention_rate"]),
    ):  # the two frames, as tables with their columns and some rows
        assert output["tables"] == 1 and output["rows"] >= 2, output
        assert all(column in output["header"] for column in columns), output["header"]
    assert [u for u in outside if "vega" in u or "jsdelivr" in u or "cdn" in u] == [], outside
    chart = outputs[3]
    assert len(chart["renderers"]) == 1, chart  # one output, drawn by Lab's own Vega renderer
    assert "jp-RenderedVegaLite" in chart["renderers"][0], chart
    assert chart["marks"] > 0, "the chart has no lines or points"
    assert outside == [], outside


def _type_and_run(page: Any, url: str, cells: list[str]) -> None:
    """Open the notebook, wait until its kernel is idle, then type each cell into the
    active cell and run it (Shift+Enter), waiting for its prompt's number; then wait for
    the last cell's chart (see :data:`CHART_SETTLED`).

    JupyterLab starts the kernel named in the notebook's metadata by itself; a cell run
    before the status bar shows that kernel idle may be lost. Starting the session
    beforehand through the REST API does not help: Lab then shows "No Kernel" and never
    connects."""
    page.goto(url)
    accept = page.locator(".jp-Dialog button.jp-mod-accept")  # "Select kernel", if asked
    status = page.locator("#jp-main-statusbar")
    deadline = time.monotonic() + 300
    while not re.search(r"Python 3 \(ipykernel\) \| Idle", _text(status)):
        assert time.monotonic() < deadline, f"no idle kernel; status bar: {_text(status)!r}"
        if accept.count():
            accept.first.click()
        page.wait_for_timeout(500)
    for number, source in enumerate(cells, start=1):
        page.locator(".jp-Notebook .jp-Cell.jp-mod-active .cm-content").click()
        page.keyboard.insert_text(source)
        page.keyboard.press("Shift+Enter")
        page.wait_for_function(
            "n => document.querySelectorAll('.jp-Notebook .jp-CodeCell')[n - 1]"
            "?.querySelector('.jp-InputPrompt')?.textContent.trim() === '[' + n + ']:'",
            arg=number,
            timeout=180_000,
        )
    page.wait_for_function(CHART_SETTLED, arg=len(cells), timeout=60_000)


#: The last cell's chart is drawn (an SVG by Lab's own Vega renderer), or the cell shows
#: something else that the test's assertions then name (e.g. "Error loading script" from
#: a CDN, with Altair's default renderer).
CHART_SETTLED = """n => {
  const area = document.querySelectorAll('.jp-Notebook .jp-CodeCell')[n - 1]
    ?.querySelector('.jp-OutputArea');
  if (!area) return false;
  if (area.querySelector('.jp-RenderedVegaLite svg.marks')) return true;
  return [...area.querySelectorAll('.jp-OutputArea-output')]
    .some(e => !e.classList.contains('jp-RenderedVegaLite'));
}"""


def _text(locator: Any) -> str:
    return str(locator.inner_text()) if locator.count() else ""


OUTPUTS = """n => {
  const cell = document.querySelectorAll('.jp-Notebook .jp-CodeCell')[n - 1];
  const area = cell.querySelector('.jp-OutputArea');
  const tables = area.querySelectorAll('table');
  const outputs = [...area.querySelectorAll('.jp-OutputArea-output')];
  return {
    prompt: cell.querySelector('.jp-InputPrompt').textContent.trim(),
    source: [...cell.querySelectorAll('.jp-InputArea .cm-line')]
      .map(l => l.textContent).join('\\n'),
    text: outputs.map(e => e.innerText).join('\\n'),
    errors: outputs
      .filter(e => e.dataset.mimeType === 'application/vnd.jupyter.stderr')
      .map(e => e.innerText),
    tables: tables.length,
    header: tables.length ? tables[0].querySelector('thead')?.innerText ?? '' : '',
    rows: tables.length ? tables[0].querySelectorAll('tbody tr').length : 0,
    renderers: outputs.map(e => [...e.classList].filter(c => c.startsWith('jp-Rendered'))),
    marks: area.querySelectorAll('.jp-RenderedVegaLite svg.marks .mark-line path, '
      + '.jp-RenderedVegaLite svg.marks .mark-symbol path').length,
  };
}"""


def _outputs(page: Any, number: int) -> dict[str, Any]:
    """What the ``number``-th code cell shows: its prompt and source, its outputs' text, its
    stderr outputs (Lab renders tracebacks as stderr too), tables (count, first one's
    header and body rows), the renderer classes of its outputs and the lines and points
    of a Vega chart in them."""
    result: dict[str, Any] = page.evaluate(OUTPUTS, number)
    return result
