"""Fixtures of the system tests: servers, a browser and the shared ``report`` runs.

Every test under ``tests/system`` starts processes (the command line, ``report``
with its workers and Jupyter kernels, PostgreSQL, Chromium, JupyterLab), so
:func:`pytest_collection_modifyitems` marks them all ``slow``:
``scripts/test.sh -m "not slow"`` runs the unit tests only.

The PostgreSQL machinery lives in ``tests/support/pg_server.py``, the report runs
in ``tests/support/reportkit.py``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.support.clientkit import run_cli
from tests.support.pg_server import PASSWORD, PgServer, PgUnavailable, find_bindir, make_dsn
from tests.support.reportkit import (
    Built,
    KillSequence,
    Run,
    build_demo_reports,
    run_kill_sequence,
    run_without_broken,
)

HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test collected under ``tests/system`` as ``slow``."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.slow)


# ------------------------------------------------------------------ PostgreSQL

_HOW_TO = "run the tests with scripts/test.sh, which installs the postgresql package"


def _unavailable(reason: str) -> NoReturn:
    """Fail under CI (the server must be there), skip on a dev machine."""
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL unavailable: {reason}; {_HOW_TO}", pytrace=False)
    pytest.skip(f"PostgreSQL unavailable: {reason}; {_HOW_TO}")


@pytest.fixture(scope="session")
def postgres_password() -> str:
    """The raw password of the test server's ``b2b`` user (to check it never leaks)."""
    return PASSWORD


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """DSN of a real throwaway PostgreSQL server, user/database ``b2b``.

    ``postgresql://b2b:<url-encoded password>@127.0.0.1:<port>/b2b``; password
    (scram-sha-256) authentication is enforced. Stopped and deleted at the end
    of the session.
    """
    bindir = find_bindir()
    if bindir is None:
        _unavailable(
            "no server binaries (initdb) under /usr/lib/postgresql/*/bin or $B2B_PG_BINDIR"
        )
    server = PgServer(bindir)
    try:
        server.start()
    except PgUnavailable as exc:
        _unavailable(str(exc))
    try:
        yield server.dsn
    finally:
        server.stop()


@pytest.fixture(scope="session")
def closed_port_dsn() -> Iterator[str]:
    """DSN for 127.0.0.1 at a port where nothing listens (server down).

    The port stays bound, but not listening, for the whole session: no other
    process can take it and connecting is refused at once.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield make_dsn(sock.getsockname()[1])


# ------------------------------------------------------------------ Chromium

#: Debian's Chromium, driven by Playwright (never ``playwright install``).
CHROMIUM = os.environ.get("B2B_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo client made the way a user would (``b2b-analysis generate --profile acme
    --orders 4000 --params``): the path of its params file."""
    folder = tmp_path_factory.mktemp("acme")
    result = run_cli("generate", str(folder / "data"), "--profile", "acme", "--orders", "4000",
                     "--params", str(folder / "acme.yaml"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    return folder / "acme.yaml"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium for the module; fails under CI when it is missing."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        reason = f"no Chromium at {CHROMIUM}; scripts/test.sh installs Debian's chromium"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


# ------------------------------------------------------------------ JupyterLab


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab server started by :func:`jupyterlab`."""

    base: str  #: ``http://127.0.0.1:<port>``
    token: str
    log: Path  #: the server's (and its kernels') output

    def url(self, path: str) -> str:
        """The address that opens ``path`` (relative to the served folder) in Lab."""
        return f"{self.base}/lab/tree/{path}?token={self.token}"

    def serves(self, url: str) -> bool:
        """Whether a browser request stays on this machine: the server's HTTP, its
        kernel websockets, or a ``data:`` URL (Lab's own inlined icons and fonts)."""
        websocket = self.base.replace("http://", "ws://", 1)
        return url.startswith((f"{self.base}/", f"{websocket}/", "data:"))


def _start_lab(root: Path, log: Path) -> tuple[subprocess.Popen[bytes], Lab]:
    """Start JupyterLab on ``root``; return once ``/api/status`` answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    lab = Lab(f"http://127.0.0.1:{port}", secrets.token_hex(16), log)
    state = root / ".jupyter"
    # no "notified about Jupyter news?" toast over the notebook (and no news fetched)
    settings = state / "config" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    env = {
        **os.environ,  # PYTHONPATH included: the kernels import this checkout's package
        "JUPYTER_CONFIG_DIR": str(state / "config"),  # user settings and workspaces too
        "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
    }
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
             "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
             f"--IdentityProvider.token={lab.token}", f"--ServerApp.root_dir={root}",
             "--LabApp.news_url=",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
            cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{lab.base}/api/status?token={lab.token}", timeout=2):
                return server, lab
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                _stop(server)
                pytest.fail(f"JupyterLab did not start:\n{log.read_text()}", pytrace=False)
            time.sleep(0.5)


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Stop a server and its kernels (SIGTERM, then SIGKILL after 30 s)."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[Path], Lab]]:
    """Starts real JupyterLab servers for the module: ``jupyterlab(root)`` serves the
    folder ``root`` on 127.0.0.1 at a free port with a random token and returns a
    :class:`Lab` once the server answers.

    Each server has its own config, runtime, user settings and workspaces under
    ``root/.jupyter`` (nothing from ``~/.jupyter``), fetches no news and checks for
    no update; its kernels inherit the environment, so they import this checkout's
    package. Its output goes to a ``jupyterlab.log`` in a temporary folder (see
    :attr:`Lab.log`). The servers, and their kernels, are stopped when the module ends.
    """
    servers: list[subprocess.Popen[bytes]] = []

    def start(root: Path) -> Lab:
        server, lab = _start_lab(root, tmp_path_factory.mktemp("lab-log") / "jupyterlab.log")
        servers.append(server)
        return lab

    try:
        yield start
    finally:
        for server in servers:
            _stop(server)


# ------------------------------------------------------------------ report runs


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The session's demo report run: ``report`` over the three demo clients (3,000
    orders each) and ``broken`` (its KPI step fails: no notebook runs), with two workers.

    Shared by the report, browser, faults and reproducibility tests; see
    :func:`tests.support.reportkit.build_demo_reports`.
    """
    return build_demo_reports(tmp_path_factory.mktemp("reports"))


@pytest.fixture(scope="session")
def pair(built: Built, tmp_path_factory: pytest.TempPathFactory) -> tuple[Built, Run]:
    """The demo run :func:`built`, and ``report --all`` over two of its good clients
    alone (the very same params files), in other processes at another time.

    Shared by the faults tests (same outputs byte for byte) and the
    reproducibility tests (what may differ, and where).
    """
    return built, run_without_broken(built, tmp_path_factory.mktemp("without-broken"))


@pytest.fixture(scope="session")
def kills(tmp_path_factory: pytest.TempPathFactory) -> KillSequence:
    """Two tiny clients (client one's retention notebook fails) run, SIGKILLed,
    re-run, killed again and run once more; see
    :class:`tests.support.reportkit.KillSequence`.

    Shared by the faults tests and the reproducibility tests.
    """
    return run_kill_sequence(tmp_path_factory.mktemp("kill"))
