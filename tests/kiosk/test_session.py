"""A session's data is gone — from memory and disk — once it ends, by inactivity or by choice."""
from __future__ import annotations

from pathlib import Path

from kiosk.inactivity import IdleMonitor
from kiosk.session import SCRATCH_PREFIX, Identity, Session


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def filled_session(tmp_path: Path, clock) -> tuple[Session, Path]:
    session = Session(tmp_path, clock=clock)
    session.set_identity(Identity("idcard", id_number="370502199001011234", name="张三"))
    session.put("phone", "13812345678")
    image = session.scratch_dir() / "page1.jpg"
    image.write_bytes(b"\xff\xd8 scanned page")
    return session, image


def test_inactivity_shows_countdown_then_wipes_everything(tmp_path):
    clock = FakeClock()
    session, image = filled_session(tmp_path, clock)
    ended = []
    session.subscribe(lambda event, reason: ended.append((event, reason)))
    idle = IdleMonitor(session, idle_seconds=60, countdown_seconds=10, clock=clock)
    idle.poke()

    clock.now += 59
    assert idle.tick().phase == "active"
    clock.now += 2
    state = idle.tick()
    assert state.phase == "warning" and state.remaining == 9
    assert session.holds_personal_data()  # nothing lost while the countdown runs

    clock.now += 9.5
    assert idle.tick().phase == "expired"
    assert not session.active
    assert session.identity is None and session.values == {} and session.get("phone") is None
    assert not image.exists() and not image.parent.exists()
    assert not session.holds_personal_data()
    assert ("ended", "timeout") in ended


def test_a_touch_during_the_countdown_keeps_the_session(tmp_path):
    clock = FakeClock()
    session, image = filled_session(tmp_path, clock)
    idle = IdleMonitor(session, idle_seconds=60, countdown_seconds=10, clock=clock)
    idle.poke()
    clock.now += 65
    assert idle.tick().phase == "warning"
    idle.poke()
    assert idle.tick().phase == "active"
    clock.now += 30
    assert idle.tick().phase == "active"
    assert session.identity.name == "张三" and image.exists()


def test_no_session_no_countdown(tmp_path):
    clock = FakeClock()
    idle = IdleMonitor(Session(tmp_path, clock=clock), 60, 10, clock=clock)
    clock.now += 1000
    assert idle.tick().phase == "idle"


def test_end_by_choice_wipes_and_is_repeatable(tmp_path):
    session, image = filled_session(tmp_path, FakeClock())
    identity = session.identity
    session.end("home")
    session.end("home")
    assert not image.exists()
    assert identity.extra == {}
    assert session.session_id is None


def test_leftover_folders_from_a_crash_are_removed(tmp_path):
    crashed = tmp_path / f"{SCRATCH_PREFIX}abc123"
    crashed.mkdir()
    (crashed / "idcard.jpg").write_bytes(b"photo")
    session = Session(tmp_path)
    assert session.remove_leftovers() == 1
    assert not crashed.exists()


def test_scratch_dir_is_private(tmp_path):
    session = Session(tmp_path)
    scratch = session.scratch_dir()
    assert scratch.stat().st_mode & 0o077 == 0
