"""The clerk's page flags a terminal that has gone silent: every terminal sends a heartbeat a
minute; after three missed ones (or none ever) its row says so."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import requests

from backend_support import settings_for, start_reference_backend
from kiosk.backend.service import build_backend
from refbackend.clerk_pages import SILENT_AFTER_SECONDS, heartbeat_cell


def test_a_terminal_that_stops_sending_heartbeats_is_flagged_on_the_clerk_page(tmp_path):
    offset = [0.0]
    backend = start_reference_backend(clock=lambda: time.time() + offset[0])
    services = build_backend(settings_for(backend, tmp_path))
    try:
        def terminals_table() -> str:
            page = requests.get(f"{backend.url}/clerk", auth=backend.clerk_auth(), timeout=10).text
            return page.split("自助终端", 1)[1]

        assert "⚠ 从未联系" in terminals_table()
        services.heartbeat()
        heard = terminals_table()
        assert "从未联系" not in heard and "已失联" not in heard
        offset[0] = 6 * 60 + 5  # six minutes later, nothing more heard
        assert "⚠ 已失联 6 分钟" in terminals_table()
    finally:
        services.stop()
        backend.stop()


def test_the_silence_is_told_in_minutes_then_hours():
    now = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
    assert "已失联" not in heartbeat_cell(now - timedelta(seconds=SILENT_AFTER_SECONDS), now)
    assert "已失联 4 分钟" in heartbeat_cell(now - timedelta(minutes=4), now)
    assert "已失联 5 小时" in heartbeat_cell(now - timedelta(hours=5, minutes=20), now)
    assert "从未联系" in heartbeat_cell(None, now)
