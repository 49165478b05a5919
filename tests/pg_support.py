"""A throw-away PostgreSQL server for the backend tests (Debian's ``postgresql`` package).

``PostgresServer.start()`` runs ``initdb`` and ``pg_ctl`` from ``/usr/lib/postgresql/*/bin``
(or ``PG_BIN``) in a new folder (in ``/dev/shm`` when there is one: tests need no durability,
and the cluster runs with fsync off; ``durable=True`` keeps PostgreSQL's defaults, for benchmarks), listening on 127.0.0.1 on a free port. As root the
server runs as the unprivileged ``postgres`` user (``runuser``), since PostgreSQL refuses root.
``new_database()`` gives a fresh, already migrated database: a copy of a template migrated
once. ``stop()`` ends the server and removes the folder.

``available()`` says why no server can be started (no binaries), so a test can skip with a
reason instead of failing on a machine without the package.
"""
from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

USER = "kiosk"


def pg_bin() -> Path | None:
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def available() -> str | None:
    """None when a server can be started here, else the reason it cannot."""
    if pg_bin() is None:
        return "PostgreSQL server binaries not found (apt-get install postgresql, or set PG_BIN)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    def __init__(self, durable: bool = False) -> None:
        """``durable``: fsync on, data on disk (benchmarks: figures comparable with SQLite's FULL sync)."""
        self.bin = pg_bin()
        self.durable = durable
        shm = os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) and not durable
        base = "/dev/shm" if shm else None
        self.dir = Path(tempfile.mkdtemp(prefix="refbackend-pg-", dir=base))
        self.data = self.dir / "data"
        self.port = _free_port()
        self._as: list[str] = []
        self._counter = itertools.count(1)
        self.template = "refbackend_template"

    def _run(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run([*self._as, *args], check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, **kwargs)

    def start(self) -> "PostgresServer":
        if os.geteuid() == 0:
            os.chmod(self.dir, 0o755)
            shutil.chown(self.dir, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", USER, "-E", "UTF8",
                  "--locale", "C.UTF-8", "--no-sync")
        options = f"-p {self.port} -k {self.dir} -h 127.0.0.1 -c max_connections=200 -c shared_buffers=128MB"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"),
                  "-w", "-t", "30", "start")
        self._sql(f"CREATE DATABASE {self.template}")
        from refbackend.store import ReferenceStore

        files = tempfile.mkdtemp(prefix="refbackend-template-files-")
        ReferenceStore(self.url(self.template), files=files).close()  # migrated once, copied per test
        shutil.rmtree(files, ignore_errors=True)
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def _sql(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(statement)

    def new_database(self, migrated: bool = True) -> str:
        """The URL of a new empty database, migrated (a copy of the template) unless ``migrated`` is False."""
        name = f"t{os.getpid()}_{next(self._counter)}"
        self._sql(f"CREATE DATABASE {name}" + (f" TEMPLATE {self.template}" if migrated else ""))
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
