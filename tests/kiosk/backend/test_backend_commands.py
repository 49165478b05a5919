"""``kiosk backend …`` as a technician runs it: serve, register a terminal, check, sync, outbox."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from backend_support import catalog_items, settings_for
from kiosk.backend.signing import read_key_file
from kiosk.cli import main

ROOT = Path(__file__).resolve().parents[3]


def run_cli(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "kiosk.cli", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=60)


def write_config(backend, tmp_path):
    settings_for(backend, tmp_path)  # validates the same text
    text = (f'[terminal]\nid = "{backend.terminal_id}"\nname = "测试终端"\n\n[backend]\nurl = "{backend.url}"\n'
            f'terminal_key = "{backend.key_text}"\noutbox_path = "{tmp_path / "outbox.sqlite3"}"\n'
            f'outbox_key_file = "{tmp_path / "outbox.key"}"\ncatalog_cache_path = "{tmp_path / "catalog.sqlite3"}"\n')
    path = tmp_path / "kiosk.toml"
    path.write_text(text, "utf-8")
    return path


def test_serve_runs_a_real_server_that_accepts_a_registered_terminal(tmp_path):
    key_file = tmp_path / "t.key"
    assert main(["backend", "keygen", str(key_file)]) == 0
    assert main(["backend", "keygen", str(key_file)]) == 1  # never overwrites a key
    catalog = tmp_path / "items.json"
    catalog.write_text(json.dumps([i.model_dump(mode="json") for i in catalog_items()], ensure_ascii=False), "utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    server = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "backend", "serve", "--port", "0", "--db",
                               str(tmp_path / "b.sqlite3"), "--terminal", f"HK-CLI-001={key_file}",
                               "--catalog", str(catalog), "--no-access-log"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env, cwd=ROOT)
    try:
        line = server.stdout.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+)", line).group(1)
        assert "clerk page" in server.stdout.readline()
        for _ in range(100):
            try:
                requests.get(url + "/healthz", timeout=1)
                break
            except requests.ConnectionError:
                import time
                time.sleep(0.05)
        from kiosk.backend.client import BackendClient

        client = BackendClient(url, "HK-CLI-001", read_key_file(key_file))
        page, _ = client.catalog_changes(0)
        assert page.full and len(page.items) == len(catalog_items())
        client.close()
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(15)
    # uvicorn shuts down cleanly, then lets SIGTERM take its default course.
    assert server.returncode in (0, -signal.SIGTERM)
    assert "Finished server process" in server.stderr.read()


def test_serve_explains_bad_arguments(tmp_path):
    result = run_cli("backend", "serve", "--terminal", "no-equals-sign", "--db", str(tmp_path / "b.sqlite3"))
    assert result.returncode == 2 and "ID=KEYFILE" in result.stderr and "Traceback" not in result.stderr
    bad_catalog = tmp_path / "c.json"
    bad_catalog.write_text('[{"code": "x"}]', "utf-8")
    result = run_cli("backend", "serve", "--catalog", str(bad_catalog), "--db", str(tmp_path / "b.sqlite3"))
    assert result.returncode == 2 and "item #1" in result.stderr and "Traceback" not in result.stderr


def test_add_terminal_creates_a_key_and_registers_it(tmp_path):
    db, key_file = tmp_path / "b.sqlite3", tmp_path / "k" / "t.key"
    assert main(["backend", "add-terminal", "--db", str(db), "--id", "HK-LH-001", "--key-file", str(key_file),
                 "--name", "六合街道 1号机", "--doors", "16"]) == 0
    from refbackend.store import ReferenceStore

    store = ReferenceStore(db)
    assert store.terminal_key("HK-LH-001") == read_key_file(key_file)
    store.close()


def test_check_sync_and_outbox_against_a_running_backend(backend, tmp_path, capsys):
    config = write_config(backend, tmp_path)
    assert main(["backend", "check", "--config", str(config)]) == 0
    assert "signature accepted" in capsys.readouterr().out
    assert main(["backend", "sync", "--config", str(config)]) == 0
    assert re.search(r"catalogue version \d+: \d+ changed", capsys.readouterr().out)
    assert main(["backend", "outbox", "--config", str(config)]) == 0
    assert "0 pending" in capsys.readouterr().out


def test_check_says_when_the_key_is_wrong(backend, tmp_path, capsys):
    from kiosk.backend.signing import generate_key

    config = write_config(backend, tmp_path)
    config.write_text(config.read_text("utf-8").replace(backend.key_text, generate_key()), "utf-8")
    assert main(["backend", "check", "--config", str(config)]) == 3
    error = capsys.readouterr().err
    assert "bad_signature" in error and "terminal_key_file" in error


def test_check_without_a_url_is_a_clear_configuration_error(tmp_path, capsys):
    config = tmp_path / "k.toml"
    config.write_text('[terminal]\nid = "HK-1"\nname = "x"\n', "utf-8")
    assert main(["backend", "check", "--config", str(config)]) == 2
    assert "url is empty" in capsys.readouterr().err


def test_openapi_check_spots_an_outdated_file(tmp_path):
    stale = tmp_path / "openapi.json"
    stale.write_text("{}", "utf-8")
    assert main(["backend", "openapi", "--check", str(stale)]) == 1
    assert main(["backend", "openapi", "--out", str(stale)]) == 0
    assert main(["backend", "openapi", "--check", str(stale)]) == 0


@pytest.mark.parametrize("op", ["retry", "discard"])
def test_outbox_retry_and_discard_need_a_key(backend, tmp_path, op, capsys):
    config = write_config(backend, tmp_path)
    assert main(["backend", "outbox", "--config", str(config), op]) == 2
    assert "KEY" in capsys.readouterr().err


def start_serve(tmp_path, *extra):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    server = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "backend", "serve", "--port", "0", "--db",
                               str(tmp_path / "b.sqlite3"), "--no-access-log", *extra], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    lines = [server.stdout.readline() for _ in range(3)]
    url = re.search(r"(http://127\.0\.0\.1:\d+)", lines[0]).group(1)
    for _ in range(200):
        try:
            requests.get(url + "/healthz", timeout=1)
            break
        except requests.ConnectionError:
            import time
            time.sleep(0.05)
    return server, url, lines


def test_serve_with_the_demo_catalogue_knows_the_demo_people(tmp_path):
    from backend_support import DEMO_IDENTITY, DEMO_PIN, DEMO_STAFF_CODE, DEMO_WORKER
    from kiosk.backend.client import BackendClient

    key_file = tmp_path / "t.key"
    assert main(["backend", "keygen", str(key_file)]) == 0
    server, url, lines = start_serve(tmp_path, "--terminal", f"HK-CLI-002={key_file}")
    try:
        assert "WG-0001" in "".join(lines) and "HYBID:DEMO" in "".join(lines)
        client = BackendClient(url, "HK-CLI-002", read_key_file(key_file))
        assert client.staff_sign_in("staff_code", DEMO_STAFF_CODE, DEMO_PIN) == DEMO_WORKER
        assert client.resolve_identity(DEMO_IDENTITY).person.name == "欧阳娜娜"
        client.close()
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(15)


def test_add_worker_registers_a_grid_worker_who_can_then_sign_in(backend, tmp_path, capsys):
    pin_file = tmp_path / "pin"
    pin_file.write_text("975312\n", "utf-8")
    db = str(tmp_path / "workers.sqlite3")
    assert main(["backend", "add-worker", "--db", db, "--id", "WG-0002", "--name", "李网格", "--phone",
                 "13905460002", "--staff-code", "HYBSTAFF:WG0002PILOT", "--pin-file", str(pin_file)]) == 0
    assert "WG-0002" in capsys.readouterr().out
    from refbackend.store import ReferenceStore
    from kiosk.backend import models as m

    store = ReferenceStore(db)
    worker = store.staff_sign_in("HK-1", m.StaffSignIn(credential=m.StaffCredential(
        kind="staff_code", value="HYBSTAFF:WG0002PILOT"), pin="975312"))
    assert (worker.worker_id, worker.name) == ("WG-0002", "李网格")
    store.close()


@pytest.mark.parametrize("args,problem", [
    (["--staff-code", "WG0002"], "HYBSTAFF:"),
    (["--id-number", "12345"], "18-character"),
    ([], "--staff-code or --id-number"),
    (["--staff-code", "HYBSTAFF:WG0002PILOT", "--pin-file", "SHORT"], "6 digits"),
], ids=["bad-code", "bad-card", "no-credential", "short-pin"])
def test_add_worker_explains_bad_input_and_changes_nothing(tmp_path, args, problem):
    short = tmp_path / "short"
    short.write_text("1234", "utf-8")
    args = [str(short) if a == "SHORT" else a for a in args]
    if "--pin-file" not in args:
        pin = tmp_path / "pin"
        pin.write_text("975312", "utf-8")
        args += ["--pin-file", str(pin)]
    result = run_cli("backend", "add-worker", "--db", str(tmp_path / "w.sqlite3"), "--id", "WG-0002", "--name",
                     "李网格", *args)
    assert result.returncode == 2 and problem in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
