"""A real, throwaway PostgreSQL server for the tests.

Uses Debian's server binaries (``/usr/lib/postgresql/<version>/bin``, the
highest version found; ``B2B_PG_BINDIR`` overrides). The cluster lives in a
fresh temporary directory, listens only on 127.0.0.1 at a free port plus a unix
socket inside that directory, and requires scram-sha-256 password
authentication for every connection.

PostgreSQL refuses to run as root, so when the tests run as root the directory
is owned by the ``postgres`` system user and ``initdb``/``pg_ctl`` run through
``runuser -u postgres --``.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg

USER = "b2b"
DATABASE = "b2b"
#: Contains characters that must be URL-encoded in a DSN (``@`` and ``/``).
PASSWORD = "s3cr3t-P@ss/word"

READY_TIMEOUT_S = 30.0


class PgUnavailable(RuntimeError):
    """The PostgreSQL server binaries (or the ``postgres`` user) are missing."""


def find_bindir() -> Path | None:
    """The ``bin`` directory of the highest installed PostgreSQL version."""
    override = os.environ.get("B2B_PG_BINDIR")
    if override:
        path = Path(override)
        return path if (path / "initdb").is_file() else None
    candidates = []
    for initdb in Path("/usr/lib/postgresql").glob("*/bin/initdb"):
        version = initdb.parent.parent.name
        key = tuple(int(part) for part in re.findall(r"\d+", version))
        candidates.append((key, initdb.parent))
    if not candidates:
        return None
    return max(candidates)[1]


def make_dsn(port: int, password: str = PASSWORD, host: str = "127.0.0.1") -> str:
    """A ``postgresql://`` URL with the user and password URL-encoded."""
    return (
        f"postgresql://{quote(USER, safe='')}:{quote(password, safe='')}"
        f"@{host}:{port}/{quote(DATABASE, safe='')}"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PgServer:
    """A throwaway cluster; use :meth:`start` and :meth:`stop` (or ``with``)."""

    bindir: Path
    port: int = 0
    basedir: Path | None = None
    _run_as: list[str] = field(default_factory=list)
    _owner: tuple[int, int] | None = None

    @property
    def datadir(self) -> Path:
        assert self.basedir is not None
        return self.basedir / "data"

    @property
    def sockdir(self) -> Path:
        assert self.basedir is not None
        return self.basedir / "sock"

    @property
    def logfile(self) -> Path:
        assert self.basedir is not None
        return self.basedir / "server.log"

    @property
    def dsn(self) -> str:
        return make_dsn(self.port)

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> PgServer:
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise PgUnavailable(
                    "running as root but there is no 'postgres' system user "
                    "(install the postgresql package)"
                ) from None
            self._owner = (pw.pw_uid, pw.pw_gid)
            self._run_as = ["runuser", "-u", "postgres", "--"]
            # The postgres user must be able to reach the directory, so not
            # under a root-only TMPDIR.
            parent = "/tmp"
        else:
            parent = None
        self.basedir = Path(tempfile.mkdtemp(prefix="b2b-pg-", dir=parent))
        try:
            self._initdb()
            self._start_server()
            self._wait_ready()
            self._create_database()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.basedir is None:
            return
        if (self.datadir / "postmaster.pid").exists():
            self._run(
                [str(self.bindir / "pg_ctl"), "stop", "-D", str(self.datadir), "-m", "immediate"],
                check=False,
            )
        shutil.rmtree(self.basedir, ignore_errors=True)
        self.basedir = None

    def __enter__(self) -> PgServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- steps -------------------------------------------------------------

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [*self._run_as, *args],
            cwd=self.basedir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"{Path(args[0]).name} failed (exit {proc.returncode}):\n"
                f"{proc.stdout}\n{proc.stderr}\n{self._log_tail()}"
            )
        return proc

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = self.logfile.read_text(errors="replace")
        except OSError:
            return ""
        return "server log (tail):\n" + "\n".join(text.splitlines()[-lines:])

    def _initdb(self) -> None:
        assert self.basedir is not None
        self.sockdir.mkdir()
        pwfile = self.basedir / "pwfile"
        pwfile.write_text(PASSWORD + "\n")
        pwfile.chmod(0o600)
        if self._owner is not None:
            for path in (self.basedir, self.sockdir, pwfile):
                os.chown(path, *self._owner)
        self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                USER,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        pwfile.unlink()
        (self.datadir / "pg_hba.conf").write_text(
            "# TYPE  DATABASE  USER  ADDRESS       METHOD\n"
            "local   all       all                 scram-sha-256\n"
            "host    all       all   127.0.0.1/32  scram-sha-256\n"
        )
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# b2b-analysis test server\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.sockdir}'\n"
                "password_encryption = 'scram-sha-256'\n"
                "max_connections = 50\n"
                "shared_buffers = 32MB\n"
                "fsync = off\n"
                "synchronous_commit = off\n"
                "full_page_writes = off\n"
                "timezone = 'UTC'\n"
                "log_timezone = 'UTC'\n"
            )

    def _start_server(self) -> None:
        # The port is picked just before binding; retry if someone grabbed it.
        for attempt in range(3):
            self.port = free_port()
            if self._owner is not None:
                self.logfile.touch()
                os.chown(self.logfile, *self._owner)
            proc = self._run(
                [
                    str(self.bindir / "pg_ctl"),
                    "start",
                    "-D",
                    str(self.datadir),
                    "-l",
                    str(self.logfile),
                    "-o",
                    f"-p {self.port}",
                    "-w",
                    "-t",
                    str(int(READY_TIMEOUT_S)),
                ],
                check=False,
            )
            if proc.returncode == 0:
                return
            if attempt < 2 and "could not bind" in self._log_tail():
                continue
            raise RuntimeError(
                f"pg_ctl start failed (exit {proc.returncode}):\n"
                f"{proc.stdout}\n{proc.stderr}\n{self._log_tail()}"
            )

    def _connect(self, dbname: str, timeout: int = 5) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=USER,
            password=PASSWORD,
            dbname=dbname,
            connect_timeout=timeout,
            autocommit=True,
        )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                with self._connect("postgres", timeout=2):
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"PostgreSQL not ready after {READY_TIMEOUT_S:.0f} s: {exc}\n"
                        f"{self._log_tail()}"
                    ) from None
                time.sleep(0.2)

    def _create_database(self) -> None:
        with self._connect("postgres") as conn:
            conn.execute(f'CREATE DATABASE "{DATABASE}" OWNER "{USER}"')
