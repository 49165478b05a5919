"""Health history: a ring per device, masked, saved atomically, read back by shell commands."""
from __future__ import annotations

from drivers.base import DeviceStatus, State, StatusEvent
from kiosk.health_history import HealthHistory


def event(device, state, code="", **detail):
    return StatusEvent(device, None, DeviceStatus(state, detail, code))


def test_changes_are_kept_per_device_oldest_dropped_and_repeats_ignored(tmp_path):
    history = HealthHistory(per_device=3, path=tmp_path / "h.json")
    history.record_event(event("printer", State.ONLINE, paper="ok"))
    history.record_event(event("printer", State.ONLINE, paper="ok", transport="x"))  # nothing a technician reads
    history.record_event(event("printer", State.BUSY, paper="ok"))  # a job is not a change
    history.record_event(event("printer", State.ONLINE, paper="near_end"))
    history.record_event(event("printer", State.USER_ERROR, "DEV-007", paper="out"))
    history.record_event(event("printer", State.ONLINE, paper="ok"))
    history.record_event(event("idcard", State.OFFLINE, "DEV-010"))
    timeline = history.timeline("printer")
    assert [(c.state, c.code, c.summary) for c in timeline] == [
        ("online", "", "paper near_end"), ("user_error", "DEV-007", "paper out"), ("online", "", "paper ok")]
    assert [c.device for c in history.timeline()] == ["printer", "printer", "printer", "idcard"]
    again = HealthHistory.load(tmp_path / "h.json")
    assert again.to_json() == history.to_json()


def test_summaries_are_masked_and_a_damaged_file_reads_as_empty(tmp_path):
    history = HealthHistory()
    history.record("idcard", "offline", "DEV-004", "reply held 370503194806152045")
    assert "370503194806152045" not in history.timeline("idcard")[0].summary
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert HealthHistory.load(bad).devices() == []
