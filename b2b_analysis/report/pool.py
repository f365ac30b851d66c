"""The process pool a run submits its tasks to.

Each notebook runs in a separate **process** (papermill's ``cwd`` is process-wide),
spawned, not forked. All workers start at once, and each starts a kernel for its
first notebook (:mod:`b2b_analysis.report.kernels`) while the KPI step runs. A
worker's output (and its kernels') goes to a log file, not the terminal, and a
worker ends when the run that started it dies: a killed run leaves no process
behind, only its staging folders. An interrupted run ends its workers and their
kernels at once (:func:`stop_workers`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

__all__ = ["kill_trees", "stop_workers", "worker_pool"]


def worker_pool(jobs: int, log: Path, kernels_in: Path | None = None) -> ProcessPoolExecutor:
    """A pool of ``jobs`` (at least one) spawned, quiet worker processes logging to
    ``log``, all started now; with ``kernels_in`` (the notebooks' folder), each starts a
    kernel there for its first notebook."""
    import multiprocessing

    workers = max(1, jobs)
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_quiet_worker,
        initargs=(str(log), None if kernels_in is None else str(kernels_in)),
    )
    # a spawned pool starts a worker per task submitted while none is idle: one
    # empty task each starts them all now, rather than one by one as work comes
    for _ in range(workers):
        pool.submit(int)
    return pool


def _quiet_worker(log_path: str, kernels_in: str | None = None) -> None:
    """Send a worker's (and its kernels') stdout/stderr to a log, not the terminal, and
    end the worker when the run that started it dies (see :func:`_exit_with_parent`).
    With ``kernels_in``, start a kernel there for the first notebook (shut down when
    the worker exits, if no notebook took it)."""
    # Ctrl-C in a terminal reaches the whole foreground process group: the run
    # decides what to do with it (stop_workers); the workers leave it to the run.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    parent = os.getppid()
    threading.Thread(
        target=_exit_with_parent, args=(parent,), daemon=True, name="b2b-parent-watch"
    ).start()
    from multiprocessing.util import Finalize

    # the last thing a worker does at the pool's shutdown (which waits for it): its
    # interpreter's teardown (0.3-0.8 s with papermill and nbconvert loaded) is skipped
    Finalize(None, _exit_now, exitpriority=-100)
    if kernels_in is not None:
        from b2b_analysis.report import kernels

        # a pool worker ends through multiprocessing's exit: these run, atexit's may not
        Finalize(None, kernels.close_spares, exitpriority=10)
        kernels.start_spare(kernels_in)
        # papermill's import (0.5 s), while the kernel starts and the KPI step runs
        threading.Thread(target=_import_papermill, daemon=True, name="b2b-imports").start()


def _import_papermill() -> None:
    from b2b_analysis.quickimport import import_jsonschema
    from b2b_analysis.report.engine import engine_name

    import_jsonschema()
    with contextlib.suppress(Exception):  # reported when a notebook needs it
        engine_name()


def _exit_now() -> None:
    """End the worker at once, its output flushed (a pool worker has nothing else to
    finish: its results are sent, its kernels shut down)."""
    import sys

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


def _exit_with_parent(parent: int, interval: float = 0.5) -> None:
    """Exit as soon as the parent process is gone (a killed ``report`` run).

    Pool workers otherwise outlive a SIGKILLed run: they finish their notebook, write
    it, then wait forever for work. Their kernels exit by themselves (ipykernel
    watches its parent too); unfinished outputs stay in the run's staging folder.
    """
    while True:
        time.sleep(interval)
        if os.getppid() != parent:
            os._exit(1)


def stop_workers(pool: ProcessPoolExecutor, timeout: float = 1.5) -> None:
    """End ``pool`` now: queued tasks are cancelled, workers and their kernels killed.

    A kernel runs in a session of its own (jupyter_client starts it so), so it is
    killed by pid, found as a descendant of its worker; the workers are stopped
    (SIGSTOP) first, so none can start a kernel between the look and the kill.
    Waits up to ``timeout`` seconds for them to be gone. psutil is a dependency of
    ipykernel, hence always there when notebooks run.
    """
    # ProcessPoolExecutor names no public way to its workers before Python 3.14
    # (kill_workers); shutdown() drops this mapping, so it is read first.
    workers = list((getattr(pool, "_processes", None) or {}).keys())
    pool.shutdown(wait=False, cancel_futures=True)
    kill_trees(workers, timeout)


def kill_trees(pids: list[int], timeout: float = 1.5) -> None:
    """Kill the processes ``pids`` and all their descendants (kernels included).

    The processes are stopped (SIGSTOP) first, so none can start a kernel between the
    look and the kill; a kernel runs in a session of its own, so it is found as a
    descendant by pid. Waits up to ``timeout`` seconds for them to be gone.
    """
    import psutil

    doomed: list[psutil.Process] = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            worker = psutil.Process(pid)
            worker.suspend()  # a stopped worker starts no kernel behind our back
            doomed.append(worker)
    for worker in list(doomed):
        with contextlib.suppress(psutil.Error):
            doomed += worker.children(recursive=True)
    for proc in doomed:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    deadline = time.monotonic() + timeout
    while any(_running(p) for p in doomed) and time.monotonic() < deadline:
        time.sleep(0.02)


def _running(proc: Any) -> bool:
    """Whether ``proc`` (a psutil process) still runs: a zombie has ended, only its
    exit status is left for its parent (or init) to collect."""
    import psutil

    try:
        return bool(proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False
