"""The services flows call: built from config, the demo's embedded backend, the background sender."""
from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
import requests

from backend_support import FaultProxy, jpeg_page, person, pick_item, required_pages, settings_for
from kiosk.backend import models as m
from kiosk.backend.service import BackendConfigError, Delivered, Queued, build_backend
from kiosk.config import DEMO_CONFIG_PATH, load_settings, parse_settings
from refbackend.embed import start_for_settings


def test_the_demo_config_starts_an_embedded_backend_and_leaves_nothing_behind(tmp_path, caplog):
    settings = load_settings(DEMO_CONFIG_PATH)
    assert settings.backend.embedded
    with caplog.at_level(logging.WARNING):
        services = build_backend(settings, embedded=start_for_settings(settings))
    try:
        assert services.client.base_url.startswith("http://127.0.0.1:")
        assert services.embedded.url == services.client.base_url
        assert "/clerk" in caplog.text
        result = services.sync_catalog()
        assert result.ok and len(services.catalog) >= 150
        item = pick_item("即办件")
        outcome = services.submit_application(m.ApplicationCreate(item_code=item.code, applicant=person()),
                                              required_pages(item, jpeg_page(30 * 1024)))
        assert isinstance(outcome, Delivered)
        state_dir = Path(services.outbox.path).parent
        url = services.embedded.url
    finally:
        services.stop()
    assert not state_dir.exists()
    with pytest.raises(requests.ConnectionError):  # the embedded backend stopped with the services
        requests.get(url + "/healthz", timeout=2)


def test_an_embedded_configuration_without_an_embedded_backend_is_refused_plainly():
    settings = load_settings(DEMO_CONFIG_PATH)
    with pytest.raises(BackendConfigError, match=r"embedded = true, but no embedded backend was started"):
        build_backend(settings)


def test_the_embedded_backend_stops_when_assembling_fails(tmp_path):
    settings = load_settings(DEMO_CONFIG_PATH, {"backend.embedded_db": str(tmp_path / "demo.sqlite3"),
                                                "backend.outbox_key_file": str(tmp_path)})  # a folder: unusable
    embedded = start_for_settings(settings)
    with pytest.raises(Exception):
        build_backend(settings, embedded=embedded)
    with pytest.raises(requests.ConnectionError):
        requests.get(embedded.url + "/healthz", timeout=2)


def test_a_kiosk_without_backend_settings_is_told_what_to_set():
    settings = parse_settings('[terminal]\nid = "HK-1"\nname = "x"\n')
    with pytest.raises(BackendConfigError, match="url is empty"):
        build_backend(settings)
    settings = parse_settings('[terminal]\nid = "HK-1"\nname = "x"\n[backend]\nurl = "https://zwfw.example.cn"\n')
    with pytest.raises(BackendConfigError, match="terminal_key_file"):
        build_backend(settings)


def test_a_missing_key_file_is_named(tmp_path):
    settings = parse_settings(f'[terminal]\nid = "HK-1"\nname = "x"\n[backend]\nurl = "https://zwfw.example.cn"\n'
                              f'terminal_key_file = "{tmp_path / "nope.key"}"\n')
    with pytest.raises(BackendConfigError, match="nope.key"):
        build_backend(settings)


def test_the_background_sender_delivers_when_the_network_returns_and_reports_online_state(backend, tmp_path):
    proxy = FaultProxy(backend.url)
    services = build_backend(settings_for(backend, tmp_path, url=proxy.url, retries=0, heartbeat_seconds=10))
    heard: list[bool] = []
    services.subscribe(heard.append)
    try:
        proxy.mode = "drop"
        item = pick_item("承诺件")
        queued = services.submit_application(m.ApplicationCreate(item_code=item.code, applicant=person()),
                                             required_pages(item, jpeg_page(30 * 1024)))
        assert isinstance(queued, Queued)
        assert heard == [False]
        proxy.mode = "pass"
        services.start()
        deadline = time.monotonic() + 20
        def settled():
            return (not services.outbox.pending_count() and services.catalog.version
                    and backend.store.terminals()[0].last_heartbeat is not None)

        while not settled() and time.monotonic() < deadline:
            services.wake()
            time.sleep(0.05)
        assert services.outbox.pending_count() == 0
        assert services.catalog.version == backend.store.catalog_version()  # synced in the background too
        assert heard[-1] is True
        assert backend.store.terminals()[0].last_heartbeat is not None  # and a heartbeat went out
    finally:
        services.stop()
        proxy.close()


def test_stopping_while_the_sender_is_busy_ends_it_at_once(backend, tmp_path):
    # stop() during the sender's first round (its catalogue sync, slow here) set the wake-up that
    # the round then cleared: the sender slept on for its whole pause, the kiosk's shutdown waited
    # 10 s for it and went on with the thread still running
    proxy = FaultProxy(backend.url)
    proxy.mode, proxy.delay = "slow", 0.5
    services = build_backend(settings_for(backend, tmp_path, url=proxy.url, retries=0, heartbeat_seconds=60))
    try:
        services.start()
        sender = services._thread
        time.sleep(0.2)  # inside the first catalogue sync
        services.stop()
        assert not sender.is_alive()
    finally:
        proxy.close()


def test_heartbeat_reports_the_outbox_and_device_health(backend, tmp_path):
    devices = [m.DeviceHealth(device="printer", status="online", counters={"receipts": 12})]
    services = build_backend(settings_for(backend, tmp_path), health_source=lambda: devices)
    try:
        ack = services.heartbeat()
        assert ack.pickups_waiting == 0
        beat = backend.store.terminals()[0].last_heartbeat
        assert beat.devices == devices and beat.outbox_pending == 0
    finally:
        services.stop()


def test_every_outcome_has_words_for_the_resident_in_both_languages():
    from kiosk.backend.errors import BackendAuthError, BackendNotFound, BackendRejected, BackendUnavailable
    from kiosk.backend.outcomes import message_key
    from kiosk.backend.service import Refused
    from kiosk.i18n import load_strings

    strings = load_strings()
    submitted = m.SubmitResult.model_construct(acceptance_number="370503-20260612-000123")
    outcomes = [Delivered("k", submitted), Queued("k", "down"), Refused("k", "missing_materials", "x", []),
                Refused("k", "whatever", "x", []), BackendUnavailable("x"), BackendAuthError("x", code="clock_skew"),
                BackendNotFound("x", code="case_not_found"), BackendNotFound("x"),
                BackendRejected("x", code="too_many_attempts"), BackendRejected("x", code="idempotency_key_reused"),
                BackendNotFound("x", code="identity_code_unknown"), BackendRejected("x", code="identity_code_expired"),
                BackendNotFound("x", code="unknown_staff"), BackendRejected("x", code="wrong_pin", attempts_left=3),
                BackendRejected("x", code="pin_locked", retry_after_seconds=61)]
    keys = {message_key(outcome) for outcome in outcomes}
    assert "backend.queued" in keys and "backend.case_not_found" in keys
    for key in keys:
        assert strings[key]["zh"] and strings[key]["en"], key
    assert strings["backend.queued"]["zh"] == "已保存，网络恢复后自动提交"
    from kiosk.backend.outcomes import message_values
    from kiosk.i18n import Translator

    for language in ("zh", "en"):
        for outcome in outcomes:  # every text gets the values it needs
            assert "{" not in Translator(language).tr(message_key(outcome), **message_values(outcome))
    locked = BackendRejected("x", code="pin_locked", retry_after_seconds=61)
    assert Translator("en").tr(message_key(locked), **message_values(locked)) == \
        "Too many wrong PINs. Locked: please try again in 2 minutes"


def test_the_network_light_follows_the_backend_calls(backend, tmp_path):
    from kiosk.backend.service import attach_status
    from kiosk.status import StatusBoard

    proxy = FaultProxy(backend.url)
    services = build_backend(settings_for(backend, tmp_path, url=proxy.url, retries=0))
    board = StatusBoard()
    attach_status(services, board)
    try:
        proxy.mode = "drop"
        services.sync_catalog()
        assert board.get("network").available is False
        proxy.mode = "pass"
        services.sync_catalog()
        assert board.is_available("network")
    finally:
        services.stop()
        proxy.close()



def test_the_embedded_backend_knows_the_terminal_and_its_lockers_doors():
    settings = load_settings(DEMO_CONFIG_PATH)
    services = build_backend(settings, embedded=start_for_settings(settings))
    try:
        answer = requests.get(services.embedded.url + "/api/v1/clerk/terminals", timeout=10,
                              auth=("clerk", services.embedded.clerk_password))
        (terminal,) = [m.TerminalInfo.model_validate(t) for t in answer.json()]
        assert (terminal.terminal_id, terminal.name) == (settings.terminal.id, settings.terminal.name)
        assert terminal.doors == settings.devices.locker.doors
    finally:
        services.stop()


def test_heartbeat_health_comes_from_the_device_manager():
    from kiosk.backend.service import health_from_devices
    from kiosk.devices import DeviceInfo

    class Manager:
        def describe(self):
            return [DeviceInfo("printer", "printer", "simulator", "/dev/pts/3", "online", True,
                               counters={"receipts": 3, "cuts": 3}),
                    DeviceInfo("locker", "locker", "kerong", "/dev/ttyS1", "error", False,
                               error="door 3 jammed", counters={"opens": 12})]

    health = health_from_devices(Manager())()
    assert [(h.device, h.status, h.detail) for h in health] == [("printer", "online", ""),
                                                                ("locker", "error", "door 3 jammed")]
    assert health[1].counters == {"opens": 12}
