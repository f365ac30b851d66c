"""A ``report`` run that behaves: one line for a client whose data cannot be read,
plain progress lines without a terminal, a prompt and clean stop on SIGINT or SIGTERM,
and the rows outside the window said in every report.

Real processes throughout: the demo clients are made by ``b2b-analysis generate``
(2,000 orders each), and ``b2b-analysis report`` runs in a subprocess with its worker
processes and Jupyter kernels; its stderr is read line by line as it is written.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import html
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from b2b_analysis.report import NOTEBOOKS
from tests.support.reportkit import CLI, alive, descendants, lite_notebooks, run_report

CLIENTS = ("acme", "iberia", "nordic")
#: What ``broken``'s one problem line says: its orders have an impossible date in row 3.
BROKEN_CAUSE = "column 'order_date': row 3: cannot parse '2024-13-45'"


@dataclass
class Clients:
    """Three generated demo clients and ``broken`` (acme's data with a bad date)."""

    params: dict[str, Path]
    lite: Path  # the notebooks cut down to their first analysis cell


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Clients:
    base = tmp_path_factory.mktemp("clients")
    params = {}
    for slug in CLIENTS:
        params[slug] = base / f"{slug}.yaml"
        subprocess.run(
            [*CLI, "generate", base / "data" / slug, "--profile", slug, "--orders", "2000",
             "--params", params[slug]],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
    orders = (base / "data" / "acme" / "orders.csv").read_text(encoding="utf-8").splitlines()
    date_at = orders[0].split(",").index("order_date")
    row = orders[3].split(",")
    row[date_at] = "2024-13-45"
    orders[3] = ",".join(row)
    (base / "data" / "broken").mkdir()
    (base / "data" / "broken" / "orders.csv").write_text("\n".join(orders) + "\n", "utf-8")
    text = params["acme"].read_text(encoding="utf-8").replace("slug: acme", "slug: broken")
    text = text.replace("data/acme/orders.csv", "data/broken/orders.csv")
    params["broken"] = base / "broken.yaml"
    params["broken"].write_text(text, encoding="utf-8")
    return Clients(params, lite_notebooks(base / "lite"))


# ------------------------------------------------------------------ a watched run


@dataclass
class Watched:
    """A ``report`` run whose stderr lines are stamped as they arrive."""

    proc: subprocess.Popen[str]
    out: Path
    lines: list[tuple[float, str]] = field(default_factory=list)
    tree: dict[int, str] = field(default_factory=dict)  # the run's processes: command lines

    def read(self) -> None:
        assert self.proc.stderr is not None
        with self.proc.stderr:
            for line in self.proc.stderr:
                self.lines.append((time.monotonic(), line.rstrip("\n")))

    def text(self) -> list[str]:
        return [line for _, line in self.lines]


def start(out: Path, *args: str | Path) -> tuple[Watched, threading.Thread]:
    proc = subprocess.Popen(
        [*CLI, "report", *map(str, args), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    run = Watched(proc, out)
    reader = threading.Thread(target=run.read, daemon=True)
    reader.start()
    return run, reader


def wait_until(run: Watched, ready: Callable[[Watched], bool]) -> None:
    """Follow the run's processes until ``ready(run)``; fail if it ends first."""
    deadline = time.monotonic() + 600
    while not ready(run):
        if run.proc.poll() is not None:
            pytest.fail(f"the run ended before the signal: {run.text()}")
        assert time.monotonic() < deadline, "the signal point was never reached"
        _follow(run)
        time.sleep(0.02)
    _follow(run)


def _gone_within(run: Watched, seconds: float) -> list[str]:
    """The run's processes still alive ``seconds`` after now (command lines)."""
    deadline = time.monotonic() + seconds
    while any(alive(p) for p in run.tree) and time.monotonic() < deadline:
        time.sleep(0.01)
    return [run.tree[p] for p in run.tree if alive(p)]


def _follow(run: Watched) -> None:
    for pid in descendants(run.proc.pid) - set(run.tree):
        run.tree[pid] = _cmdline(pid)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
    except OSError:
        return f"{pid} (gone)"


def kill_everything(run: Watched) -> None:
    """After a failed check: no process of the run may leak into the next tests."""
    for pid in [run.proc.pid, *run.tree]:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# ------------------------------------------------------------------ progress, broken client

PROGRESS = re.compile(r"^(?:(?P<slug>[a-z0-9_-]+): (?P<step>\S+) done|FAILED (?P<failed>\S+): .*) "
                      r"\((?P<done>\d+)/(?P<total>\d+)\)$")  # fmt: skip


@pytest.fixture(scope="module")
def plain(clients: Clients, tmp_path_factory: pytest.TempPathFactory) -> Watched:
    """acme and broken (lite notebooks), stderr a pipe (no terminal), read as it comes."""
    out = tmp_path_factory.mktemp("plain") / "out"
    run, reader = start(
        out, clients.params["acme"], clients.params["broken"], "--notebooks", clients.lite
    )
    run.proc.wait(600)
    reader.join(30)
    run.lines.append((time.monotonic(), f"<exit {run.proc.returncode}>"))
    return run


@pytest.mark.slow
def test_without_a_terminal_progress_is_one_plain_line_per_step(plain: Watched) -> None:
    lines = plain.text()
    assert lines[-1] == "<exit 1>", lines
    progress = [m for m in map(PROGRESS.match, lines) if m]
    # broken's KPI step fails: its four notebooks leave the total (2 x 5 - 4 steps)
    assert [int(m["done"]) for m in progress] == [1, 2, 3, 4, 5, 6]
    assert [int(m["total"]) for m in progress][-1] == 6
    steps = sorted(m["step"] for m in progress if m["slug"] == "acme")
    assert steps == sorted(["kpis", *(f"{n}.ipynb" for n in NOTEBOOKS)])
    assert [m["failed"] for m in progress if m["failed"]] == ["broken"]
    assert not any("\x1b" in line or "\r" in line for line in lines), "terminal codes"
    # the lines are written as steps finish, not at the end: acme's KPI step is done
    # before its notebooks run (with kernels started ahead of time, a notebook takes
    # about a second on a quiet machine, so the run's last 3 s can hold every step)
    stamps = [t for t, line in plain.lines if PROGRESS.match(line)]
    end = plain.lines[-1][0]
    assert end - stamps[0] > 1.0, "progress lines held back until the end"
    assert len({round(t, 1) for t in stamps}) >= 4, "progress lines arrived in one batch"


@pytest.mark.slow
def test_a_client_whose_data_cannot_be_read_fails_once_and_runs_no_notebook(
    plain: Watched, clients: Clients
) -> None:
    lines = plain.text()
    mine = [line for line in lines if BROKEN_CAUSE in line]
    # once as it happens, once under FAILED in the summary; nowhere else
    assert len(mine) == 2, lines
    assert mine[0].startswith("FAILED broken: kpis: InputError: ") and mine[0].endswith("/6)")
    assert mine[0].find("broken/orders.csv") > 0
    at = lines.index("FAILED broken: " + plain.out.joinpath("broken", "index.html").as_posix())
    assert lines[at + 1] == "    " + mine[0].removeprefix("FAILED broken: ").rsplit(" (", 1)[0]
    assert "Traceback" not in "\n".join(lines) and "ok acme:" in "\n".join(lines)
    folder = plain.out / "broken"
    assert sorted(p.name for p in folder.iterdir()) == ["index.html", "status.json"]
    status = json.loads((folder / "status.json").read_text(encoding="utf-8"))
    assert status["ok"] is False and status["problems"] == [lines[at + 1].strip()]
    assert status["notebooks"] == dict.fromkeys(NOTEBOOKS, False)
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert "The KPI step failed (the line below says why), so no notebook was run." in page
    assert html.escape(BROKEN_CAUSE) in page
    assert page.count("(not run)") == len(NOTEBOOKS) and ".ipynb" not in page


# ------------------------------------------------------------------ interruption


def _finished(run: Watched) -> set[str]:
    """The clients whose every notebook the run reported done."""
    text = "\n".join(run.text())
    return {s for s in CLIENTS if all(f"{s}: {n}.ipynb done" in text for n in NOTEBOOKS)}


def _published(run: Watched) -> bool:
    """A client is published (its last step reported, its staging folder gone) and a
    notebook of another client is being written."""
    out = run.out
    done = {s for s in _finished(run) if not (out / f".{s}.partial").exists()}
    running = [s for s in CLIENTS if s not in done and any(out.glob(f".{s}.partial/.*.tmp.ipynb"))]
    return bool(done and running)


def _early(run: Watched) -> bool:
    """Nothing is published; a client's KPIs are done and a notebook of it is running."""
    return not _finished(run) and any(run.out.glob(".*.partial/.*.tmp.ipynb"))


CASES = {
    "SIGINT after a client, over an earlier run": (signal.SIGINT, _published, True),
    "SIGTERM after a client": (signal.SIGTERM, _published, False),
    "SIGTERM before any client": (signal.SIGTERM, _early, False),
    "SIGINT before any client, over an earlier run": (signal.SIGINT, _early, True),
}


def _hashes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_a_signal_stops_the_run_within_two_seconds_and_leaves_it_whole(
    case: str, clients: Clients, tmp_path: Path
) -> None:
    sig, ready, earlier = CASES[case]
    out = tmp_path / "out"
    files = [clients.params[s] for s in CLIENTS]
    before: dict[str, dict[str, bytes]] = {}
    if earlier:  # a finished run (lite notebooks) of the same clients in the same folder
        first = run_report(*files, "--notebooks", clients.lite, "--out", out)
        assert first.returncode == 0, first.stderr
        before = {s: _hashes(out / s) for s in CLIENTS}
    run, reader = start(out, *files, "--jobs", "2")
    try:
        wait_until(run, ready)
        sent = time.monotonic()
        run.proc.send_signal(sig)
        code = run.proc.wait(30)
        took = time.monotonic() - sent
        survivors = [p for p in run.tree if alive(p)]  # at the moment the run has ended
        lingering = _gone_within(run, 1.0)
    finally:
        kill_everything(run)
    reader.join(30)
    lines = run.text()
    assert took < 2.0, f"{took:.2f} s from the signal to the exit"
    assert code == 128 + sig, lines
    # multiprocessing's resource tracker ends when the run's end closes its pipe; the
    # workers and kernels must be gone before the run ends
    outlived = [run.tree[p] for p in survivors if "resource_tracker" not in run.tree[p]]
    assert outlived == [], "workers or kernels outlived the run"
    assert lingering == [], "processes of the run still there 1 s after it ended"
    assert run.tree, "the run's processes were never seen"
    # what is on disk: whole published clients, no staging folder, no temp file, and
    # no portfolio page (the run did not finish)
    published = sorted(p.name for p in out.iterdir() if p.is_dir() and (p / "status.json").exists())
    hidden = sorted(p.name for p in out.rglob(".*"))
    assert hidden == [".workers.log"], hidden
    assert not list(out.rglob("*.tmp*")) and not list(out.rglob("*.partial"))
    assert not (out / "index.html").exists(), "a portfolio page of an unfinished run"
    assert not any(line.endswith("(15/15)") for line in lines), "finished before the signal"
    done = _finished(run)
    for slug in CLIENTS:
        folder = out / slug
        if slug in done:  # finished in this run: published whole, with its own status
            status = json.loads((folder / "status.json").read_text(encoding="utf-8"))
            assert status["ok"] is True and all(status["notebooks"].values())
            assert {f"{n}.html" for n in NOTEBOOKS} <= {p.name for p in folder.iterdir()}
        elif earlier:  # not finished: the earlier run's folder, byte for byte
            assert _hashes(folder) == before[slug], slug
        else:
            assert not folder.exists(), slug
    if ready is _published:
        assert 1 <= len(done) < len(CLIENTS)
    else:
        assert done == set()
    not_done = [s for s in CLIENTS if s not in done]
    message = f"interrupted: {len(done)} of 3 clients finished and published"
    message += f" ({', '.join(sorted(done))})" if done else ""
    message += f"; {', '.join(not_done)} not published"
    assert lines[-1] == message, lines
    assert "Traceback" not in "\n".join(lines)
    assert set(published) == (set(CLIENTS) if earlier else done)


# ------------------------------------------------------------------ rows outside the window


@pytest.fixture(scope="module")
def full(clients: Clients, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """acme with the real notebooks, to the end."""
    run = run_report(clients.params["acme"], "--out", tmp_path_factory.mktemp("full") / "out")
    assert run.returncode == 0, run.stderr
    return run.out


def _orders_outside(clients: Clients) -> tuple[int, dt.date, dt.date]:
    """From the raw CSV: acme's orders outside its window (count, first, last date)."""
    import yaml

    window = yaml.safe_load(clients.params["acme"].read_text(encoding="utf-8"))["window"]
    lo, hi = (dt.date.fromisoformat(str(window[k])) for k in ("start", "end"))
    path = clients.params["acme"].parent / "data" / "acme" / "orders.csv"
    with path.open(encoding="utf-8") as handle:
        days = [dt.date.fromisoformat(row["order_date"][:10]) for row in csv.DictReader(handle)]
    outside = [d for d in days if not lo <= d <= hi]
    return len(outside), min(outside), max(outside)


@pytest.mark.slow
def test_rows_outside_the_window_are_said_in_every_header_and_the_client_page(
    full: Path, clients: Clients
) -> None:
    notes = json.loads((full / "acme" / "kpis.json").read_text(encoding="utf-8"))["notes"]
    tables = ["orders", "visits", "surveys", "investments"]
    assert all(t in notes for t in tables), notes
    count, first, last = _orders_outside(clients)
    assert notes["orders"].startswith(f"{count:,} orders (gross value ")
    assert f"from {first} to {last}" in notes["orders"]
    page = (full / "acme" / "index.html").read_text(encoding="utf-8")
    window = page.index('<p class="meta">')
    for t in tables:  # one paragraph each, under the window line
        assert page.index(f'<p class="meta window-note">{html.escape(notes[t])}</p>') > window
    for name in NOTEBOOKS:
        nb = nbformat.read(full / "acme" / f"{name}.ipynb", as_version=4)
        header = next(
            o["data"]["text/markdown"]
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.get("outputs", [])
            if "text/markdown" in o.get("data", {})
        )
        paragraphs = header.split("\n\n")
        assert paragraphs[0].startswith("**Acme Industrial Supply** · ")
        assert [p.replace("\\", "") for p in paragraphs[1:]] == [notes[t] for t in tables]
        text = re.sub(r"<[^>]+>", "", (full / "acme" / f"{name}.html").read_text("utf-8"))
        for t in tables:
            assert html.escape(notes[t], quote=False) in text, (name, t)
