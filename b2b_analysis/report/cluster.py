"""Many clients on a Dask cluster: ``report --scheduler ADDRESS|local[:N]``.

Each client is one Dask task (:func:`run_client`): on a worker, in a temporary
folder of its own, it runs the client's KPI step and then its notebooks with the
very functions a local run uses (:func:`~b2b_analysis.report.worker.run_kpis`,
:func:`~b2b_analysis.report.worker.run_notebook`), and returns the files it wrote
with its results (:class:`ClientOutput`). The driver (:func:`run_on_cluster`) keeps
the local run's steps and guarantees: it stages each client, writes the returned
files into the client's staging folder and publishes it whole
(:func:`~b2b_analysis.report.runner.publish_client`), reports progress through the
same :class:`~b2b_analysis.report.schedule.Schedule`, and writes the portfolio page
last; a stop request cancels the futures and removes the unpublished staging
folders (no portfolio page).

Failures:

* a worker that dies while running a client: the scheduler gives the task to
  another worker, at most ``distributed.scheduler.allowed-failures`` times (3 by
  default, a setting of the scheduler); then the client fails with
  ``KilledWorker``, naming the last worker;
* a task that raises (it should not: a failed KPI step or notebook is a result) fails
  its client, and is not retried;
* a worker that cannot read the client's params file or the notebooks fails that
  client with a sentence saying so (the cluster needs a shared filesystem with the
  same paths everywhere, ``docs/cluster.md``).

Nothing secret travels: the task carries the :class:`RunParameters` (the params
file's path and the window); a PostgreSQL connection string is read from the
environment on the worker, as in a local run.

>>> parse_scheduler("local"), parse_scheduler("local:4")
(SchedulerSpec(address=None, local_workers=2), SchedulerSpec(address=None, local_workers=4))
>>> parse_scheduler("tcp://10.0.0.5:8786")
SchedulerSpec(address='tcp://10.0.0.5:8786', local_workers=None)
>>> parse_scheduler("local:0")
Traceback (most recent call last):
...
b2b_analysis.errors.InputError: --scheduler local:0: N must be a whole number ...
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from b2b_analysis.errors import InputError
from b2b_analysis.report.parameters import RunParameters
from b2b_analysis.report.pool import kill_trees
from b2b_analysis.report.results import ClientResult, NotebookResult
from b2b_analysis.report.runner import (
    describe,
    drop_unpublished,
    publish_client,
    settle,
    stage,
)
from b2b_analysis.report.schedule import KPIS_TASK, Schedule, Step, Task
from b2b_analysis.report.worker import run_kpis, run_notebook

__all__ = [
    "CONNECT_TIMEOUT",
    "LOCAL_WORKERS",
    "ClientOutput",
    "SchedulerSpec",
    "connect",
    "parse_scheduler",
    "run_client",
    "run_on_cluster",
]

#: Seconds to wait for the scheduler before giving up (one ``error:`` line, exit 2).
CONNECT_TIMEOUT = 10
#: Worker processes of ``--scheduler local`` without ``:N``.
LOCAL_WORKERS = 2
#: How often the driver looks at its futures and at a stop request (seconds).
POLL = 0.1
#: Where a worker that cannot read a file sends the user.
DOCS = "docs/cluster.md"

#: ``tcp://HOST:PORT`` and the like (``tls://``, ``ws://``, ``ucx://``...).
_ADDRESS = re.compile(r"[a-z][a-z0-9+.-]*://[^\s/]+")


# ------------------------------------------------------------------ the scheduler


@dataclass(frozen=True)
class SchedulerSpec:
    """Where the tasks go: a running scheduler's ``address``, or a ``LocalCluster``
    of ``local_workers`` processes started for the run."""

    address: str | None = None
    local_workers: int | None = None


def parse_scheduler(text: str) -> SchedulerSpec:
    """``local``, ``local:N`` (N >= 1) or a scheduler address (``tcp://HOST:PORT``).

    Raises :class:`InputError` for anything else.
    """
    text = text.strip()
    if text == "local" or text.startswith("local:"):
        count = text.partition(":")[2] if ":" in text else str(LOCAL_WORKERS)
        if not count.isdigit() or int(count) < 1:
            raise InputError(
                f"--scheduler {text}: N must be a whole number of worker processes, "
                "1 or more (e.g. local:2)"
            )
        return SchedulerSpec(local_workers=int(count))
    if not _ADDRESS.fullmatch(text):
        raise InputError(
            f"--scheduler {text}: not a scheduler address; give one like tcp://HOST:8786 "
            "(what `dask scheduler` prints), or local[:N] for N worker processes here"
        )
    return SchedulerSpec(address=text)


@contextlib.contextmanager
def connect(spec: SchedulerSpec, log: Path | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` for ``spec``, closed on the way out (with the
    ``LocalCluster`` it started, if any).

    A scheduler that does not answer within :data:`CONNECT_TIMEOUT` seconds raises
    :class:`InputError`. The workers of a ``LocalCluster`` run one task at a time
    and send their output (and their kernels') to ``log``.
    """
    from distributed import Client, LocalCluster

    if spec.address is None:
        cluster = LocalCluster(
            n_workers=spec.local_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",  # any free port: never "8787 is already in use"
            silence_logs=logging.ERROR,
        )
        client = Client(cluster, set_as_default=False)
        if log is not None:
            client.register_plugin(_LogTo(str(log)), name="b2b-log")
        try:
            yield client
        finally:
            client.close(timeout=5)
            cluster.close(timeout=5)
        return
    try:
        client = Client(spec.address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(
            f"--scheduler {spec.address}: no Dask scheduler answered within "
            f"{CONNECT_TIMEOUT} s ({exc}); start one (`dask scheduler`, see {DOCS}) "
            "or check the address"
        ) from None
    try:
        yield client
    finally:
        client.close(timeout=5)


class _LogTo(WorkerPlugin):
    """Send a ``LocalCluster`` worker's stdout/stderr (and its kernels') to a log file,
    as the process pool does (``OUT/.workers.log``), not to the terminal."""

    def __init__(self, path: str) -> None:
        self.path = path

    def setup(self, worker: Any) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)


# ------------------------------------------------------------------ the worker side


@dataclass
class ClientOutput:
    """What one client's task returns to the driver.

    Attributes
    ----------
    worker
        The address of the worker that ran it.
    files
        Every file it wrote (path relative to the client's folder, to its bytes).
    kpis
        The ``kpis.json`` document, ``None`` when the KPI step failed.
    notebooks
        One result per notebook run (none when the KPI step failed).
    failure
        Why the KPI step failed (``InputError: ...``), as a local run says it.
    problem
        Why the client could not be run at all on this worker (a file it cannot read).
    """

    worker: str
    files: dict[str, bytes] = field(default_factory=dict)
    kpis: dict[str, Any] | None = None
    notebooks: list[NotebookResult] = field(default_factory=list)
    failure: str | None = None
    problem: str | None = None


#: papermill's ``cwd`` is process-wide: a worker with several threads runs one client
#: at a time all the same (start workers with ``--nthreads 1``).
_ONE_AT_A_TIME = threading.Lock()


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "this process"


def _unreadable(paths: Sequence[str]) -> str | None:
    """The first of ``paths`` this process cannot read, or ``None``."""
    for path in paths:
        try:
            with open(path, "rb") as handle:
                handle.read(1)
        except OSError:
            return path
    return None


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` but the notebooks' cache of loaded tables and KPIs
    (:mod:`b2b_analysis.cache`: never published, so never shipped back): relative POSIX
    path to bytes."""
    from b2b_analysis.cache import FOLDER

    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).parts[0] != FOLDER
    }


def _run_steps(
    out: ClientOutput,
    params: RunParameters,
    notebooks: Mapping[str, str],
    client: str,
    folder: Path,
) -> None:
    """The KPI step, then (when it succeeds) the notebooks in order, into ``folder``;
    results and files go into ``out``."""
    try:
        out.kpis = run_kpis(params, str(folder))
    except Exception as exc:  # a failed KPI step is the client's result, as locally
        out.failure = describe(exc)
    if out.kpis is not None:
        out.notebooks = [
            run_notebook(name, source, str(folder), params, client)
            for name, source in notebooks.items()
        ]
    out.files = _files(folder)


def run_client(params: RunParameters, notebooks: Mapping[str, str], client: str) -> ClientOutput:
    """One client end to end on a worker: the KPI step, then (when it succeeds) every
    notebook in ``notebooks`` (name to source path) in order, in a temporary folder
    of this worker; returns the files and results (:class:`ClientOutput`)."""
    out = ClientOutput(_worker_address())
    missing = _unreadable([params.params_path, *notebooks.values()])
    if missing is not None:
        out.problem = (
            f"worker {out.worker} cannot read {missing}: shared filesystem needed "
            f"(the same paths on every worker), see {DOCS}"
        )
        return out
    with _ONE_AT_A_TIME, tempfile.TemporaryDirectory(prefix="b2b-client-") as tmp:
        try:
            _run_steps(out, params, notebooks, client, Path(tmp))
        except Exception as exc:  # never expected: the client fails, naming this worker
            out.problem = f"worker {out.worker}: {describe(exc)}"
    return out


# ------------------------------------------------------------------ the driver side


def _settle_output(schedule: Schedule, r: ClientResult, out: ClientOutput) -> list[Step]:
    """Record a client's returned results as a local run records its tasks."""
    steps = [schedule.finish(Task(r, KPIS_TASK), settle(Task(r, KPIS_TASK), out.kpis, out.failure))]
    for result in out.notebooks:
        task = Task(r, result.notebook)
        steps.append(schedule.finish(task, settle(task, result)))
    return steps


def _fail(schedule: Schedule, r: ClientResult, problem: str) -> list[Step]:
    """A client the cluster could not run: one problem, its notebooks out of the total."""
    r.error = problem
    return [schedule.finish(Task(r, KPIS_TASK), problem)]


def _outcome(future: Any) -> ClientOutput | str:
    """The task's output, or why the client failed (a dead worker, an exception)."""
    from distributed import KilledWorker

    try:
        value = future.result()
    except KilledWorker as exc:
        last = getattr(exc.last_worker, "address", exc.last_worker)
        return (
            f"worker {last}: KilledWorker: {exc.allowed_failures + 1} workers died while "
            "running this client (distributed.scheduler.allowed-failures); see their logs"
        )
    except Exception as exc:
        return f"cluster: {describe(exc)}"
    return value if isinstance(value, ClientOutput) else f"cluster: unexpected result {value!r}"


def _finish(
    future: Any, r: ClientResult, schedule: Schedule, staging: dict[str, Path]
) -> list[Step]:
    """Take one finished future: write its files into the client's staging folder,
    record its results, publish the client; the progress steps it makes."""
    from b2b_analysis.atomic import write_atomic

    out = _outcome(future)
    if isinstance(out, str):
        steps = _fail(schedule, r, out)
    elif out.problem is not None:
        r.worker = out.worker
        steps = _fail(schedule, r, out.problem)
    else:
        r.worker = out.worker
        folder = staging[r.slug]
        for rel, data in out.files.items():
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, data)
        steps = _settle_output(schedule, r, out)
    publish_client(r, staging.pop(r.slug))
    return steps


def _submit(
    client: Any,
    clients: Sequence[ClientResult],
    notebooks: Mapping[str, Path],
    window: Mapping[str, Any],
) -> dict[Any, ClientResult]:
    """One task per client, named after it (``report-<slug>-<token>``)."""
    import uuid

    sources = {name: str(path) for name, path in notebooks.items()}
    token = uuid.uuid4().hex[:8]
    return {
        client.submit(
            run_client,
            RunParameters.for_client(r.params_path, window),
            sources,
            r.client,
            key=f"report-{r.slug}-{token}",
            pure=False,
        ): r
        for r in clients
    }


def run_on_cluster(
    scheduler: str,
    clients: Sequence[ClientResult],
    out_dir: Path,
    notebooks: Mapping[str, Path],
    window: Mapping[str, Any],
    on_step: Callable[[Step], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Steps 2 and 3 of :func:`~b2b_analysis.report.runner.run_reports` on a cluster.

    Connects first (an unreachable scheduler touches nothing in ``out_dir``), then
    stages every client and submits one task per client; each finished task is
    published as it comes, with its progress steps. A stop request cancels the
    futures and raises :class:`~b2b_analysis.report.stopping.Interrupted`.
    """
    spec = parse_scheduler(scheduler)
    with connect(spec, out_dir / ".workers.log") as client:
        staging = stage(clients, out_dir)
        local = list(client.run(os.getpid).values()) if spec.address is None else []
        futures = _submit(client, clients, notebooks, window)
        schedule = Schedule(clients, list(notebooks))
        while futures:
            if stop is not None and stop.is_set():
                client.cancel(list(futures), force=True)
                kill_trees(local)  # this run's own worker processes and their kernels
                raise drop_unpublished(staging, clients)
            for future in [f for f in futures if f.done()]:
                for step in _finish(future, futures.pop(future), schedule, staging):
                    if on_step:
                        on_step(step)
            time.sleep(POLL)
