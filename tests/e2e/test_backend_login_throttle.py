"""The clerk-login throttle is shared by every worker on one database (issue 15): with several
uvicorn workers a guesser must not get N times the tries. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import base64
import secrets

import requests

from backend_support import open_store
from refbackend.server import start_embedded
from refbackend.throttle import DatabaseLoginThrottle, Rule


def basic(password: str) -> str:
    return "Basic " + base64.b64encode(f"clerk:{password}".encode()).decode()


def test_two_workers_on_one_database_count_the_same_wrong_passwords(tmp_path):
    """Two backends (as two worker processes are) on one database, each with the default throttle:
    five wrong passwords from one client, spread over both, lock it out of both."""
    db = tmp_path / "district.sqlite3"
    password = secrets.token_urlsafe(12)
    first, second = open_store(db), open_store(db)
    workers = [start_embedded(first, clerk_password=password), start_embedded(second, clerk_password=password)]
    try:
        statuses = [requests.get(f"{workers[i % 2].url}/api/v1/clerk/terminals",
                                 headers={"Authorization": basic(f"guess-{i}")}, timeout=10).status_code
                    for i in range(6)]
        assert statuses[:4] == [401] * 4 and statuses[4:] == [429, 429], statuses
        for worker in workers:  # even the right password waits, at either worker
            answer = requests.get(f"{worker.url}/api/v1/clerk/terminals", headers={"Authorization": basic(password)},
                                  timeout=10)
            assert answer.status_code == 429 and int(answer.headers["Retry-After"]) >= 1
    finally:
        for worker in workers:
            worker.stop()


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


def test_the_database_throttle_forgets_what_is_over_and_stays_bounded(tmp_path):
    throttle = DatabaseLoginThrottle(open_store(tmp_path / "b.sqlite3").db, max_keys=50, prune_every=10**9)
    for address in range(120):
        throttle.failed([("client", f"10.0.{address}.1")], float(address))
    assert throttle.tracked() == 120
    throttle.prune(200.0)
    assert throttle.tracked() == 50  # the oldest went first
    assert throttle.retry_after([("client", "10.0.119.1")], 200.0) == 0
    throttle.failed([("client", "10.0.119.1")], 200.0)
    throttle.prune(200.0 + 2000)  # counts out of their window and no lock left: forgotten
    assert throttle.tracked() == 0
