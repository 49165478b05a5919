"""Where the clerk's password and the backend's database end up (issue 15): never in a log or on
the terminal, files readable by their owner only, and a loud warning for plain HTTP on a network."""
from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

from kiosk.config import DEMO_CONFIG_PATH, load_settings
from refbackend.embed import start_for_settings
from refbackend.server import plain_http_warning, prepare_store

ROOT = Path(__file__).resolve().parents[3]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_serve_writes_a_new_password_to_a_private_file_and_warns_about_plain_http(tmp_path):
    db = tmp_path / "backend.sqlite3"
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "backend", "serve", "--host", "0.0.0.0", "--port", "0", "--db", str(db),
         "--no-access-log"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        out = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            out.append(line)
            if line.startswith("clerk page:"):
                break
        time.sleep(0.5)
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)
    stdout = "".join(out)
    password_file = Path(str(db) + ".clerk-password")
    password = password_file.read_text().strip()
    assert len(password) >= 12 and mode(password_file) == 0o600
    assert password not in stdout and password not in err
    assert f"in {password_file}, mode 0600" in stdout
    assert "WARNING: serving plain HTTP on 0.0.0.0" in err
    assert mode(db) == 0o600
    for extra in (Path(f"{db}-wal"), Path(f"{db}-shm")):
        if extra.exists():
            assert mode(extra) == 0o600


def test_plain_http_is_fine_on_loopback_and_with_tls():
    for host in ("127.0.0.1", "127.1.2.3", "::1", "localhost"):
        assert plain_http_warning(host, tls=False) is None
    assert plain_http_warning("0.0.0.0", tls=True) is None
    assert "unencrypted" in plain_http_warning("192.168.1.20", tls=False)


def test_an_existing_world_readable_database_is_narrowed(tmp_path):
    db = tmp_path / "old.sqlite3"
    prepare_store(db, catalog=None).close()
    os.chmod(db, 0o644)
    prepare_store(db, catalog=None).close()
    assert mode(db) == 0o600


def test_the_demo_backend_logs_where_the_password_is_not_the_password(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("KIOSK_STATE_DIR", str(tmp_path / "state"))
    with caplog.at_level(logging.DEBUG):
        embedded = start_for_settings(load_settings(DEMO_CONFIG_PATH))
    try:
        password_file = tmp_path / "state" / "clerk-password"
        assert password_file.read_text().strip() == embedded.clerk_password
        assert mode(password_file) == 0o600
        logged = caplog.text + "".join(str(r.args) for r in caplog.records)
        assert "/clerk" in logged and str(password_file) in logged
        assert embedded.clerk_password not in logged
    finally:
        embedded.stop()
    assert not password_file.exists()
