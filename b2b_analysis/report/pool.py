"""The process pool a run submits its tasks to.

Each notebook runs in a separate **process** (papermill's ``cwd`` is process-wide),
spawned, not forked. A worker's output (and its kernels') goes to a log file, not
the terminal, and a worker ends when the run that started it dies: a killed run
leaves no process behind, only its staging folders.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

__all__ = ["worker_pool"]


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
