"""The process pool a run submits its tasks to.

Each notebook runs in a separate **process** (papermill's ``cwd`` is process-wide),
spawned, not forked. A worker's output (and its kernels') goes to a log file, not
the terminal, and a worker ends when the run that started it dies: a killed run
leaves no process behind, only its staging folders. An interrupted run ends its
workers and their kernels at once (:func:`stop_workers`).
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

__all__ = ["stop_workers", "worker_pool"]


def worker_pool(jobs: int, log: Path) -> ProcessPoolExecutor:
    """A pool of ``jobs`` (at least one) spawned, quiet worker processes logging to ``log``."""
    import multiprocessing

    return ProcessPoolExecutor(
        max_workers=max(1, jobs),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_quiet_worker,
        initargs=(str(log),),
    )


def _quiet_worker(log_path: str) -> None:
    """Send a worker's (and its kernels') stdout/stderr to a log, not the terminal, and
    end the worker when the run that started it dies (see :func:`_exit_with_parent`)."""
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
    import psutil

    # ProcessPoolExecutor names no public way to its workers before Python 3.14
    # (kill_workers); shutdown() drops this mapping, so it is read first.
    workers = list((getattr(pool, "_processes", None) or {}).keys())
    pool.shutdown(wait=False, cancel_futures=True)
    doomed: list[psutil.Process] = []
    for pid in workers:
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
