"""The ``report`` command: every notebook for every client, as a chain of named steps.

:func:`run_reports` reads as the run does:

1. :func:`plan_clients`: one :class:`ClientResult` per params file; a file that
   does not load, or whose slug is unsafe or taken, is reported and not run;
2. :func:`stage`: the portfolio page is removed (it is the run's last write) and
   each client gets a fresh staging folder;
3. :func:`run_tasks`: the tasks go to the process pool in the order of the
   :class:`~b2b_analysis.report.schedule.Schedule`, each with the client's
   :class:`RunParameters`: a client's KPI step first (it loads the data), and only
   when it succeeds its notebooks; a client whose KPI step fails is finished with
   that one problem. Results are recorded as they come (:func:`record`); a client
   whose tasks are all done is published (:func:`publish_client`): its
   ``status.json`` and ``index.html`` go into its staging folder, which replaces
   ``out/<slug>/``;
4. :func:`write_portfolio`: the portfolio page, with the clients of earlier runs
   still in ``out/``.

A stop request (Ctrl-C, SIGTERM) ends step 3 at once (:func:`interrupt`): the
workers and their kernels are killed, the unpublished clients' staging folders
removed, and no portfolio page is written (it would list a run that did not finish).

With a Dask ``scheduler``, steps 2 and 3 run on the cluster instead
(:func:`~b2b_analysis.report.cluster.run_on_cluster`: one task per client) and report
through the same functions (:func:`stage`, :func:`settle`, :func:`publish_client`,
:func:`drop_unpublished`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from b2b_analysis import cache
from b2b_analysis.atomic import write_atomic
from b2b_analysis.config import SLUG_PATTERN, load_params
from b2b_analysis.errors import InputError
from b2b_analysis.report.files import remove, staging_folder, swap_in
from b2b_analysis.report.notebooks import DEFAULT_NOTEBOOKS, check_notebooks
from b2b_analysis.report.pages import client_page, portfolio_page
from b2b_analysis.report.parameters import RunParameters, check_window
from b2b_analysis.report.pool import stop_workers, worker_pool
from b2b_analysis.report.rendering import Pages
from b2b_analysis.report.results import (
    ClientResult,
    NotebookResult,
    earlier_results,
    status_document,
)
from b2b_analysis.report.schedule import KPIS_TASK, Schedule, Step, Task
from b2b_analysis.report.stopping import Interrupted
from b2b_analysis.report.worker import run_kpis, run_notebook

__all__ = [
    "Run",
    "describe",
    "drop_unpublished",
    "interrupt",
    "plan_clients",
    "publish_client",
    "record",
    "run_reports",
    "run_tasks",
    "settle",
    "stage",
    "start_task",
    "write_portfolio",
]

# ------------------------------------------------------------------ 1. plan


def _plan_client(path: Path, out_dir: Path, seen: dict[str, Path]) -> ClientResult:
    """The result of one params file: to run (no error) or reported as it is."""
    try:
        loaded = load_params(path)
    except InputError as exc:
        return ClientResult(Path(path), Path(path).stem, str(path), out_dir, error=str(exc))
    slug = loaded.params.client_slug
    error = None
    if not re.fullmatch(SLUG_PATTERN, slug):  # config checks it already: never a path
        error = f"{path}: slug {slug!r} is not a safe folder name"
    elif slug in seen:  # the first keeps the folder; this one is not run
        error = (
            f"{path}: the slug {slug!r} is already used by {seen[slug]}; "
            "give one of them its own 'slug'"
        )
    if error:
        return ClientResult(loaded.path, slug, loaded.params.client, out_dir, error=error)
    seen[slug] = Path(path)
    return ClientResult(loaded.path, slug, loaded.params.client, out_dir / slug)


def plan_clients(params_files: Sequence[Path], out_dir: Path) -> list[ClientResult]:
    """One result per params file, in order; those with an ``error`` are not run."""
    seen: dict[str, Path] = {}
    return [_plan_client(Path(path), out_dir, seen) for path in params_files]


# ------------------------------------------------------------------ 2. stage


def stage(clients: Sequence[ClientResult], out_dir: Path) -> dict[str, Path]:
    """Prepare ``out_dir``: no portfolio page, a fresh staging folder per client (by slug).

    The portfolio page is the run's last write: while a run is under way, or after
    it was killed, there is none rather than one that looks complete but is not.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    remove(out_dir / "index.html")
    return {r.slug: staging_folder(r.out_dir) for r in clients}


# ------------------------------------------------------------------ 3. run the tasks


def start_task(
    pool: Executor,
    task: Task,
    notebooks: Mapping[str, Path],
    window: Mapping[str, Any],
    staging: Mapping[str, Path],
    *,
    spare: bool = False,
    export: bool = True,
) -> Future[Any]:
    """Submit one task, written into its client's staging folder; ``spare``: the worker
    starts a kernel for a later notebook while this one runs; ``export=False``: the
    worker leaves the notebook's page to the run (:class:`Pages`)."""
    r = task.client
    params = RunParameters.for_client(r.params_path, window)
    where = str(staging[r.slug])
    if task.what == KPIS_TASK:
        return pool.submit(run_kpis, params, where)
    source = str(notebooks[task.what])
    return pool.submit(
        run_notebook, task.what, source, where, params, r.client, spare=spare, export=export
    )


def describe(exc: BaseException) -> str:
    """How a task's exception is reported: ``InputError: orders.csv: ...``."""
    return f"{type(exc).__name__}: {exc}"


def record(task: Task, future: Future[Any]) -> str | None:
    """Put a finished task's outcome into its client's result; the problem, if any."""
    try:
        value: Any = future.result()
    except Exception as exc:  # the KPI step raised, or a worker itself broke
        return settle(task, None, describe(exc))
    return settle(task, value)


def settle(task: Task, value: Any, failure: str | None = None) -> str | None:
    """Put a task's value (a kpis document or a :class:`NotebookResult`), or the
    ``failure`` it raised (:func:`describe`), into its client's result; the problem,
    if any. The process pool (:func:`record`) and a cluster
    (:mod:`~b2b_analysis.report.cluster`) report through it alike."""
    r, what = task.client, task.what
    if failure is not None:
        if what == KPIS_TASK:
            r.error = r.error or f"kpis: {failure}"
            return r.error
        value = NotebookResult(what, False, 0.0, failure)
    if what == KPIS_TASK:
        r.kpis = value
        return None
    r.notebooks[what] = value
    return None if value.ok else f"{what}.ipynb {value.error}"


@dataclass
class Run:
    """A run under way: the pool, what it runs, and how to report and stop it."""

    pool: ProcessPoolExecutor
    jobs: int
    notebooks: Mapping[str, Path]
    window: Mapping[str, Any]
    staging: dict[str, Path]
    on_step: Callable[[Step], None] | None = None
    stop: threading.Event | None = None
    #: Renders the notebook pages in this process (else each worker renders its own).
    pages: Pages | None = None

    def stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()


def _start_next(run: Run, schedule: Schedule, running: dict[Future[Any], Task]) -> None:
    """Submit tasks until ``run.jobs`` run. A notebook's worker starts a kernel for a
    later one (``spare``) while at least ``run.jobs`` notebooks are still to come, so
    that no kernel is started for nothing at the end (each worker starts with one)."""
    while len(running) < run.jobs and (task := schedule.next_task()) is not None:
        spare = schedule.notebooks_to_come() >= run.jobs
        if run.pages is not None and task.what != KPIS_TASK:
            run.pages.warm_up()  # while the first notebooks run
        export = run.pages is None
        fut = start_task(
            run.pool, task, run.notebooks, run.window, run.staging, spare=spare, export=export
        )
        running[fut] = task


def _page_started(run: Run, task: Task, future: Future[Any]) -> bool:
    """Whether a finished notebook task's page is now being rendered by ``run.pages``
    (the task is finished when it is written)."""
    if run.pages is None or task.what == KPIS_TASK or future.exception() is not None:
        return False
    return run.pages.start(task, future.result(), run.staging[task.client.slug])


def _finished(run: Run, schedule: Schedule, task: Task, problem: str | None) -> None:
    """Count a finished task; publish its client after its last one; report it."""
    step = schedule.finish(task, problem)
    if step.last:
        publish_client(task.client, run.staging.pop(task.client.slug))
    if run.on_step:
        run.on_step(step)


def run_tasks(run: Run, schedule: Schedule) -> None:
    """Keep the pool busy with ``run.jobs`` tasks in the order of ``schedule``; record
    each as it finishes (a notebook once its page is written) and publish a client
    after its last task. Returns when all are done or, within a tenth of a second,
    when ``run.stop`` is set."""
    running: dict[Future[Any], Task] = {}
    pending = run.pages.pending if run.pages is not None else {}
    while not run.stopped():
        _start_next(run, schedule, running)
        if not running and not pending:
            return
        finished, _ = wait([*running, *pending], timeout=0.1, return_when=FIRST_COMPLETED)
        for fut in finished:
            if fut in running:
                task = running.pop(fut)
                if _page_started(run, task, fut):
                    continue
                problem = record(task, fut)
            else:
                assert run.pages is not None
                task, value = run.pages.finish(fut)
                problem = settle(task, value)
            _finished(run, schedule, task, problem)


def publish_client(result: ClientResult, staging: Path) -> None:
    """Finish a client: its ``status.json`` and ``index.html`` go into the staging
    folder, which then replaces ``out/<slug>/`` (two renames). A client's folder is
    always one whole run, never a mix of an old and a new one. The KPI step's
    saved tables and KPIs (:data:`b2b_analysis.cache.FOLDER`) are removed first."""
    remove(staging / cache.FOLDER)
    status = json.dumps(status_document(result), indent=2, ensure_ascii=False) + "\n"
    write_atomic(staging / "status.json", status)
    write_atomic(staging / "index.html", client_page(result))
    swap_in(staging, result.out_dir)


# ------------------------------------------------------------------ 5. portfolio


def write_portfolio(out_dir: Path, clients: Sequence[ClientResult]) -> None:
    """The portfolio page ``out/index.html``: this run's clients and earlier ones."""
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    on_page = list(clients)
    on_page += earlier_results(out_dir, {r.slug for r in on_page})
    write_atomic(out_dir / "index.html", portfolio_page(on_page, generated))


# ------------------------------------------------------------------ the run


def interrupt(run: Run, clients: Sequence[ClientResult]) -> Interrupted:
    """Stop a run at once: its queued tasks are cancelled, its workers and kernels
    killed, and the staging folders of the clients not yet published removed (their
    previous folders, if any, stay as they were). No portfolio page is written."""
    stop_workers(run.pool)
    if run.pages is not None:
        run.pages.close()
    return drop_unpublished(run.staging, clients)


def drop_unpublished(staging: Mapping[str, Path], clients: Sequence[ClientResult]) -> Interrupted:
    """Remove the staging folders of the clients not yet published (``staging`` holds
    only those); what was published and what not, for the one line of an interrupt."""
    for folder in staging.values():
        remove(folder)
    published = [r.slug + ("" if r.ok else " (failed)") for r in clients if r.slug not in staging]
    return Interrupted(published, [r.slug for r in clients if r.slug in staging])


def _run_in_pool(
    clients: Sequence[ClientResult],
    out_dir: Path,
    jobs: int,
    notebooks: Mapping[str, Path],
    window: Mapping[str, Any],
    on_step: Callable[[Step], None] | None,
    stop: threading.Event | None,
) -> None:
    """Steps 2 and 3 on this machine: stage, then run the tasks in a process pool."""
    staging = stage(clients, out_dir)
    kernels_in = {path.parent for path in notebooks.values()}
    folder = kernels_in.pop() if len(kernels_in) == 1 else None
    with worker_pool(jobs, out_dir / ".workers.log", folder) as pool:
        pages = Pages()
        run = Run(pool, max(1, jobs), notebooks, window, staging, on_step, stop, pages)
        try:
            run_tasks(run, Schedule(clients, list(notebooks)))
            if run.stopped():
                raise interrupt(run, clients)
        finally:
            pages.close()


def run_reports(
    params_files: Sequence[Path],
    *,
    out_dir: Path = Path("reports"),
    jobs: int = 2,
    notebooks_dir: Path | None = None,
    window: Mapping[str, Any] | None = None,
    on_step: Callable[[Step], None] | None = None,
    stop: threading.Event | None = None,
    scheduler: str | None = None,
) -> list[ClientResult]:
    """Run every notebook for every client; see the module docstring.

    ``window`` may set ``start``, ``end`` and ``period`` for every client (see
    :class:`RunParameters`). ``on_step(step)`` is called after each finished task
    (:class:`~b2b_analysis.report.schedule.Step`: its progress line, done and total).
    Setting ``stop`` (for instance from a signal handler,
    :func:`~b2b_analysis.report.stopping.stop_on_signals`) ends the run within a
    fraction of a second: raises :class:`~b2b_analysis.report.stopping.Interrupted`
    naming the clients published and not. Returns one :class:`ClientResult` per
    params file.

    ``scheduler`` (a Dask scheduler's address, or ``local[:N]``) runs each client as
    one task on that cluster instead of the process pool (``jobs`` is then unused):
    :func:`~b2b_analysis.report.cluster.run_on_cluster`, same steps, same outputs.
    """
    found = check_notebooks(notebooks_dir or DEFAULT_NOTEBOOKS)
    notebooks = {name: path.resolve() for name, path in found.items()}  # any cwd, any host
    window = check_window(window)
    results = plan_clients(params_files, out_dir)
    runnable = [r for r in results if r.error is None]
    if stop is not None and stop.is_set():  # asked before anything was touched
        raise Interrupted([], [r.slug for r in runnable])
    if scheduler is None:
        _run_in_pool(runnable, out_dir, jobs, notebooks, window, on_step, stop)
    else:
        from b2b_analysis.report.cluster import run_on_cluster

        run_on_cluster(scheduler, runnable, out_dir, notebooks, window, on_step, stop)
    write_portfolio(out_dir, runnable)
    return results
