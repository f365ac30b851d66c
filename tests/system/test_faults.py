"""Faults during a ``report`` run: broken clients, a killed run, a failing cell.

Real processes throughout: ``b2b-analysis report`` runs in a subprocess with its
worker processes and Jupyter kernels; the killed runs are stopped with SIGKILL.

* The session's report run of ``test_report.py`` (three demo clients and one
  broken client) is compared with :func:`without_broken`, a ``report --all``
  over two of its good clients only: their outputs must be the same, byte for byte.
* :func:`corpus_run` puts bad-input cases of ``test_bad_input.py`` through
  ``report``: the summary names the file, column and rows (or key) of each.
* :func:`kill_sequence` SIGKILLs runs mid-way and re-runs them.

The last two use :func:`lite_notebooks` (the notebooks cut down to their first
analysis cell: what fails or is killed does not depend on the charts) to keep the
run time modest. :func:`without_broken` is shared with ``test_reproducible.py``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml
from clientkit import ORDER_HEADER, run_cli, write_client
from test_bad_input import CASES, GOOD
from test_report import Built, built_reports

from b2b_analysis.report import NOTEBOOKS

CLI = [sys.executable, "-m", "b2b_analysis.cli"]
#: Good clients of the session's report run that are run again without the broken one.
GOOD_CLIENTS = ("acme", "nordic")
#: Bad-input cases run through ``report`` (their builders and expected fragments come
#: from test_bad_input.CASES). A params error costs nothing; a data error runs the
#: four notebooks up to their first analysis cell, so one stands for all.
PARAMS_CASES = (
    "malformed yaml",
    "unknown params key",
    "params not a mapping",
    "missing required key",
    "invalid value",
    "unknown time zone",
)
DATA_CASES = ("unparsable date",)
TIMEOUT = 600


@dataclass
class Run:
    """One finished ``report`` run."""

    out: Path
    returncode: int
    stdout: str
    stderr: str


def run_report(*args: str | Path, env: dict[str, str] | None = None) -> Run:
    """``b2b-analysis report ARGS`` in a subprocess; ``--out`` must be among ARGS."""
    argv = [str(a) for a in args]
    proc = subprocess.run(
        [*CLI, "report", *argv],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=TIMEOUT,
        check=False,
    )
    out = Path(argv[argv.index("--out") + 1])
    return Run(out, proc.returncode, proc.stdout, proc.stderr)


# ------------------------------------------------------------------ processes


def _children() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        found.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return found


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (workers, kernels, multiprocessing's tracker)."""
    children, found, todo = _children(), set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


@dataclass
class Killed:
    """A run SIGKILLed once ``ready(out)`` held: what it left, and its processes."""

    left: Path  # a copy of the output folder right after the kill
    survivors: list[int]  # processes of the run still alive 30 s after the kill


def kill_report_when(
    ready: Callable[[Path], bool], out: Path, *args: str | Path, copy_to: Path
) -> Killed:
    """Start ``report ARGS --out OUT``, SIGKILL its main process when ``ready(out)``.

    The run's other processes are not signalled: they must notice by themselves.
    Any still alive after 30 s is recorded, then killed (by pid) so none leaks.
    """
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs Linux /proc to follow the run's processes")
    log = copy_to.parent / f"{copy_to.name}.log"
    with log.open("w") as handle:
        proc = subprocess.Popen(
            [*CLI, "report", *map(str, args), "--out", str(out)],
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    tree: set[int] = set()
    try:
        deadline = time.monotonic() + TIMEOUT
        while not ready(out):
            if proc.poll() is not None:
                pytest.fail(f"the run ended before the kill point: {log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail("the kill point was never reached")
            tree |= descendants(proc.pid)
            time.sleep(0.05)
        tree |= descendants(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        deadline = time.monotonic() + 30
        while any(alive(p) for p in tree) and time.monotonic() < deadline:
            time.sleep(0.2)
        survivors = [p for p in tree if alive(p)]
        shutil.copytree(out, copy_to, symlinks=True)
        return Killed(copy_to, survivors)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        for pid in tree:
            if alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


# ------------------------------------------------------------------ the shared runs


def lite_notebooks(folder: Path, extra: dict[str, list[str]] | None = None) -> Path:
    """The four report notebooks cut down to their first analysis cell (fast), with
    ``extra`` code cells appended to some; for runs that do not need the charts."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in NOTEBOOKS:
        params = nbformat.v4.new_code_cell(
            "params_path = None\nstart = None\nend = None\nperiod = None"
        )
        params.metadata["tags"] = ["parameters"]
        cells = [
            nbformat.v4.new_markdown_cell(f"# {name}"),
            params,
            nbformat.v4.new_code_cell("from b2b_analysis.analysis import open_analysis"),
            nbformat.v4.new_code_cell(
                "a = open_analysis(params_path, start=start, end=end, period=period)\na.header()"
            ),
        ]
        cells += [nbformat.v4.new_code_cell(src) for src in (extra or {}).get(name, [])]
        nb = nbformat.v4.new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def tiny_client(folder: Path, client: str, **params: Any) -> Path:
    """Three orders (test_bad_input.GOOD) and a params file naming them."""
    return write_client(folder, {"orders": (ORDER_HEADER, GOOD)}, client=client, **params)


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


@dataclass
class KillSequence:
    """Clients one (its retention notebook fails in a later cell) and two."""

    killed: Killed  # 1. both, killed once client one was published
    rerun: Run  # 2. both again into the same folder, to the end
    before: dict[str, str]  # hashes of a copy of that finished folder
    killed_again: Killed  # 3. both into the copy, killed before anything was published
    later: Run  # 4. client two alone into the copy, to the end


_RUNS: dict[str, Any] = {}


def without_broken(factory: pytest.TempPathFactory) -> tuple[Built, Run]:
    """The session's report run, and ``report --all`` over :data:`GOOD_CLIENTS` of it
    alone (symlinks to the same params files, so the very same inputs)."""
    built = built_reports(factory)
    if "without" not in _RUNS:
        params = factory.mktemp("without-broken")
        for slug in GOOD_CLIENTS:
            (params / f"{slug}.yaml").symlink_to(built.out.parent / "params" / f"{slug}.yaml")
        _RUNS["without"] = run_report("--all", "--params-dir", params, "--out", params / "out")
    run: Run = _RUNS["without"]
    return built, run


def corpus_run(factory: pytest.TempPathFactory) -> CorpusRun:
    if "corpus" not in _RUNS:
        base = factory.mktemp("corpus")
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
        _RUNS["corpus"] = CorpusRun(**vars(run), broken=broken, duplicate=duplicate)
    result: CorpusRun = _RUNS["corpus"]
    return result


def tree_hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


FAILING = [
    "divisor = 0 if a.data.params.client_slug == 'client-one' else 1",
    "ratio = len(a.data.orders) / divisor  # the failing cell",
    "after = 'not run for client one'",
]


def kill_sequence(factory: pytest.TempPathFactory) -> KillSequence:
    if "kill" not in _RUNS:
        base = factory.mktemp("kill")
        notebooks = lite_notebooks(base / "notebooks", {"retention": FAILING})
        one = tiny_client(base / "one", "Client One")
        two = tiny_client(base / "two", "Client Two")
        first = base / "first"
        killed = kill_report_when(
            lambda o: (o / "client-one" / "status.json").exists(),
            first, one, two, "--notebooks", notebooks,
            copy_to=base / "killed",
        )  # fmt: skip
        rerun = run_report(one, two, "--notebooks", notebooks, "--out", first)
        second = base / "second"
        shutil.copytree(first, second)
        before = tree_hashes(second)
        killed_again = kill_report_when(
            lambda o: any(o.glob(".client-one.partial/*.ipynb")),
            second, one, two, "--notebooks", notebooks,
            copy_to=base / "killed-again",
        )  # fmt: skip
        later = run_report(two, "--notebooks", notebooks, "--out", second)
        _RUNS["kill"] = KillSequence(killed, rerun, before, killed_again, later)
    result: KillSequence = _RUNS["kill"]
    return result


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Built, Run]:
    return without_broken(tmp_path_factory)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> CorpusRun:
    return corpus_run(tmp_path_factory)


@pytest.fixture(scope="module")
def kills(tmp_path_factory: pytest.TempPathFactory) -> KillSequence:
    return kill_sequence(tmp_path_factory)


# ------------------------------------------------------------------ checks


def visible_files(folder: Path) -> list[Path]:
    """Files whose path has no hidden part (staging folders, temporary files, logs)."""
    return [
        p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]


def assert_complete_file(path: Path) -> None:
    """A visible output is whole: JSON parses, a notebook validates, a page is closed."""
    if path.suffix == ".json":
        json.loads(path.read_text(encoding="utf-8"))
    elif path.suffix == ".ipynb":
        nbformat.validate(nbformat.read(path, as_version=4))
    elif path.suffix == ".html":
        assert path.read_text(encoding="utf-8").rstrip().endswith("</html>"), path
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


def test_optional_table_with_only_a_header_warns_and_its_kpis_are_null(tmp_path: Path) -> None:
    """Usable data (documented in docs/data-contract.md): a warning naming the file,
    and the KPIs needing the table null with their reason, never 0."""
    params = write_client(
        tmp_path,
        {
            "orders": (ORDER_HEADER, GOOD),
            "visits": (("visit_id", "customer_id", "visit_start"), []),
        },
    )
    result = run_cli("kpis", str(params), "-f", "json")
    assert result.returncode == 0, result.stderr
    warning = f"warning: {tmp_path / 'data' / 'visits.csv'}: the visits table has no rows"
    assert warning in result.stderr
    doc = json.loads(result.stdout)
    for key in ("conversion_rate", "returning_visit_share", "visitor_conversion_rate"):
        assert doc["kpis"][key] is None and "no" in doc["notes"][key], key
    assert doc["kpis"]["orders"] == 3


@pytest.mark.slow
def test_a_duplicate_slug_fails_that_client_only(corpus: CorpusRun) -> None:
    problems = problem_lines(corpus.stderr)
    slug = _case_slug(DATA_CASES[0])
    assert any(
        p.startswith(f"{corpus.duplicate}: the slug '{slug}' is already used by") for p in problems
    ), problems
    assert (corpus.out / slug / "status.json").exists()  # the first one still ran


@pytest.mark.slow
def test_data_errors_are_named_in_every_step_with_file_column_and_rows(
    corpus: CorpusRun,
) -> None:
    """A client whose data does not load: the kpis step and every notebook's first
    analysis cell name the same file, column and rows; its folder says so."""
    params_file = corpus.broken["unparsable date"]
    slug = _case_slug("unparsable date")
    mine = [
        p
        for p in problem_lines(corpus.stderr)
        if str(params_file.parent) in p and not p.startswith(str(corpus.duplicate))
    ]
    assert len(mine) == 1 + len(NOTEBOOKS), mine
    for line in mine:
        assert "orders.csv: column 'order_date': row 2: cannot parse '2024-13-45'" in line
    assert sum(line.startswith("kpis: InputError: ") for line in mine) == 1
    status = json.loads((corpus.out / slug / "status.json").read_text(encoding="utf-8"))
    assert status["ok"] is False and not any(status["notebooks"].values())
    assert not (corpus.out / slug / "kpis.json").exists()
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
        expected = {"index.html", "kpis.json", "status.json"}
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
