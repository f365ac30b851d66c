"""The order of a run's tasks and its progress lines (:mod:`b2b_analysis.report.schedule`),
and the interruption line (:mod:`b2b_analysis.report.stopping`): pure logic, checked
against a plain model of the run for every pattern of failing KPI steps."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from b2b_analysis.report.results import ClientResult
from b2b_analysis.report.schedule import KPIS_TASK, Schedule
from b2b_analysis.report.stopping import Interrupted, stop_on_signals

NOTEBOOKS = ["overview", "retention", "order_frequency", "aov"]


def _clients(n: int) -> list[ClientResult]:
    return [ClientResult(Path(), f"c{i}", f"Client {i}", Path(f"c{i}")) for i in range(n)]


@given(
    fails=st.lists(st.booleans(), min_size=1, max_size=6),
    jobs=st.integers(1, 4),
    order=st.randoms(use_true_random=False),
)
def test_every_step_is_reported_once_and_failed_clients_run_no_notebook(
    fails: list[bool], jobs: int, order: object
) -> None:
    """Tasks finish in any order, ``jobs`` at a time; a client whose KPI step fails
    (``fails[i]``) gets no notebook task, and the counts match the plain model."""
    clients = _clients(len(fails))
    plan = Schedule(clients, NOTEBOOKS)
    running, steps, started = [], [], []
    while True:
        while len(running) < jobs and (task := plan.next_task()) is not None:
            running.append(task)
            started.append((task.client.slug, task.what))
        if not running:
            break
        task = running.pop(order.randrange(len(running)))  # type: ignore[attr-defined]
        failed = task.what == KPIS_TASK and fails[int(task.client.slug[1:])]
        steps.append(plan.finish(task, "kpis: InputError: x" if failed else None))
    expected_total = sum(1 if f else 1 + len(NOTEBOOKS) for f in fails)
    assert [s.done for s in steps] == list(range(1, expected_total + 1))
    assert steps[-1].total == expected_total
    for i, failed in enumerate(fails):
        slug = f"c{i}"
        mine = [what for s, what in started if s == slug]
        assert mine == ([KPIS_TASK] if failed else [KPIS_TASK, *NOTEBOOKS])
        # the client's KPI step is its first reported step; its last is reported once
        reported = [s for s in steps if s.slug == slug]
        assert reported[0].label == KPIS_TASK
        assert [s.last for s in reported] == [False] * (len(reported) - 1) + [True]
        assert sum(s.problem is not None for s in reported) == int(failed)


def test_progress_lines() -> None:
    acme, broken = _clients(2)
    plan = Schedule([acme, broken], NOTEBOOKS)
    kpis_acme, kpis_broken = plan.next_task(), plan.next_task()
    assert kpis_acme is not None and kpis_broken is not None
    assert plan.finish(kpis_acme, None).line() == "c0: kpis done (1/10)"
    step = plan.finish(kpis_broken, "kpis: InputError: orders.csv: row 2")
    assert step.line() == "FAILED c1: kpis: InputError: orders.csv: row 2 (2/6)"
    assert step.last
    task = plan.next_task()
    assert task is not None
    assert plan.finish(task, None).line() == "c0: overview.ipynb done (3/6)"


def test_interrupted_line_names_what_was_finished() -> None:
    line = Interrupted(["acme", "iberia"], ["nordic"]).message()
    assert line == (
        "interrupted: 2 of 3 clients finished and published (acme, iberia); nordic not published"
    )
    assert Interrupted(["acme"], []).message() == (
        "interrupted: 1 of 1 clients finished and published (acme)"
    )


def test_a_signal_sets_the_stop_and_the_handlers_come_back() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_signals() as stop:
        assert not stop.is_set()
        os.kill(os.getpid(), signal.SIGTERM)  # handled at once, in the main thread
        assert stop.is_set() and stop.exit_code == 143
        os.kill(os.getpid(), signal.SIGINT)  # a second signal does not change the code
        assert stop.exit_code == 143
    assert signal.getsignal(signal.SIGTERM) is before
