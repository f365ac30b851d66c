"""Faults during a ``report`` run: broken clients, a killed run, a failing cell.

Real processes throughout: ``b2b-analysis report`` runs in a subprocess with its
worker processes and Jupyter kernels; the killed runs are stopped with SIGKILL.

* The session's demo report run (fixture ``built``: three demo clients and one
  broken client) is compared with fixture ``pair``'s ``report --all`` over two of
  its good clients only: their outputs must be the same, byte for byte.
* :func:`corpus` puts bad-input cases (``tests/support/bad_input.py``) through
  ``report``: the summary names the file, column and rows (or key) of each.
* Fixture ``kills`` SIGKILLs runs mid-way and re-runs them.

The last two use ``lite_notebooks`` (the notebooks cut down to their first
analysis cell: what fails or is killed does not depend on the charts) to keep the
run time modest. The fixtures ``built``, ``pair`` and ``kills`` live in
``tests/system/conftest.py`` (shared with the report, browser and
reproducibility tests); the runs themselves in ``tests/support/reportkit.py``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from b2b_analysis.report import NOTEBOOKS
from tests.support.bad_input import CASES
from tests.support.reportkit import (
    FAILING,
    GOOD_CLIENTS,
    Built,
    KillSequence,
    Run,
    lite_notebooks,
    run_report,
    tree_hashes,
)

#: Bad-input cases run through ``report`` (their builders and expected fragments come
#: from tests.support.bad_input.CASES). A params error costs nothing; a data error fails
#: the client's KPI step (no notebook runs), so one stands for all.
PARAMS_CASES = (
    "malformed yaml",
    "unknown params key",
    "params not a mapping",
    "missing required key",
    "invalid value",
    "unknown time zone",
)
DATA_CASES = ("unparsable date",)


def _case_slug(case: str) -> str:
    return "bad-" + re.sub(r"[^a-z0-9]+", "-", case.lower()).strip("-")


def broken_clients(base: Path) -> dict[str, Path]:
    """The corpus cases in :data:`PARAMS_CASES` and :data:`DATA_CASES`, one folder each.

    A case's params file gets its own ``slug`` when it is a valid mapping (all
    cases name their client alike); the others fail before a slug is read.
    """
    files = {}
    for case in (*PARAMS_CASES, *DATA_CASES):
        folder = base / _case_slug(case)
        params_file = CASES[case][0](folder)
        text = params_file.read_text(encoding="utf-8")
        try:
            is_mapping = isinstance(yaml.safe_load(text), dict)
        except yaml.YAMLError:
            is_mapping = False
        if is_mapping:
            params_file.write_text(f"slug: {_case_slug(case)}\n{text}", encoding="utf-8")
        files[case] = params_file
    return files


@dataclass
class CorpusRun(Run):
    broken: dict[str, Path]
    duplicate: Path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> CorpusRun:
    """One ``report`` run (lite notebooks) over the broken clients of
    :func:`broken_clients` and a copy of the data case's client (the same slug, after it)."""
    base = tmp_path_factory.mktemp("corpus")
    broken = broken_clients(base)
    data_case = broken[DATA_CASES[0]]
    duplicate = base / "zz-copy" / "client.yaml"  # the same slug, after it
    duplicate.parent.mkdir()
    duplicate.write_text(data_case.read_text(encoding="utf-8"), encoding="utf-8")
    run = run_report(
        *broken.values(),
        duplicate,
        "--notebooks",
        lite_notebooks(base / "notebooks"),
        "--out",
        base / "out",
    )
    return CorpusRun(**vars(run), broken=broken, duplicate=duplicate)


# ------------------------------------------------------------------ checks


def visible_files(folder: Path) -> list[Path]:
    """Files whose path has no hidden part (staging folders, temporary files, logs)."""
    return [
        p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]


def assert_complete_file(path: Path) -> None:
    """A visible output is whole: JSON parses, a notebook validates, a page is closed,
    a workbook opens."""
    if path.suffix == ".json":
        json.loads(path.read_text(encoding="utf-8"))
    elif path.suffix == ".ipynb":
        nbformat.validate(nbformat.read(path, as_version=4))
    elif path.suffix == ".html":
        assert path.read_text(encoding="utf-8").rstrip().endswith("</html>"), path
    elif path.suffix == ".xlsx":
        import openpyxl

        openpyxl.load_workbook(path)  # a workbook cut short is not a zip that opens
    else:
        pytest.fail(f"unexpected output {path}")


def assert_nothing_looks_complete_but_is_not(out: Path) -> None:
    """Every visible client folder is a whole, published run (its status.json says
    which notebooks ran); the portfolio page, when present, lists only such folders."""
    for path in visible_files(out):
        assert_complete_file(path)
    for folder in sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")):
        status = json.loads((folder / "status.json").read_text(encoding="utf-8"))
        assert status["slug"] == folder.name
        assert (folder / "index.html").exists()
        for name, ok in status["notebooks"].items():
            assert (folder / f"{name}.html").exists() or not ok
        assert (folder / "kpis.json").exists() or not status["ok"]
    portfolio = out / "index.html"
    if portfolio.exists():
        for slug in re.findall(r'href="([^"/]+)/index\.html"', portfolio.read_text("utf-8")):
            assert (out / slug / "status.json").exists(), slug


def problem_lines(stderr: str) -> list[str]:
    """The indented problem lines of the run summary."""
    return [line.strip() for line in stderr.splitlines() if line.startswith("    ")]


def normalized_notebook(path: Path) -> list[dict[str, Any]]:
    """A notebook's cells without metadata (papermill's timings live there)."""
    nb = nbformat.read(path, as_version=4)
    return [
        {
            "id": c.get("id"),
            "type": c.cell_type,
            "source": c.source,
            "count": c.get("execution_count"),
            "outputs": c.get("outputs"),
        }
        for c in nb.cells
    ]


# ------------------------------------------------------------------ broken clients


@pytest.mark.slow
def test_bad_input_through_report_names_its_cause(corpus: CorpusRun) -> None:
    """Each broken client fails alone; the summary names the file, column and rows
    (or the params key) as ``kpis`` does, without a traceback."""
    assert corpus.returncode == 1, corpus.stderr
    assert "Traceback" not in corpus.stderr and corpus.stdout == ""
    problems = problem_lines(corpus.stderr)
    for case, params_file in corpus.broken.items():
        mine = [p for p in problems if str(params_file.parent) in p]
        assert mine, (case, corpus.stderr)
        for fragment in CASES[case][1]:
            assert any(fragment in p for p in mine), (case, fragment, mine)


@pytest.mark.slow
def test_a_duplicate_slug_fails_that_client_only(corpus: CorpusRun) -> None:
    problems = problem_lines(corpus.stderr)
    slug = _case_slug(DATA_CASES[0])
    assert any(
        p.startswith(f"{corpus.duplicate}: the slug '{slug}' is already used by") for p in problems
    ), problems
    assert (corpus.out / slug / "status.json").exists()  # the first one still ran


@pytest.mark.slow
def test_data_errors_are_named_once_with_file_column_and_rows(
    corpus: CorpusRun,
) -> None:
    """A client whose data does not load: its KPI step fails with one line naming the
    file, column and rows, and no notebook runs; its folder says so."""
    params_file = corpus.broken["unparsable date"]
    slug = _case_slug("unparsable date")
    mine = [
        p
        for p in problem_lines(corpus.stderr)
        if str(params_file.parent) in p and not p.startswith(str(corpus.duplicate))
    ]
    assert len(mine) == 1, mine
    assert mine[0].startswith("kpis: InputError: ")
    assert "orders.csv: column 'order_date': row 2: cannot parse '2024-13-45'" in mine[0]
    status = json.loads((corpus.out / slug / "status.json").read_text(encoding="utf-8"))
    assert status["ok"] is False and not any(status["notebooks"].values())
    assert status["problems"] == mine
    assert sorted(p.name for p in (corpus.out / slug).iterdir()) == ["index.html", "status.json"]
    index = (corpus.out / slug / "index.html").read_text(encoding="utf-8")
    assert "column &#x27;order_date&#x27;: row 2" in index
    page = (corpus.out / "index.html").read_text(encoding="utf-8")
    assert f'<tr data-client="{slug}">' in page and "(incomplete)" in page
    assert_nothing_looks_complete_but_is_not(corpus.out)


@pytest.mark.slow
def test_good_clients_are_identical_to_a_run_without_the_broken(
    pair: tuple[Built, Run],
) -> None:
    built, alone = pair
    assert built.returncode == 1 and "FAILED broken:" in built.stderr
    assert alone.returncode == 0, alone.stderr
    assert "FAILED" not in alone.stderr
    for slug in GOOD_CLIENTS:
        a, b = built.out / slug, alone.out / slug
        status = json.loads((a / "status.json").read_text(encoding="utf-8"))
        assert status["ok"] is True and status["problems"] == []
        names = sorted(p.name for p in a.iterdir())
        expected = {"index.html", "kpis.json", "status.json", "accounts.xlsx"}
        expected |= {f"{n}.html" for n in NOTEBOOKS} | {f"{n}.ipynb" for n in NOTEBOOKS}
        assert set(names) == expected
        assert names == sorted(p.name for p in b.iterdir())
        for name in names:
            if name.endswith(".ipynb"):
                assert normalized_notebook(a / name) == normalized_notebook(b / name), name
            else:
                assert (a / name).read_bytes() == (b / name).read_bytes(), f"{slug}/{name}"
    assert_nothing_looks_complete_but_is_not(built.out)
    assert_nothing_looks_complete_but_is_not(alone.out)


# ------------------------------------------------------------------ killed runs


@pytest.mark.slow
def test_killed_run_leaves_nothing_that_looks_complete_but_is_not(kills: KillSequence) -> None:
    left = kills.killed.left
    assert not (left / "index.html").exists(), "a portfolio page of an unfinished run"
    # client one was published whole before the kill; client two never was
    assert (left / "client-one" / "status.json").exists()
    assert not (left / "client-two").exists()
    assert (left / ".client-two.partial").is_dir()
    assert_nothing_looks_complete_but_is_not(left)


@pytest.mark.slow
def test_killed_run_stops_its_workers_and_kernels(kills: KillSequence) -> None:
    assert kills.killed.survivors == [], "processes of the killed run kept running"
    assert kills.killed_again.survivors == []


@pytest.mark.slow
def test_rerun_after_a_kill_finishes_the_job(kills: KillSequence) -> None:
    out = kills.rerun.out
    assert kills.rerun.returncode == 1, kills.rerun.stderr  # client one's failing cell
    assert "ok client-two:" in kills.rerun.stderr
    hidden = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert hidden == [".workers.log"], "leftovers of the killed run were not cleared"
    assert (out / "index.html").exists()
    assert_nothing_looks_complete_but_is_not(out)
    for slug in ("client-one", "client-two"):
        assert not [p for p in (out / slug).iterdir() if p.name.startswith(".")]
    status = json.loads((out / "client-two" / "status.json").read_text(encoding="utf-8"))
    assert status["ok"] is True


@pytest.mark.slow
def test_killed_rerun_keeps_the_previous_complete_report(kills: KillSequence) -> None:
    """Killed before it published anything: the client folders are the previous
    whole run, byte for byte; only the portfolio page is gone until a run finishes."""
    left = kills.killed_again.left
    assert not (left / "index.html").exists()
    after = tree_hashes(left)
    for slug in ("client-one", "client-two"):
        mine = {k: v for k, v in after.items() if k.startswith(f"{slug}/")}
        assert mine and mine == {k: v for k, v in kills.before.items() if k.startswith(f"{slug}/")}
    assert any(left.glob(".client-one.partial/*"))
    assert_nothing_looks_complete_but_is_not(left)


# ------------------------------------------------------------------ a failing cell


@pytest.mark.slow
def test_failing_cell_is_named_and_its_partial_notebook_kept(kills: KillSequence) -> None:
    run = kills.rerun
    assert "FAILED client-one:" in run.stderr and "Traceback" not in run.stderr
    assert re.search(
        r"retention\.ipynb cell In \[\d+\] \(`ratio = len\(a\.data\.orders\) / divisor  "
        r"# the failing cell`\): ZeroDivisionError: division by zero",
        run.stderr,
    ), run.stderr
    folder = run.out / "client-one"
    cells = nbformat.read(folder / "retention.ipynb", as_version=4).cells
    by_source = {c.source: c for c in cells if c.cell_type == "code"}
    assert by_source[FAILING[0]].execution_count is not None
    failed = by_source[FAILING[1]]
    assert [o.ename for o in failed.outputs if o.output_type == "error"] == ["ZeroDivisionError"]
    assert by_source[FAILING[2]].execution_count is None
    assert "ZeroDivisionError" in (folder / "retention.html").read_text(encoding="utf-8")
    status = json.loads((folder / "status.json").read_text(encoding="utf-8"))
    assert status["notebooks"] == {n: n != "retention" for n in NOTEBOOKS}
    assert status["ok"] is False and len(status["problems"]) == 1
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert 'Retention</a> <span class="failed">(failed)</span>' in index
    assert "ZeroDivisionError" in index


@pytest.mark.slow
def test_portfolio_keeps_an_earlier_failure_marked(kills: KillSequence) -> None:
    """A later run for client two alone lists client one from its status.json: still
    incomplete, not taken for complete because its kpis.json exists."""
    later = kills.later
    assert later.returncode == 0, later.stderr
    page = (later.out / "index.html").read_text(encoding="utf-8")
    rows = dict(re.findall(r'<tr data-client="([^"]+)">(.*?)</tr>', page, flags=re.S))
    assert set(rows) == {"client-one", "client-two"}
    assert "(incomplete)" in rows["client-one"]
    assert "(incomplete)" not in rows["client-two"]
    # the killed run's staging folder of client one is hidden and not on the page
    assert_nothing_looks_complete_but_is_not(later.out)
