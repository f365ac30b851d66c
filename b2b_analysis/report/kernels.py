"""Kernels started ahead of time: a worker's next notebook finds its kernel waiting.

A fresh kernel costs a notebook about 1-2 s to start and 1-1.5 s more for its first
cell's imports (polars, altair, the package). A report worker therefore starts a
kernel before it needs one (:func:`start_spare`: when the worker starts, while the
KPI step runs, and while its current notebook runs when more notebooks are to
come). The kernel imports :data:`PRELOAD` while it waits, silently: no execution
count is used, nothing is bound in the notebook's namespace, nothing is printed
into it. When a notebook comes (:func:`take`), its kernel gets the notebook's
environment (the cache folder of :mod:`b2b_analysis.cache`, or none), and papermill
runs the notebook in it unchanged (``km=``, passed through to nbclient); the
notebook's own import cell then finds the modules imported. Each kernel runs one
notebook and is shut down after it (:meth:`WarmKernel.close`), as papermill would
do with its own: notebooks never share a kernel.

A worker's kernels are its children (a stopped run kills them with it, see
:func:`b2b_analysis.report.pool.kill_trees`); spares left at the worker's normal
exit are shut down by :func:`close_spares`.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

__all__ = [
    "KERNEL",
    "KERNEL_START_TIMEOUT",
    "PRELOAD",
    "START_ATTEMPTS",
    "WarmKernel",
    "close_spares",
    "start_spare",
    "take",
]

KERNEL = "python3"
#: Seconds a kernel may take to start. papermill's 60 s failed clients on a loaded
#: machine ("Kernel didn't respond in 60 seconds") in unattended runs.
KERNEL_START_TIMEOUT = 300
#: Kernels a notebook may start before it fails: a kernel that died while it started
#: (a port taken by another process at that moment) is replaced.
START_ATTEMPTS = 3
#: What a waiting kernel imports: what the notebooks' first cell imports. Importing
#: them prints nothing and changes no state the notebooks see.
PRELOAD = (
    "b2b_analysis.analysis",
    "b2b_analysis.charts",
    "b2b_analysis.display",
    "b2b_analysis.narrative",
)
#: nbclient's own start argument: the kernel's history in memory, no file written.
HISTORY = "--HistoryManager.hist_file=:memory:"


def _silent(code: str) -> dict[str, Any]:
    """An execute request's options that leave no trace in the notebook: no output
    shown, no execution count used, no history."""
    return {"code": code, "silent": True, "store_history": False, "stop_on_error": False}


def _preload_code(modules: tuple[str, ...]) -> str:
    """Code importing ``modules`` without binding a name in the kernel's namespace."""
    names = ", ".join(repr(m) for m in modules)
    return f"[__import__('importlib').import_module(m) for m in ({names},)]"


def _environment_code(name: str, value: str | None) -> str:
    """Code setting (or removing, for ``None``) one environment variable in the kernel."""
    if value is None:
        return f"__import__('os').environ.pop({name!r}, None)"
    return f"__import__('os').environ[{name!r}] = {value!r}"


def _manager_class() -> Any:
    from jupyter_client.manager import AsyncKernelManager

    class Manager(AsyncKernelManager):  # type: ignore[misc]
        """A kernel manager that remembers the clients it made (nbclient does not
        close the channels of a kernel it did not start)."""

        def client(self, **kwargs: Any) -> Any:
            kc = super().client(**kwargs)
            self.b2b_clients = [*getattr(self, "b2b_clients", []), kc]
            return kc

    return Manager


class WarmKernel:
    """A kernel started now in ``cwd``, importing :data:`PRELOAD` in the background.

    Parameters
    ----------
    cwd
        The kernel's working directory: the notebooks' folder (papermill's ``cwd``).
    preload
        The modules the kernel imports while it waits.
    """

    def __init__(self, cwd: str, preload: tuple[str, ...] = PRELOAD) -> None:
        self.cwd = str(cwd)
        self.preload = preload
        #: How many kernels this one took to start (more than one: see :meth:`hand_over`).
        self.starts = 0
        self._kc: Any = None
        self._failure: BaseException | None = None
        self._start()
        self._thread = threading.Thread(
            target=self._prepare_apart, args=(preload,), daemon=True, name="b2b-kernel-preload"
        )
        self._thread.start()

    def _start(self) -> None:
        """Start a kernel process with a new manager (new ports)."""
        from jupyter_core.utils import run_sync

        self.km = _manager_class()(kernel_name=KERNEL)
        self.starts += 1
        run_sync(self.km.start_kernel)(cwd=self.cwd, extra_arguments=[HISTORY])

    def _alive(self) -> bool:
        from jupyter_core.utils import run_sync

        try:
            return bool(run_sync(self.km.is_alive)())
        except Exception:  # no kernel to ask about
            return False

    def _request(self, code: str) -> None:
        """Run ``code`` silently and wait for its reply (its status is not checked:
        an import that fails here fails again, visibly, in the notebook's cell); a
        kernel that dies meanwhile fails at once, not after the timeout."""
        msg_id = self._kc.execute(**_silent(code))
        deadline = time.monotonic() + KERNEL_START_TIMEOUT
        while True:
            try:
                reply = self._kc.get_shell_msg(timeout=1.0)
            except queue.Empty:
                if not self._alive():
                    raise RuntimeError("the kernel died while it started") from None
                if time.monotonic() > deadline:
                    message = f"no reply from the kernel in {KERNEL_START_TIMEOUT} s"
                    raise TimeoutError(message) from None
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                return

    def _prepare(self, preload: tuple[str, ...]) -> None:
        """Connect, wait for the kernel, import ``preload`` (in the background
        thread; in the caller's for a kernel started again)."""
        from jupyter_client.blocking import BlockingKernelClient

        try:
            info = self.km.get_connection_info(session=True)
            # parent: the client asks the manager whether the kernel still runs
            self._kc = BlockingKernelClient(
                **info, connection_file=self.km.connection_file, parent=self.km
            )
            self._kc.start_channels()
            self._kc.wait_for_ready(timeout=KERNEL_START_TIMEOUT)
            if preload:
                self._request(_preload_code(preload))
        except BaseException as exc:  # reported when the kernel is taken
            self._failure = exc

    def _prepare_apart(self, preload: tuple[str, ...]) -> None:
        """:meth:`_prepare` in a thread of its own, which then closes the event loop
        jupyter_client's calls made for it."""
        from jupyter_core.utils import ensure_event_loop

        try:
            self._prepare(preload)
        finally:
            ensure_event_loop().close()

    def hand_over(self, environment: dict[str, str | None]) -> Any:
        """The kernel manager for papermill, once the kernel is ready, with
        ``environment`` set in the kernel (a ``None`` value removes the variable).

        A kernel that died before that (a kernel exits when one of the ports its
        manager picked was taken meanwhile by another process: "Kernel died before
        replying to kernel_info") is replaced by a new one, up to
        :data:`START_ATTEMPTS` kernels in all. Raises what went wrong otherwise."""
        self._thread.join()
        while not self._alive() and self.starts < START_ATTEMPTS:
            # to the worker's log (OUT/.workers.log), after the kernel's own traceback
            print(
                f"b2b-analysis: a kernel in {self.cwd} exited as it started"
                f" ({self._failure or 'after it was ready'}); starting another",
                file=sys.stderr,
                flush=True,
            )
            self._close_kernel()
            self._failure = None
            self._start()
            self._prepare(self.preload)
        if self._failure is None and not self._alive():
            self._failure = RuntimeError(f"the kernel died {self.starts} times as it started")
        if self._failure is not None:
            raise self._failure
        for name, value in environment.items():
            self._request(_environment_code(name, value))
        self._kc.stop_channels()
        self._kc = None
        return self.km

    def close(self) -> None:
        """Shut the kernel down now and close every channel to it."""
        self._thread.join(timeout=1.0)
        self._close_kernel()

    def _close_kernel(self) -> None:
        from jupyter_core.utils import run_sync

        for kc in [self._kc, *getattr(self.km, "b2b_clients", [])]:
            if kc is not None:
                with contextlib.suppress(Exception):  # a channel already closed
                    kc.stop_channels()
        self._kc = None
        with contextlib.suppress(Exception):  # already gone
            run_sync(self.km.shutdown_kernel)(now=True)


#: This process's kernels started ahead of time, oldest first.
_SPARES: deque[WarmKernel] = deque()


def start_spare(cwd: str | Path) -> None:
    """Start a kernel in ``cwd`` for this process's next notebook (:func:`take`).

    A kernel that cannot start is not kept: the next notebook starts its own and
    reports the problem."""
    with contextlib.suppress(Exception):
        _SPARES.append(WarmKernel(str(Path(cwd).resolve())))


def take(cwd: str | Path) -> WarmKernel:
    """A kernel for a notebook run in ``cwd``: a spare started there, else a new one.

    Spares started elsewhere are shut down (the notebooks' folder changed).
    """
    where = str(Path(cwd).resolve())
    while _SPARES:
        kernel = _SPARES.popleft()
        if kernel.cwd == where:
            return kernel
        kernel.close()
    return WarmKernel(where)


def close_spares() -> None:
    """Shut down this process's kernels that no notebook took."""
    while _SPARES:
        _SPARES.popleft().close()
