"""The ``report`` command: every notebook for every client, as a chain of named steps.

:func:`run_reports` reads as the run does:

1. :func:`plan_clients`: one :class:`ClientResult` per params file; a file that
   does not load, or whose slug is unsafe or taken, is reported and not run;
2. :func:`stage`: the portfolio page is removed (it is the run's last write) and
   each client gets a fresh staging folder;
3. :func:`submit`: per client, its KPIs and each notebook go to the process pool,
   each with the client's :class:`RunParameters`;
4. :func:`collect`: results are recorded as they come; a client whose tasks are all
   done is published (:func:`publish_client`): its ``status.json`` and
   ``index.html`` go into its staging folder, which replaces ``out/<slug>/``;
5. :func:`write_portfolio`: the portfolio page, with the clients of earlier runs
   still in ``out/``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from b2b_analysis.config import SLUG_PATTERN, load_params
from b2b_analysis.errors import InputError
from b2b_analysis.report.files import remove, staging_folder, swap_in, write_atomic
from b2b_analysis.report.notebooks import DEFAULT_NOTEBOOKS, check_notebooks
from b2b_analysis.report.pages import client_page, portfolio_page
from b2b_analysis.report.parameters import RunParameters, check_window
from b2b_analysis.report.pool import worker_pool
from b2b_analysis.report.results import (
    ClientResult,
    NotebookResult,
    earlier_results,
    status_document,
)
from b2b_analysis.report.worker import run_kpis, run_notebook

__all__ = [
    "Task",
    "collect",
    "plan_clients",
    "publish_client",
    "run_reports",
    "stage",
    "submit",
    "write_portfolio",
]

#: The name of a client's KPIs task (its other tasks are named after their notebook).
KPIS_TASK = "kpis"


@dataclass(frozen=True)
class Task:
    """One task in the pool: a client's KPIs or one of its notebooks."""

    client: ClientResult
    what: str


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


# ------------------------------------------------------------------ 3. submit


def submit(
    pool: Executor,
    clients: Sequence[ClientResult],
    notebooks: Mapping[str, Path],
    window: Mapping[str, Any],
    staging: Mapping[str, Path],
) -> dict[Future[Any], Task]:
    """Submit each client's KPIs and notebooks, written into its staging folder."""
    tasks: dict[Future[Any], Task] = {}
    for r in clients:
        params = RunParameters.for_client(r.params_path, window)
        where = str(staging[r.slug])
        tasks[pool.submit(run_kpis, params, where)] = Task(r, KPIS_TASK)
        for name, source in notebooks.items():
            fut = pool.submit(run_notebook, name, str(source), where, params, r.client)
            tasks[fut] = Task(r, name)
    return tasks


# ------------------------------------------------------------------ 4. collect


def _record(task: Task, future: Future[Any]) -> None:
    """Put a finished task's outcome into its client's result."""
    r, what = task.client, task.what
    try:
        value: Any = future.result()
    except Exception as exc:  # the worker itself broke (not a notebook cell)
        message = f"{type(exc).__name__}: {exc}"
        if what == KPIS_TASK:
            r.error = r.error or f"kpis: {message}"
        else:
            r.notebooks[what] = NotebookResult(what, False, 0.0, message)
        return
    if what == KPIS_TASK:
        r.kpis = value
    else:
        r.notebooks[what] = value


def collect(
    tasks: Mapping[Future[Any], Task],
    staging: Mapping[str, Path],
    on_progress: Callable[[str], None] | None = None,
) -> None:
    """Record each task as it finishes; publish a client when its last task is done."""
    pending: dict[str, int] = {}
    for task in tasks.values():
        pending[task.client.slug] = pending.get(task.client.slug, 0) + 1
    for fut in as_completed(tasks):
        task = tasks[fut]
        _record(task, fut)
        pending[task.client.slug] -= 1
        if pending[task.client.slug] == 0:
            publish_client(task.client, staging[task.client.slug])
        if on_progress:
            on_progress(f"{task.client.slug}: {task.what}")


def publish_client(result: ClientResult, staging: Path) -> None:
    """Finish a client: its ``status.json`` and ``index.html`` go into the staging
    folder, which then replaces ``out/<slug>/`` (two renames). A client's folder is
    always one whole run, never a mix of an old and a new one."""
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


def run_reports(
    params_files: Sequence[Path],
    *,
    out_dir: Path = Path("reports"),
    jobs: int = 2,
    notebooks_dir: Path | None = None,
    window: Mapping[str, Any] | None = None,
    on_progress: Callable[[str], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> list[ClientResult]:
    """Run every notebook for every client; see the module docstring.

    ``window`` may set ``start``, ``end`` and ``period`` for every client (see
    :class:`RunParameters`). ``on_start(total)`` is called once with the number of
    steps, ``on_progress(label)`` after each. Returns one :class:`ClientResult` per
    params file.
    """
    notebooks = check_notebooks(notebooks_dir or DEFAULT_NOTEBOOKS)
    window = check_window(window)
    results = plan_clients(params_files, out_dir)
    runnable = [r for r in results if r.error is None]
    if on_start:
        on_start(len(runnable) * (len(notebooks) + 1))
    staging = stage(runnable, out_dir)
    with worker_pool(jobs, out_dir / ".workers.log") as pool:
        collect(submit(pool, runnable, notebooks, window, staging), staging, on_progress)
    write_portfolio(out_dir, runnable)
    return results
