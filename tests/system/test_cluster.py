"""``report --scheduler``: the clients run on a real Dask cluster, with the outputs of
a local run.

A real ``dask scheduler`` and two ``dask worker`` processes (``--nworkers 1
--nthreads 1``) of this environment's ``dask`` command run on 127.0.0.1 at random
ports, each worker in a process group of its own, in its own working directory
and with its own temporary folder (where it writes a client before returning it).
The reference is the session's local demo run (fixture ``built``: the three demo
clients and ``broken``, whose KPI step fails, ``--jobs 2``); the cluster runs use
the very same params files, and every output file is compared with it: byte for
byte, except what the reproducibility tests allow (papermill's run record in the
executed notebooks, the portfolio page's time stamp).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from b2b_analysis.report import NOTEBOOKS
from tests.support.reportkit import (
    CLI,
    TIMEOUT,
    Built,
    alive,
    descendants,
    run_report,
    without_run_record,
)

DASK = Path(sys.executable).parent / "dask"
STAMP = re.compile(r"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC")


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    tmp: Path  # its TMPDIR: a client it runs is written under here first
    tree: set[int]  # its processes seen so far (nanny, worker, kernels)


@dataclass
class Cluster:
    address: str
    workers: list[Worker]


def _wait_for(check: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@contextlib.contextmanager
def dask_cluster(base: Path, workers: int = 2) -> Iterator[Cluster]:
    """A ``dask scheduler`` and ``workers`` ``dask worker`` processes on 127.0.0.1;
    every process of theirs (kernels included) is killed on the way out."""
    base.mkdir(parents=True, exist_ok=True)
    info = base / "scheduler.json"
    procs: list[subprocess.Popen[bytes]] = []
    started: list[Worker] = []

    def spawn(args: list[str], name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        folder = base / name
        folder.mkdir()
        with (base / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen(
                [str(DASK), *args], cwd=folder, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, **env}, start_new_session=True,
            )  # fmt: skip
        procs.append(proc)
        return proc

    try:
        spawn(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
               "--scheduler-file", str(info)], "scheduler", {})  # fmt: skip
        _wait_for(info.exists, "the scheduler file")
        address = json.loads(info.read_text())["address"]
        for i in range(workers):
            tmp = base / f"tmp{i}"
            tmp.mkdir()
            proc = spawn(["worker", address, "--nworkers", "1", "--nthreads", "1",
                          "--host", "127.0.0.1", "--no-dashboard"],
                         f"worker{i}", {"TMPDIR": str(tmp)})  # fmt: skip
            started.append(Worker(proc, tmp, set()))
        from distributed import Client

        with Client(address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=120)
        yield Cluster(address, started)
    finally:
        tree = {p.pid for p in procs} | {pid for w in started for pid in w.tree}
        for proc in procs:
            tree |= descendants(proc.pid)
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for proc in procs:
            proc.wait(30)


def _params(built: Built, slugs: tuple[str, ...]) -> list[Path]:
    return [built.out.parent / "params" / f"{slug}.yaml" for slug in slugs]


def assert_same_outputs(local: Path, cluster: Path, slugs: tuple[str, ...]) -> None:
    """Every output of ``slugs`` (and the portfolio page) is the local run's: the same
    files, byte for byte but for papermill's run record and the page's time stamp."""
    for slug in slugs:
        names = sorted(p.name for p in (local / slug).iterdir())
        assert names == sorted(p.name for p in (cluster / slug).iterdir()), slug
        for name in names:
            a, b = local / slug / name, cluster / slug / name
            if name.endswith(".ipynb"):
                assert without_run_record(a) == without_run_record(b), f"{slug}/{name}"
            else:
                assert a.read_bytes() == b.read_bytes(), f"{slug}/{name}"
    assert not [p.name for p in cluster.iterdir() if p.name.startswith(".")]  # no staging


def _portfolio(out: Path) -> str:
    page = (out / "index.html").read_text(encoding="utf-8")
    assert len(STAMP.findall(page)) == 1
    return STAMP.sub("generated <time>", page)


ALL = ("acme", "iberia", "nordic", "broken")


def test_a_cluster_run_writes_what_a_local_run_writes(built: Built, tmp_path: Path) -> None:
    assert built.returncode == 1, built.stderr  # broken fails there too
    with dask_cluster(tmp_path / "cluster") as cluster:
        run = run_report(*_params(built, ALL), "--scheduler", cluster.address,
                         "--out", tmp_path / "out")  # fmt: skip
    assert run.returncode == 1, run.stderr
    assert_same_outputs(built.out, run.out, ALL)
    assert _portfolio(built.out) == _portfolio(run.out)
    lines = run.stderr.splitlines()
    progress = [ln for ln in lines if re.search(r" \(\d+/\d+\)$", ln)]
    steps = 3 * (1 + len(NOTEBOOKS)) + 1  # broken's KPI step fails: no notebook
    assert len(progress) == steps and progress[-1].endswith(f"({steps}/{steps})"), lines
    assert [ln for ln in progress if ln.startswith("FAILED broken: kpis: ")], lines
    at = lines.index(next(ln for ln in lines if ln.endswith("/broken/index.html")))
    assert lines[at].startswith("FAILED broken: "), lines
    assert lines[at + 1].startswith("    kpis: "), lines  # its one problem, as locally
    assert lines[at + 2].startswith("    ran on worker tcp://127.0.0.1:"), lines


def _running_a_notebook(worker: Worker) -> bool:
    """The worker is inside a client: its KPI step is written, a notebook is running."""
    worker.tree |= descendants(worker.proc.pid)
    return any(worker.tmp.glob("b2b-client-*/kpis.json"))


def test_a_worker_killed_mid_run_costs_no_client(built: Built, tmp_path: Path) -> None:
    slugs = ("acme", "iberia", "nordic")
    with dask_cluster(tmp_path / "cluster") as cluster:
        doomed = cluster.workers[0]
        log = tmp_path / "run.log"
        with log.open("w") as handle:
            proc = subprocess.Popen(
                [*CLI, "report", *map(str, _params(built, slugs)), "--scheduler",
                 cluster.address, "--out", str(tmp_path / "out")],
                stdout=handle, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            _wait_for(lambda: _running_a_notebook(doomed) or proc.poll() is not None,
                      "a client on the first worker", timeout=TIMEOUT)  # fmt: skip
            assert proc.poll() is None, log.read_text()
            os.killpg(doomed.proc.pid, signal.SIGKILL)  # the nanny and its worker
            code = proc.wait(TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
        kernels = [p for p in doomed.tree if alive(p)]
        _wait_for(lambda: not [p for p in kernels if alive(p)], "the kernels to exit", 30)
    text = log.read_text()
    assert code == 0, text
    for slug in slugs:
        assert f"ok {slug}: " in text, text
    assert_same_outputs(built.out, tmp_path / "out", slugs)


def test_an_unreachable_scheduler_is_one_error_line(built: Built, tmp_path: Path) -> None:
    with socket.socket() as sock:  # bound, not listening: connecting is refused
        sock.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{sock.getsockname()[1]}"
        began = time.monotonic()
        run = run_report(*_params(built, ("acme",)), "--scheduler", address,
                         "--out", tmp_path / "out")  # fmt: skip
    assert run.returncode == 2, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: --scheduler {address}: "), lines
    assert "docs/cluster.md" in lines[0]
    assert time.monotonic() - began < 40  # the 10 s connect timeout, plus start-up
    assert not list((tmp_path / "out").iterdir())  # nothing staged, nothing removed


@pytest.mark.parametrize("value", ["local:0", "foo", "local:two", "local:-1"])
def test_a_bad_scheduler_value_is_one_error_line(value: str, tmp_path: Path) -> None:
    """Refused before any params file is read (this one does not even exist)."""
    run = run_report(tmp_path / "acme.yaml", "--scheduler", value, "--out", tmp_path / "o")
    assert run.returncode == 2
    assert run.stderr.splitlines() == [run.stderr.strip()]
    assert run.stderr.startswith(f"error: --scheduler {value}: ")
