"""The flight recorder: a recorded session with a fault becomes a scenario that replays to the same screens."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from kiosk.flight import FlightRecorder, scenario_from_log

HERE = Path(__file__).resolve().parent


def kiosk(*args, env):
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_a_recorded_session_with_a_fault_replays_to_the_same_screens(tmp_path):
    env = dict(os.environ, KIOSK_FLIGHT_DIR=str(tmp_path / "flight"), KIOSK_STATE_DIR=str(tmp_path / "state"))
    played = kiosk("scenario", "run", str(HERE / "flight" / "paper-out-while-searching.yaml"), "--shots",
                   str(tmp_path / "shots"), env=env)
    assert played.returncode == 0, played.stdout + played.stderr
    logs = sorted((tmp_path / "flight").glob("*.jsonl"))
    assert len(logs) == 1
    events = [json.loads(line) for line in logs[0].read_text(encoding="utf-8").splitlines()]
    screens = [e["screen"] for e in events if e["kind"] == "screen"]
    assert screens == ["search", "guide", "search"]
    replay = tmp_path / "replay.yaml"
    made = kiosk("scenario", "from-log", str(logs[0]), "--out", str(replay), env=env)
    assert made.returncode == 0, made.stderr
    text = replay.read_text(encoding="utf-8")
    assert 'sim: "fault printer paper_out"' in text and 'sim: "unplug scanner"' in text
    assert [line.split(": ", 1)[1].strip('"') for line in text.splitlines() if line.startswith("  - screen:")] == \
        ["search", "guide", "search", "home"]
    env["KIOSK_FLIGHT_DIR"] = str(tmp_path / "flight2")
    replayed = kiosk("scenario", "run", str(replay), "--shots", str(tmp_path / "shots2"), env=env)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    again = [json.loads(line) for log in (tmp_path / "flight2").glob("*.jsonl")
             for line in log.read_text(encoding="utf-8").splitlines()]
    assert [e["screen"] for e in again if e["kind"] == "screen"] == screens


def test_typing_in_personal_fields_and_identity_codes_never_reach_the_log(tmp_path):
    recorder = FlightRecorder(tmp_path)
    recorder.on_session("started", session_id="s1")
    recorder.tap("agent.id_number")
    for key in "370503194003050029":
        recorder.tap(f"kb.key.{key}", field="agent.id_number")
    recorder.sim({"device": "scanner", "action": "scan", "payload": "HYBID:DEMO-OUYANG-NANA-0001"})
    recorder.record("note", text="姓名：欧阳娜娜 13805461234")
    recorder.on_session("ended", "home")
    text = recorder.path.read_text(encoding="utf-8")
    for secret in ("370503194003050029", "HYBID:DEMO", "欧阳娜娜", "13805461234", "kb.key.3"):
        assert secret not in text
    scenario = scenario_from_log(recorder.path)
    assert "typed into a personal field" in scenario and "personal payload" in scenario
