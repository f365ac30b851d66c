"""``b2b-analysis report`` runs for the system tests: run, kill, compare.

* :func:`run_report` runs ``report`` in a subprocess to the end; :func:`kill_report_when`
  SIGKILLs one at a chosen point and records which of its processes survived.
* :func:`build_demo_reports` makes the demo run shared by the report, browser,
  faults and reproducibility tests (the session fixture ``built`` of
  ``tests/system/conftest.py``); :func:`run_without_broken` and
  :func:`run_kill_sequence` make the other shared runs (fixtures ``pair`` and ``kills``).
* :func:`lite_notebooks` and :func:`tiny_client` keep runs that do not need the
  charts quick.
"""

from __future__ import annotations

import contextlib
import copy
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

from b2b_analysis.report import NOTEBOOKS
from tests.support.bad_input import GOOD
from tests.support.clientkit import ORDER_HEADER, write_client

CLI = [sys.executable, "-m", "b2b_analysis.cli"]
#: The entry point as the console script calls it (the demo run uses this one).
CLI_MAIN = [sys.executable, "-c", "from b2b_analysis.cli import main; main()"]
#: Demo clients reported (nordic has no visits or surveys: its notebooks show sentences).
CLIENTS = ("acme", "iberia", "nordic")
#: Good clients of the session's report run that are run again without the broken one.
GOOD_CLIENTS = ("acme", "nordic")
TIMEOUT = 600
#: papermill's record of a run: the documented run-dependent part of a notebook.
RUN_RECORD = ("start_time", "end_time", "duration", "output_path")


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


@dataclass
class Built:
    out: Path
    returncode: int
    stderr: str
    clients: tuple[str, ...]


def build_demo_reports(base: Path) -> Built:
    """Demo data (3,000 orders each) for :data:`CLIENTS` plus ``broken`` (a window
    with no orders: its KPI step fails and none of its notebooks runs) under ``base``,
    then one ``report`` run over all four with two worker processes."""
    from b2b_analysis import demo as gen

    params = base / "params"
    files = []
    for slug in CLIENTS:
        gen.generate(params / "data" / slug, profile=slug, orders=3_000, seed=1)
        path = params / f"{slug}.yaml"
        path.write_text(gen.params_yaml(slug, f"data/{slug}"), encoding="utf-8")
        files.append(path)
    broken = gen.params_yaml("acme", "data/acme").replace("slug: acme", "slug: broken")
    broken = re.sub(r"^  start: \S+", "  start: 2040-01-01", broken, flags=re.M)
    broken = re.sub(r"^  end: \S+", "  end: 2040-12-31", broken, flags=re.M)
    (params / "broken.yaml").write_text(broken, encoding="utf-8")
    files.append(params / "broken.yaml")
    out = base / "out"
    proc = subprocess.run(
        [*CLI_MAIN, "report", *map(str, files), "--jobs", "2", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=base,
    )
    return Built(out, proc.returncode, proc.stderr, CLIENTS)


@dataclass
class KillSequence:
    """Clients one (its retention notebook fails in a later cell) and two."""

    killed: Killed  # 1. both, killed once client one was published
    rerun: Run  # 2. both again into the same folder, to the end
    before: dict[str, str]  # hashes of a copy of that finished folder
    killed_again: Killed  # 3. both into the copy, killed before anything was published
    later: Run  # 4. client two alone into the copy, to the end


def run_without_broken(built: Built, params: Path) -> Run:
    """``report --all`` over :data:`GOOD_CLIENTS` of the demo run ``built`` alone, from
    ``params`` (symlinks to the same params files, so the very same inputs)."""
    for slug in GOOD_CLIENTS:
        (params / f"{slug}.yaml").symlink_to(built.out.parent / "params" / f"{slug}.yaml")
    return run_report("--all", "--params-dir", params, "--out", params / "out")


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


SLOW_TWO = ["import time; time.sleep(10 if a.data.params.client_slug == 'client-two' else 0)"]


def run_kill_sequence(base: Path) -> KillSequence:
    """Clients one and two (:func:`tiny_client`) under ``base``, with the lite notebooks
    whose retention notebook fails for client one (:data:`FAILING`), through the four
    steps of :class:`KillSequence`."""
    # client two's overview waits 10 s so that client two cannot be published before the
    # kill point (with warm kernels both clients could finish within one poll interval)
    notebooks = lite_notebooks(base / "notebooks", {"retention": FAILING, "overview": SLOW_TWO})
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
    return KillSequence(killed, rerun, before, killed_again, later)


def without_run_record(path: Path) -> dict[str, Any]:
    """The notebook as JSON without papermill's times, durations and output path."""
    nb = copy.deepcopy(json.loads(path.read_text(encoding="utf-8")))
    for key in RUN_RECORD:
        nb["metadata"]["papermill"].pop(key)
    for cell in nb["cells"]:
        for key in RUN_RECORD:
            cell["metadata"].get("papermill", {}).pop(key, None)
        cell["metadata"].pop("execution", None)  # the kernel's time stamps
    return nb
