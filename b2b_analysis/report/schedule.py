"""The order of a run's tasks and its progress: pure bookkeeping, no processes.

A client's KPI step runs first: it loads the client's data, so a client whose data
cannot be read fails once, with one problem, and none of its notebooks is run.
Only when the step succeeds are the client's notebooks queued, ahead of the next
client's KPI step, so clients finish (and are published) one after another.

>>> from pathlib import Path
>>> from b2b_analysis.report.results import ClientResult
>>> acme, broken = (ClientResult(Path(), s, s, Path(s)) for s in ("acme", "broken"))
>>> plan = Schedule([acme, broken], ["overview", "aov"])
>>> first, second = plan.next_task(), plan.next_task()
>>> first.label, second.label, plan.notebooks_to_come()
('kpis', 'kpis', 4)
>>> plan.finish(first, None).line()
'acme: kpis done (1/6)'
>>> plan.finish(second, "kpis: InputError: orders.csv: no orders").line()
'FAILED broken: kpis: InputError: orders.csv: no orders (2/4)'
>>> task = plan.next_task()
>>> task.label, plan.notebooks_to_come(), plan.finish(task, None).line()
('overview.ipynb', 1, 'acme: overview.ipynb done (3/4)')
>>> step = plan.finish(plan.next_task(), None)
>>> step.line(), step.last, plan.next_task()
('acme: aov.ipynb done (4/4)', True, None)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from b2b_analysis.report.results import ClientResult

__all__ = ["KPIS_TASK", "Schedule", "Step", "Task"]

#: The name of a client's KPI step (its other tasks are named after their notebook).
KPIS_TASK = "kpis"


@dataclass(frozen=True)
class Task:
    """One task of a run: a client's KPI step or one of its notebooks."""

    client: ClientResult
    what: str

    @property
    def label(self) -> str:
        """How progress names it: ``kpis`` or the notebook's file name."""
        return self.what if self.what == KPIS_TASK else f"{self.what}.ipynb"


@dataclass(frozen=True)
class Step:
    """One finished task, as progress reports it.

    ``done`` of ``total`` steps are finished; ``total`` shrinks when a client's KPI
    step fails (its notebooks are not run). ``last``: the client has no task left
    and can be published.
    """

    slug: str
    label: str
    done: int
    total: int
    problem: str | None = None
    last: bool = False

    def line(self) -> str:
        """``acme: kpis done (1/15)``, or ``FAILED broken: <problem> (2/11)``."""
        if self.problem is None:
            return f"{self.slug}: {self.label} done ({self.done}/{self.total})"
        return f"FAILED {self.slug}: {self.problem} ({self.done}/{self.total})"


class Schedule:
    """Which task comes next, and how far the run is."""

    def __init__(self, clients: Sequence[ClientResult], notebooks: Sequence[str]) -> None:
        self._notebooks = list(notebooks)
        self._waiting = deque(clients)  # KPI step not started yet
        self._ready: deque[Task] = deque()  # notebooks of clients whose KPIs are done
        self._left: dict[str, int] = {}  # tasks a client still has, once its KPIs are done
        self._computing = 0  # KPI steps started, not finished
        self.total = len(clients) * (1 + len(self._notebooks))
        self.done = 0

    def next_task(self) -> Task | None:
        """The next task to start: a ready notebook first, else the next client's KPIs."""
        if self._ready:
            return self._ready.popleft()
        if self._waiting:
            self._computing += 1
            return Task(self._waiting.popleft(), KPIS_TASK)
        return None

    def notebooks_to_come(self) -> int:
        """How many notebook tasks are not started yet: those ready and those of the
        clients whose KPI step is running or waiting (if it succeeds)."""
        return len(self._ready) + (len(self._waiting) + self._computing) * len(self._notebooks)

    def finish(self, task: Task, problem: str | None) -> Step:
        """Record a finished task (``problem``: why it failed, else ``None``).

        A KPI step that succeeds queues the client's notebooks; one that fails drops
        them from the run and from its total.
        """
        self.done += 1
        slug = task.client.slug
        if task.what != KPIS_TASK:
            self._left[slug] -= 1
            return self._step(task, problem)
        self._computing -= 1
        if problem is None:
            self._ready.extend(Task(task.client, name) for name in self._notebooks)
            self._left[slug] = len(self._notebooks)
        else:
            self.total -= len(self._notebooks)
            self._left[slug] = 0
        return self._step(task, problem)

    def _step(self, task: Task, problem: str | None) -> Step:
        slug = task.client.slug
        return Step(slug, task.label, self.done, self.total, problem, self._left[slug] == 0)
