"""Notebook pages rendered in the run's own process: one nbconvert set-up per run.

A page takes 0.1-0.2 s to render, but the first one in a process costs about 1.4 s
of CPU more (nbconvert's import, its templates, altair). With the pages rendered by
the workers, every worker paid that. The process-pool runner renders them itself,
in one daemon thread (:class:`Pages`), while its workers run the next notebooks.
The thread only reads the executed notebook and renders; the run's own thread
writes each page (:meth:`Pages.finish`), so a stopped run writes nothing after it
stopped and never waits for a page.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from b2b_analysis.atomic import write_atomic
from b2b_analysis.report.export import export_failure, page_locale, page_title, render_page
from b2b_analysis.report.results import NotebookResult
from b2b_analysis.report.schedule import Task

__all__ = ["Pages"]

_Job = tuple["Future[Any]", Callable[[], Any]]


class Pages:
    """The pages of a run's finished notebooks, rendered one after another in a thread.

    ``pending`` maps each page under way (a future of its bytes and render time) to
    its task, the worker's result and the client's staging folder.
    """

    def __init__(self) -> None:
        self.pending: dict[Future[Any], tuple[Task, NotebookResult, Path]] = {}
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._warming = False
        threading.Thread(target=self._work, daemon=True, name="b2b-pages").start()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, make = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(make())
            except BaseException as exc:  # the page's problem, reported by finish()
                future.set_exception(exc)

    def warm_up(self) -> None:
        """Pay the thread's one-time costs now (before the first page is wanted); once."""
        if not self._warming:
            from b2b_analysis.report.export import warm_up

            self._warming = True
            self._jobs.put((Future(), warm_up))

    def start(self, task: Task, result: NotebookResult, folder: Path) -> bool:
        """Queue the page of a finished notebook task (written into ``folder`` by
        :meth:`finish`); False when the notebook left no executed notebook."""
        nb_path = folder / f"{task.what}.ipynb"
        if not nb_path.exists():
            return False
        title = page_title(task.client.client, task.what)

        def make() -> tuple[bytes, float]:
            began = time.perf_counter()
            locale = page_locale(folder)
            data = render_page(nb_path, title=title, current=task.what, locale=locale)
            return data, time.perf_counter() - began

        future: Future[Any] = Future()
        self.pending[future] = (task, result, folder)
        self._jobs.put((future, make))
        return True

    def finish(self, future: Future[Any]) -> tuple[Task, NotebookResult]:
        """Write a rendered page into its folder; the task and its complete result
        (a page that failed makes the notebook's result failed, as in a worker)."""
        task, result, folder = self.pending.pop(future)
        try:
            data, seconds = future.result()
            write_atomic(folder / f"{task.what}.html", data)
        except Exception as exc:
            failed = dataclasses.replace(
                result, ok=False, error=result.error or export_failure(exc)
            )
            return task, failed
        done = dataclasses.replace(result, seconds=result.seconds + seconds, html_bytes=len(data))
        return task, done

    def close(self) -> None:
        """Drop the pages not started and end the thread after the current one."""
        for future in self.pending:
            future.cancel()
        self.pending.clear()
        self._jobs.put(None)
