"""A throwaway PostgreSQL cluster for the test session.

``PostgresCluster().start()`` runs ``initdb`` in a fresh folder under /tmp and starts the
server with ``pg_ctl`` on a free 127.0.0.1 port (socket dir in the same folder, fsync off,
trust auth: it is reachable only from this machine and lives for one session).
As root it runs the binaries as the ``postgres`` OS user (``runuser -u postgres``):
initdb refuses to run as root. Works on a fresh Debian 12 with only the ``postgresql``
package installed (binaries in /usr/lib/postgresql/<version>/bin).

``create_database()`` gives each server under test its own database and returns its
SQLAlchemy URL. ``stop()`` stops the server and removes the folder (also at exit).
"""
from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Self

PG_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    pass


def find_bindir() -> Path:
    """The newest /usr/lib/postgresql/<v>/bin with initdb, or $RTCC_PG_BINDIR."""
    if os.environ.get("RTCC_PG_BINDIR"):
        candidates = [os.environ["RTCC_PG_BINDIR"]]
    else:
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                            key=lambda p: int(Path(p).parent.name)
                            if Path(p).parent.name.isdigit() else 0, reverse=True)
    for c in candidates:
        if (Path(c) / "initdb").is_file() and (Path(c) / "pg_ctl").is_file():
            return Path(c)
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found (looked for initdb and pg_ctl in "
        f"{candidates or '/usr/lib/postgresql/*/bin'}): run scripts/setup.sh, or "
        "apt-get install postgresql, or set RTCC_PG_BINDIR")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresCluster:
    def __init__(self) -> None:
        self.bindir: Path | None = None
        self.root: Path | None = None
        self.port: int | None = None
        self._as_postgres = os.geteuid() == 0
        self._databases = 0

    @property
    def datadir(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self._as_postgres:
            cmd = ["runuser", "-u", PG_USER, "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, check=False)
        if proc.returncode != 0:
            raise PostgresUnavailable(f"{' '.join(args[:2])} failed ({proc.returncode}): "
                                      f"{(proc.stderr or proc.stdout).strip()[-800:]}")
        return proc

    def start(self) -> PostgresCluster:
        self.bindir = find_bindir()
        if self._as_postgres:
            try:
                pw = pwd.getpwnam(PG_USER)
            except KeyError:
                raise PostgresUnavailable(f"running as root but there is no {PG_USER!r} OS "
                                          "user to run PostgreSQL as") from None
        self.root = Path(tempfile.mkdtemp(prefix="rtcc-pg-"))  # /tmp: short socket path
        atexit.register(self.stop)
        if self._as_postgres:
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self._run(str(self.bindir / "initdb"), "-D", str(self.datadir), "-U", PG_USER,
                  "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", timeout=120)
        self.port = _free_port()
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-o", opts,
                  "-l", str(self.root / "server.log"), "-w", "-t", "60", "start", timeout=90)
        return self

    def admin_url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "rtcc") -> str:
        """A new, empty database; returns its SQLAlchemy URL."""
        import psycopg

        self._databases += 1
        name = f"{prefix}_{os.getpid()}_{self._databases}"
        with psycopg.connect(host="127.0.0.1", port=self.port, user=PG_USER, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.admin_url(name)

    def stop(self) -> None:
        root, self.root = self.root, None
        if root is None:
            return
        data = root / "data"
        if (data / "postmaster.pid").exists() and self.bindir is not None:
            try:
                cmd = [str(self.bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                       "stop"]
                if self._as_postgres:
                    cmd = ["runuser", "-u", PG_USER, "--", *cmd]
                subprocess.run(cmd, capture_output=True, timeout=30, stdin=subprocess.DEVNULL,
                               check=False)
            except (OSError, subprocess.TimeoutExpired):
                pass
            pidfile = data / "postmaster.pid"
            if pidfile.exists():  # pg_ctl failed: kill the postmaster ourselves
                with contextlib.suppress(OSError, ValueError, IndexError):
                    os.kill(int(pidfile.read_text().split()[0]), signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)
        with contextlib.suppress(ValueError):
            atexit.unregister(self.stop)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
