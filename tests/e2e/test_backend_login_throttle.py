"""The clerk-login throttle in the database follows its rules across workers (issue 15); two
servers on one database: tests/kiosk/backend/test_http_hardening.py. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

from backend_support import open_store
from refbackend.throttle import DatabaseLoginThrottle, Rule


def test_the_database_throttle_follows_the_rules(tmp_path):
    store = open_store(tmp_path / "b.sqlite3")
    other_worker = DatabaseLoginThrottle(open_store(tmp_path / "b.sqlite3").db,
                                         {"client": Rule(limit=5), "account": Rule(limit=20, base_lock=60)})
    throttle = DatabaseLoginThrottle(store.db, {"client": Rule(limit=5), "account": Rule(limit=20, base_lock=60)})
    now = 1000.0
    for address in range(20):  # a guesser with many addresses, through both workers
        (throttle if address % 2 else other_worker).failed([("client", f"10.0.0.{address}"), ("account", "clerk")],
                                                           now)
    assert throttle.retry_after([("client", "10.0.1.1"), ("account", "clerk")], now) == 60
    assert other_worker.retry_after([("account", "clerk")], now) == 60
    for _ in range(10):  # the lock doubles with each further wrong password, up to 15 minutes
        throttle.failed([("client", "10.0.2.2"), ("account", "clerk")], now)
    assert other_worker.retry_after([("account", "clerk")], now) == 900
    assert throttle.retry_after([("account", "clerk")], now + 901) == 0
    # a right password clears the client's own count, never the account's
    for _ in range(4):
        throttle.failed([("client", "10.9.9.9")], now)
    other_worker.succeeded([("client", "10.9.9.9"), ("account", "clerk")], now)
    assert throttle.failed([("client", "10.9.9.9")], now) == 0
    assert throttle.retry_after([("account", "clerk")], now) == 900
