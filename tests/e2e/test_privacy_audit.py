"""Privacy audit after a whole resident session (issue 15).

The kiosk runs as a process (``kiosk scenario run``, the real screens, simulated devices, the
embedded reference backend) through the whole 高龄津贴发放 application of 欧阳娜娜 with her ID
card: form, phone typed, two photographed pages, consents, submit, receipt. Afterwards every file
it could have left — its log lines (``--verbose``), the flight recorder's folder, the temporary
folder (``TMPDIR``), the state folder (outbox, keys, catalogue cache, catalogue counts) — is read
as bytes and searched for every resident of the simulator's card deck: ID number, name (Chinese
and English), address, and the phone number typed, in UTF-8, GB18030, UTF-16 (the card's own
encoding) and JSON's ``\\uXXXX`` escapes. Nothing may be found. The outbox is searched too: what
it keeps is encrypted, and a delivered application leaves nothing readable.
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
SCENARIO = ROOT / "tests" / "scenarios" / "apply-elderly-allowance.yaml"
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
    result = subprocess.run([sys.executable, "-m", "kiosk.cli", "scenario", "run", str(SCENARIO), "--json",
                             "--verbose", "--state", str(state), "--shots", str(tmp_path / "shots")],
                            capture_output=True, text=True, timeout=500, env=env, cwd=ROOT)
    log_file = tmp_path / "kiosk.log"
    log_file.write_text(result.stderr, encoding="utf-8")
    report = json.loads(result.stdout)
    assert report["passed"], json.dumps(report["files"][0].get("failure") or report["files"][0].get("error"),
                                        ensure_ascii=False)
    # the session really ran: log lines were written, the flight recorder kept the session, the
    # state folder has the outbox (delivered, so empty of personal data)
    assert len(result.stderr.splitlines()) > 20
    assert list(flight.glob("*.jsonl"))
    assert any(p.name.startswith("outbox") for p in state.rglob("*"))
    secrets = secrets_of_the_deck()
    assert "senior.id_number" in secrets and len(secrets) > 30
    found = leaks(log_file, secrets) + leaks(flight, secrets) + leaks(tmp, secrets) + leaks(state, secrets)
    assert found == [], "\n".join(found)
