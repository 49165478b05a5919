"""The reference backend's database layer: one small interface over SQLite and PostgreSQL.

``open_database(target)`` takes a file path (or ``:memory:``) for SQLite, the embedded default,
or a ``postgresql://USER@HOST:PORT/DBNAME`` URL for a district backend with several workers.
The store (``refbackend.store``) writes plain SQL with ``?`` placeholders and reads rows by
column name or position; this layer runs that SQL on either database:

- ``transaction()``: one write transaction. On SQLite ``BEGIN IMMEDIATE`` on the one shared
  connection under a lock (two writers never deadlock half-way; other processes wait on the
  file lock); on PostgreSQL a connection from a pool (``psycopg_pool``), committed at the end.
  Any exception rolls the whole transaction back and is re-raised. A transaction opened inside
  another on the same thread joins it, so a helper never takes a second connection.
- ``read()``: the same for reading (no write lock on SQLite).
- ``transaction(durable=False)``: a write whose loss in a power cut is harmless (a nonce): on
  SQLite through a second connection without an fsync per commit, on PostgreSQL with
  ``synchronous_commit`` off for that transaction.
- ``lock(conn, key)``: serialises transactions that touch the same thing (an idempotency key,
  a terminal's doors, a case) with ``pg_advisory_xact_lock`` on PostgreSQL; on SQLite the write
  transaction already excludes every other writer, so it does nothing there.
- ``for_update``: `` FOR UPDATE`` on PostgreSQL, empty on SQLite.
- ``IntegrityError``: the exception class(es) of a violated unique key, on either database.

Why psycopg 3 directly and not SQLAlchemy Core: the store's queries are already written SQL
that both databases accept, so a query builder would only wrap text; psycopg is one
well-kept dependency (plus its pool), speaks PostgreSQL's protocol natively, and keeps the
layer a few dozen lines that the next engineer can read whole.
"""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Sequence
from urllib.parse import urlsplit

#: connections each process keeps to PostgreSQL at most (uvicorn runs sync routes on 40 threads)
POOL_MAX = 16


class DatabaseUnavailable(Exception):
    """The database cannot be opened or reached; the message says which and why (no password)."""


def is_postgresql(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def describe(target: str | Path) -> str:
    """The database for messages and logs: a file path, or the URL without its password."""
    if not is_postgresql(target):
        return str(target)
    parts = urlsplit(str(target))
    host = parts.hostname or "localhost"
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return f"postgresql://{user}{host}{port}{parts.path}"


def check_target(target: str | Path) -> None:
    """Refuse a URL of another database before anything is written for it (``mysql://…`` is
    not a SQLite file name)."""
    if not is_postgresql(target) and isinstance(target, str) and "://" in target:
        raise DatabaseUnavailable(f"unsupported database URL {target.split('://')[0]}://…: give a SQLite file "
                                  "path or postgresql://USER@HOST:PORT/DBNAME")


def open_database(target: str | Path) -> "Database":
    """SQLite for a path or ``:memory:``; PostgreSQL for a ``postgresql://`` URL."""
    check_target(target)
    if is_postgresql(target):
        return PostgresDatabase(str(target))
    return SqliteDatabase(target)


class Database:
    """What the store needs from a database (see the module docstring)."""

    dialect = ""
    for_update = ""
    IntegrityError: tuple[type[BaseException], ...] = ()

    def __init__(self) -> None:
        self._local = threading.local()

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[Any]:
        current = getattr(self._local, "conn", None)
        if current is not None:  # joins the transaction this thread already has open
            if not self._local.write:
                raise RuntimeError("a write transaction was opened inside a read: open the write first")
            yield current
            return
        with self._begin(write=True, durable=durable) as conn:
            self._local.conn, self._local.write = conn, True
            try:
                yield conn
            finally:
                self._local.conn = None

    @contextmanager
    def read(self) -> Iterator[Any]:
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        with self._begin(write=False) as conn:
            self._local.conn, self._local.write = conn, False
            try:
                yield conn
            finally:
                self._local.conn = None

    def _begin(self, write: bool, durable: bool = True):  # pragma: no cover - provided by each database
        raise NotImplementedError

    def lock(self, conn: Any, key: str) -> None:
        """Hold ``key`` until the end of the transaction (PostgreSQL); nothing on SQLite."""

    def columns(self, conn: Any, table: str) -> set[str]:
        raise NotImplementedError  # pragma: no cover

    def tables(self, conn: Any) -> set[str]:
        raise NotImplementedError  # pragma: no cover

    def close(self) -> None:
        raise NotImplementedError  # pragma: no cover


class SqliteDatabase(Database):
    dialect = "sqlite"
    IntegrityError = (sqlite3.IntegrityError,)

    def __init__(self, path: str | Path):
        super().__init__()
        self.path = str(path)
        self.memory = self.path == ":memory:"
        self._lock = threading.RLock()
        if not self.memory:
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseUnavailable(f"cannot create the folder of {self.path}: {exc.strerror}") from None
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            self._conn.row_factory = sqlite3.Row
            if not self.memory:
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._fast = self._conn
            if not self.memory:
                self._fast = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
                self._fast.row_factory = sqlite3.Row
                self._fast.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as exc:
            raise DatabaseUnavailable(f"cannot open the SQLite database {self.path}: {exc}") from None

    @contextmanager
    def _begin(self, write: bool, durable: bool = True) -> Iterator[sqlite3.Connection]:
        conn = self._conn if durable else self._fast
        with self._lock:
            if not write:
                yield conn
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def columns(self, conn: sqlite3.Connection, table: str) -> set[str]:
        return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}

    def tables(self, conn: sqlite3.Connection) -> set[str]:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}

    def close(self) -> None:
        with self._lock:
            if self._fast is not self._conn:
                self._fast.close()
            self._conn.close()


# -- PostgreSQL -------------------------------------------------------------------------------

@lru_cache(maxsize=1024)
def _pg_sql(sql: str) -> str:
    """``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled first)."""
    return sql.replace("%", "%%").replace("?", "%s")


class Row(tuple):
    """A result row read by position (``row[0]``, unpacking) or by column name (``row["x"]``)."""

    __slots__ = ()
    _index: dict[str, int]

    def __getitem__(self, key):  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


@lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"__slots__": (), "_index": {n: i for i, n in enumerate(names)}})


def _row_factory(cursor):
    cls = _row_class(tuple(d.name for d in cursor.description) if cursor.description else ())
    return cls


class _PgConnection:
    """A pooled psycopg connection that takes the store's ``?`` SQL."""

    __slots__ = ("raw",)

    def __init__(self, raw: Any):
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(_pg_sql(sql), tuple(params) if params else None)


class PostgresDatabase(Database):
    dialect = "postgresql"
    for_update = " FOR UPDATE"

    def __init__(self, url: str):
        super().__init__()
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ModuleNotFoundError:
            raise DatabaseUnavailable("PostgreSQL needs psycopg: install 'heyiban-kiosk[refbackend]'") from None
        self.url = url
        self.IntegrityError = (psycopg.errors.IntegrityError,)
        try:  # one plain connection first: fails at once with the server's reason (the pool would retry)
            psycopg.connect(url, connect_timeout=10).close()
        except psycopg.Error as exc:
            reason = " ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__
            raise DatabaseUnavailable(f"cannot connect to {describe(url)}: {reason}") from None
        self._pool = ConnectionPool(url, min_size=1, max_size=POOL_MAX, open=False, timeout=30,
                                    kwargs={"row_factory": _row_factory}, name="refbackend")
        try:
            self._pool.open(wait=True, timeout=15)
        except Exception as exc:  # psycopg_pool.PoolTimeout, psycopg.OperationalError
            self._pool.close()
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DatabaseUnavailable(f"cannot connect to {describe(url)}: {reason}") from None

    @contextmanager
    def _begin(self, write: bool, durable: bool = True) -> Iterator[_PgConnection]:
        with self._pool.connection() as raw:  # commits at the end, rolls back on an exception
            conn = _PgConnection(raw)
            if not durable:
                conn.execute("SET LOCAL synchronous_commit = off")
            yield conn

    def lock(self, conn: _PgConnection, key: str) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (key,))

    def columns(self, conn: _PgConnection, table: str) -> set[str]:
        return {row[0] for row in conn.execute("SELECT column_name FROM information_schema.columns "
                                               "WHERE table_schema = current_schema() AND table_name = ?", (table,))}

    def tables(self, conn: _PgConnection) -> set[str]:
        return {row[0] for row in conn.execute("SELECT table_name FROM information_schema.tables "
                                               "WHERE table_schema = current_schema()")}

    def close(self) -> None:
        self._pool.close()


__all__ = ["Database", "DatabaseUnavailable", "POOL_MAX", "PostgresDatabase", "Row", "SqliteDatabase", "describe",
           "is_postgresql", "open_database"]
