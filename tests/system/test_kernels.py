"""Kernels started ahead of time (:mod:`b2b_analysis.report.kernels`), with real
Jupyter kernels: a kernel that dies before its notebook comes is replaced."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from jupyter_client.blocking import BlockingKernelClient

from b2b_analysis.report import kernels

pytestmark = pytest.mark.slow


def _run(km: object, code: str) -> str:
    """What ``code`` prints in the kernel of ``km``."""
    kc = BlockingKernelClient(**km.get_connection_info(session=True))  # type: ignore[attr-defined]
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        printed: list[str] = []
        reply = kc.execute_interactive(
            code, timeout=60, output_hook=lambda m: printed.append(m["content"].get("text", ""))
        )
        assert reply["content"]["status"] == "ok"
        return "".join(printed)
    finally:
        kc.stop_channels()


def _kill(kernel: kernels.WarmKernel) -> int:
    pid = kernel.km.provisioner.pid
    os.kill(pid, signal.SIGKILL)
    return pid


def test_a_kernel_that_dies_as_it_starts_is_replaced(tmp_path: Path) -> None:
    # the way a port taken by another process ends a kernel: it exits before it
    # answers; the notebook gets a new kernel instead of "Kernel died before replying"
    kernel = kernels.WarmKernel(str(tmp_path), preload=())
    first = _kill(kernel)
    try:
        km = kernel.hand_over({"B2B_PROBE": "set"})
        assert kernel.starts == 2
        assert km.provisioner.pid != first
        out = _run(km, "import os; print(os.getcwd(), os.environ['B2B_PROBE'])")
        assert out.split() == [str(tmp_path), "set"]
    finally:
        kernel.close()


def test_a_kernel_that_died_while_waiting_is_replaced(tmp_path: Path) -> None:
    kernel = kernels.WarmKernel(str(tmp_path), preload=("json",))
    kernel._thread.join()
    assert kernel._failure is None  # it was ready, then died
    _kill(kernel)
    deadline = time.monotonic() + 30
    while kernel._alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        km = kernel.hand_over({})
        assert kernel.starts == 2
        assert _run(km, "import sys; print('json' in sys.modules)").strip() == "True"
    finally:
        kernel.close()


def test_a_kernel_that_keeps_dying_fails_the_notebook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kernel = kernels.WarmKernel(str(tmp_path), preload=())
    started = kernel._start

    def start_and_kill() -> None:
        started()
        _kill(kernel)

    monkeypatch.setattr(kernel, "_start", start_and_kill)
    _kill(kernel)
    try:
        with pytest.raises(RuntimeError, match=r"Kernel died|died 3 times"):
            kernel.hand_over({})
        assert kernel.starts == kernels.START_ATTEMPTS
    finally:
        kernel.close()


def test_a_kernel_that_dies_while_it_imports_is_replaced_without_waiting(tmp_path: Path) -> None:
    # the first kernel exits in the middle of its preload imports; it is noticed within
    # a second or two (not after the 300 s start timeout) and a second kernel is started
    (tmp_path / "b2b_dies_once.py").write_text(
        "import os, pathlib\n"
        "marker = pathlib.Path('died')\n"
        "if not marker.exists():\n"
        "    marker.write_text('')\n"
        "    os._exit(1)\n"
    )
    began = time.monotonic()
    kernel = kernels.WarmKernel(str(tmp_path), preload=("b2b_dies_once",))
    try:
        km = kernel.hand_over({})
        assert kernel.starts == 2
        assert (tmp_path / "died").exists()
        assert _run(km, "import sys; print('b2b_dies_once' in sys.modules)").strip() == "True"
    finally:
        kernel.close()
    assert time.monotonic() - began < 120
