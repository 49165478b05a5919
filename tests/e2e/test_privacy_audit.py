"""Privacy audit after a whole resident session (issue 15).

The kiosk runs as a process (``kiosk scenario run``, the real screens, simulated devices, the
embedded reference backend) through the whole 异地就医备案 application of 欧阳娜娜 with her ID
card (``tests/scenarios/apply-commitment.yaml``): form with her card data, phone typed, a place
typed in pinyin, the 承诺书 signed with a finger on the pad, consent, submit, 即办 decision,
receipt printed. Afterwards every file
it could have left — its log lines (``--verbose``), the flight recorder's folder, the temporary
folder (``TMPDIR``), the state folder (outbox, keys, catalogue cache, catalogue counts) — is read
as bytes and searched for every resident of the simulator's card deck: ID number, name (Chinese
and English), address, and the phone number typed, in UTF-8, GB18030, UTF-16 (the card's own
encoding) and JSON's ``\\uXXXX`` escapes. Nothing may be found. With the embedded demo backend
the outbox lives in a temporary folder under ``TMPDIR`` that goes when the kiosk stops (what it
held was encrypted; ``tests/kiosk/backend/test_outbox.py`` reads its file while it waits).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.idcard.deck import builtin_deck

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "tests" / "scenarios" / "apply-commitment.yaml"
PHONE = "13805461234"  # what the scenario types into the form

pytestmark = pytest.mark.timeout(600)


def secrets_of_the_deck() -> dict[str, str]:
    """Every personal value on the deck's cards, by a label that names no one."""
    found: dict[str, str] = {"typed phone": PHONE}
    for key, virtual in builtin_deck().items():
        card = virtual.card
        for field in ("id_number", "chinese_name", "english_name", "address", "appended_address"):
            value = str(getattr(card, field, "") or "").strip()
            if len(value) >= 2:
                found[f"{key}.{field}"] = value
    return found


def encodings(value: str) -> list[bytes]:
    forms = {value.encode("utf-8"), value.encode("utf-16-le"), json.dumps(value)[1:-1].encode("ascii")}
    try:
        forms.add(value.encode("gb18030"))
    except UnicodeEncodeError:
        pass
    return sorted(forms)


def leaks(folder_or_file: Path, secrets: dict[str, str]) -> list[str]:
    """``file: label`` for every secret found in any file under ``folder_or_file``."""
    files = [folder_or_file] if folder_or_file.is_file() else [p for p in folder_or_file.rglob("*") if p.is_file()]
    found = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        for label, value in secrets.items():
            if any(form in data for form in encodings(value)):
                found.append(f"{path}: {label}")
    return found


def test_a_whole_application_leaves_no_personal_data_behind(tmp_path):
    tmp, state, flight = tmp_path / "tmp", tmp_path / "state", tmp_path / "flight"
    for folder in (tmp, flight):
        folder.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp), KIOSK_FLIGHT_DIR=str(flight), XDG_RUNTIME_DIR=str(tmp_path))
    # --verbose: the kiosk's own log lines on stderr (the runner's progress, which echoes the
    # tester's own steps, stays on stdout and is not a log of the kiosk's)
    result = subprocess.run([sys.executable, "-m", "kiosk.cli", "scenario", "run", str(SCENARIO), "--verbose",
                             "--state", str(state), "--shots", str(tmp_path / "shots")],
                            capture_output=True, text=True, timeout=500, env=env, cwd=ROOT)
    log_file = tmp_path / "kiosk.log"
    log_file.write_text(result.stderr, encoding="utf-8")
    assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout[-3000:]
    # the session really ran: log lines were written, the flight recorder kept the session, the
    # state folder the devices' health history; the demo's outbox (a temporary folder under TMPDIR
    # with the embedded backend) and the demo clerk's password file went with the kiosk
    assert len(result.stderr.splitlines()) > 20
    assert list(flight.glob("*.jsonl"))
    assert (state / "health-history.json").exists()
    assert not list(tmp.glob("kiosk-demo-backend-*")) and not (state / "clerk-password").exists()
    secrets = secrets_of_the_deck()
    assert "senior.id_number" in secrets and len(secrets) > 30
    found = leaks(log_file, secrets) + leaks(flight, secrets) + leaks(tmp, secrets) + leaks(state, secrets)
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "gb18030", "json"])
def test_the_search_finds_a_resident_in_any_of_the_encodings(tmp_path, encoding):
    secrets = secrets_of_the_deck()
    name = secrets["senior.chinese_name"]
    data = json.dumps({"n": name}).encode() if encoding == "json" else name.encode(encoding)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "cache.bin").write_bytes(b"\x00junk" + data + b"junk")
    assert leaks(tmp_path, secrets) == [f"{tmp_path / 'sub' / 'cache.bin'}: senior.chinese_name"]
