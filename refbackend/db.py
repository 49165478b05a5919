"""One way the reference backend writes to SQLite: an immediate transaction under the store's lock.

``BEGIN IMMEDIATE`` takes the write lock up front, so two writers never deadlock half-way;
any exception rolls the whole transaction back and is re-raised.
"""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def immediate_transaction(conn: sqlite3.Connection, lock: threading.Lock | threading.RLock
                          ) -> Iterator[sqlite3.Connection]:
    with lock:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
