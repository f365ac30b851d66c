"""The same inputs give the same outputs: ``kpis.json``, pages and notebooks.

Compares the session's demo report run with the run of two of its clients
alone (the fixtures ``built`` and ``pair`` of ``tests/system/conftest.py``, shared
with the faults tests): other processes, another
output folder, another time. What may differ, and only where, is documented in
the README: papermill's record of each run in the notebooks' metadata (start and
end times, durations, the output path) and the time stamp of the portfolio page.
Nothing else, outputs included, depends on the clock or a random draw.
(``kpis`` on the command line is checked in ``tests/system/test_cli.py``.)
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import nbformat
import pytest

from b2b_analysis.report import NOTEBOOKS
from tests.support.reportkit import (
    GOOD_CLIENTS,
    Built,
    KillSequence,
    Run,
    without_run_record,
)

pytestmark = pytest.mark.slow

STAMP = re.compile(r"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _outputs_text(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return json.dumps([c.get("outputs", []) for c in nb.cells], sort_keys=True)


def test_kpis_json_is_byte_identical(pair: tuple[Built, Run]) -> None:
    built, alone = pair
    for slug in GOOD_CLIENTS:
        a = (built.out / slug / "kpis.json").read_bytes()
        assert a == (alone.out / slug / "kpis.json").read_bytes(), slug
        assert json.loads(a)["kpis"]["orders"] > 0


def test_notebooks_differ_only_in_the_documented_run_record(pair: tuple[Built, Run]) -> None:
    built, alone = pair
    for slug in GOOD_CLIENTS:
        for name in NOTEBOOKS:
            a, b = built.out / slug / f"{name}.ipynb", alone.out / slug / f"{name}.ipynb"
            assert a.read_bytes() != b.read_bytes()  # the run record does differ
            assert without_run_record(a) == without_run_record(b), f"{slug}/{name}"


def test_no_clock_time_or_random_id_in_notebook_outputs_or_pages(
    pair: tuple[Built, Run],
) -> None:
    built, _ = pair
    today = dt.date.today().isoformat()
    for slug in GOOD_CLIENTS:
        folder = built.out / slug
        for name in NOTEBOOKS:
            outputs = _outputs_text(folder / f"{name}.ipynb")
            assert today not in outputs, f"{slug}/{name}"
            assert not UUID.search(outputs), f"{slug}/{name}"
            nb = nbformat.read(folder / f"{name}.ipynb", as_version=4)
            injected = [c for c in nb.cells if "injected-parameters" in c.metadata["tags"]]
            assert [c.id for c in injected] == ["injected-parameters"]
        for page in [*folder.glob("*.html"), folder / "kpis.json", folder / "status.json"]:
            text = page.read_text(encoding="utf-8")
            assert today not in text, page
            assert not UUID.search(text), page


def test_portfolio_differs_only_in_its_time_stamp(pair: tuple[Built, Run]) -> None:
    built, alone = pair
    rows = []
    for run in (built, alone):
        page = (run.out / "index.html").read_text(encoding="utf-8")
        assert len(STAMP.findall(page)) == 1, page
        assert not UUID.search(page)
        found = re.findall(r'(<tr data-client="([^"]+)">.*?</tr>)', page, flags=re.S)
        rows.append({slug: row for row, slug in found})
    for slug in GOOD_CLIENTS:
        assert rows[0][slug] == rows[1][slug], slug


def test_a_rerun_into_the_same_folder_rewrites_the_same_files(kills: KillSequence) -> None:
    """Client one (its retention notebook fails) was published by the killed run,
    then again by the re-run: papermill's error banners get fixed ids too."""
    first, again = kills.killed.left / "client-one", kills.rerun.out / "client-one"
    cells = nbformat.read(again / "retention.ipynb", as_version=4).cells
    banners = [c.id for c in cells if "papermill-error-cell-tag" in c.metadata.get("tags", [])]
    assert banners == ["papermill-error-1", "papermill-error-2"]
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    for name in names:
        if name.endswith(".ipynb"):
            assert without_run_record(first / name) == without_run_record(again / name), name
        else:
            assert (first / name).read_bytes() == (again / name).read_bytes(), name
