"""Stopping a run on request: Ctrl-C (SIGINT) or SIGTERM.

:func:`stop_on_signals` turns those signals into a :class:`Stop` (a
:class:`threading.Event` that remembers the signal) for the run to check between
tasks; the run then stops at once and cleanly
(:func:`b2b_analysis.report.runner.run_reports` raises :class:`Interrupted`).
Nothing is interrupted half-way: the signal handler only sets the event.

>>> stop = Stop()
>>> stop.is_set(), stop.exit_code
(False, 1)
>>> stop.request(signal.SIGTERM)
>>> stop.is_set(), stop.exit_code
(True, 143)
>>> Interrupted(["acme", "iberia"], ["nordic"]).message()
'interrupted: 2 of 3 clients finished and published (acme, iberia); nordic not published'
>>> Interrupted(["acme", "FAILED broken"], []).message()
'interrupted: 2 of 2 clients finished and published (acme, FAILED broken)'
>>> Interrupted([], ["acme"]).message()
'interrupted: 0 of 1 clients finished and published; acme not published'
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

__all__ = ["Interrupted", "Stop", "stop_on_signals"]


class Stop(threading.Event):
    """An event set by a stop request; ``signum`` is the signal that asked for it."""

    def __init__(self) -> None:
        super().__init__()
        self.signum: int | None = None

    def request(self, signum: int, frame: FrameType | None = None) -> None:
        """Ask the run to stop (usable as a signal handler)."""
        self.signum = self.signum or signum
        self.set()

    @property
    def exit_code(self) -> int:
        """The shell's code for death by that signal (130 for SIGINT, 143 for SIGTERM)."""
        return 128 + self.signum if self.signum else 1


@contextmanager
def stop_on_signals(
    signals: Sequence[signal.Signals] = (signal.SIGINT, signal.SIGTERM),
) -> Iterator[Stop]:
    """While inside, ``signals`` set the yielded :class:`Stop` instead of ending the
    process; the previous handlers come back on the way out (main thread only)."""
    stop = Stop()
    previous = {sig: signal.signal(sig, stop.request) for sig in signals}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Interrupted(Exception):
    """A run stopped on request: which clients were published (a failed one as
    ``FAILED <slug>``, as in the run's summary), which were not."""

    def __init__(self, published: Sequence[str], unpublished: Sequence[str]) -> None:
        super().__init__(published, unpublished)
        self.published = list(published)
        self.unpublished = list(unpublished)

    def message(self) -> str:
        """One line: what was finished, and what was not."""
        count = len(self.published) + len(self.unpublished)
        done = f" ({', '.join(self.published)})" if self.published else ""
        line = f"interrupted: {len(self.published)} of {count} clients finished and published"
        line += done
        if self.unpublished:
            line += f"; {', '.join(self.unpublished)} not published"
        return line
