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

A second session in the same run (``apply-backend-down.yaml``) photographs a page with the
document camera and submits it while the backend is down; a third (``pickup-id-card.yaml``)
collects two results from the locker with her card, prints the pickup slips and rates. The
audit also reads:

- every SQLite file (outbox, pickup ledger, catalogue cache …) as it is while the kiosk runs,
  copied every 0.3 s: the demo's outbox and ledger live in a folder that goes with the kiosk;

- the paper: the printer simulator saves every receipt with its text and its codes' contents
  (``simulator_out``); masked forms (``欧**娜``, ``138****1234``) are what a receipt may carry;
- images: no file may hold a JPEG or PNG stream (the page photographed, the card's photo, the
  signature), nor a byte run of the picture the camera filmed;
- the core-dump setting of the running kiosk (``/proc/PID/limits``): 0, so a crash cannot write
  its memory to disk;
- leftovers: the temporary folder is empty once the kiosk has stopped (the Kivy home, the
  scenario's folders, the demo backend's outbox folder all went with it).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drivers.idcard.deck import builtin_deck

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "tests" / "scenarios" / "apply-commitment.yaml"
PHOTO_SCENARIO = ROOT / "tests" / "scenarios" / "apply-backend-down.yaml"
PICKUP_SCENARIO = ROOT / "tests" / "scenarios" / "pickup-id-card.yaml"  # doors, the pickup ledger, a slip
FILMED = ROOT / "tests" / "scenarios" / "pictures" / "bank-card.jpg"  # what the camera films there
PUBLIC_CATALOGUE = (ROOT / "assets" / "catalog" / "hekou_items.json").read_text("utf-8")
IMAGE_MARKERS = {"a JPEG stream": b"\xff\xd8\xff", "a PNG stream": b"\x89PNG\r\n\x1a\n"}
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
            if is_catalogue_cache(path) and value in PUBLIC_CATALOGUE:
                continue  # the catalogue's own text (the phone field's hint is 例如 13805461234)
            if any(form in data for form in encodings(value)):
                found.append(f"{path}: {label}")
    return found


def is_catalogue_cache(path: Path) -> bool:
    """The kiosk's copy of the published catalogue (``catalog.sqlite3`` and its -wal/-shm)."""
    return re.fullmatch(r"(.*__)?catalog\.sqlite3(-wal|-shm)?", path.name) is not None


def images(folder_or_file: Path, filmed: bytes) -> list[str]:
    """``file: what`` for every image stream, or run of the filmed picture, in any file."""
    files = [folder_or_file] if folder_or_file.is_file() else [p for p in folder_or_file.rglob("*") if p.is_file()]
    run = filmed[len(filmed) // 2:len(filmed) // 2 + 48]
    found = []
    for path in files:
        data = path.read_bytes()
        found += [f"{path}: {what}" for what, marker in IMAGE_MARKERS.items() if marker in data]
        if run in data:
            found.append(f"{path}: bytes of the filmed picture")
    return found


def core_limit(pid: int) -> str | None:
    """The soft and hard core-file limits of a running process, as /proc shows them."""
    try:
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max core file size"):
                return " ".join(line.split()[4:6])
    except OSError:
        return None
    return None


def snapshot_databases(folders: list[Path], into: Path) -> list[str]:
    """Copy every SQLite file (and its -wal, -shm) under ``folders`` into ``into``, as it is now:
    the demo's outbox and pickup ledger live in a folder that goes when the kiosk stops, so the
    audit reads them while it runs. The names copied."""
    names = []
    for folder in folders:
        for path in list(folder.rglob("*")) if folder.exists() else []:
            if not re.search(r"\.sqlite3(-wal|-shm|-journal)?$", path.name):
                continue
            try:
                data = path.read_bytes()
            except OSError:  # gone between listing and reading
                continue
            target = into / str(path.relative_to(folder.parent)).replace("/", "__")
            target.write_bytes(data)
            names.append(path.name)
    return names


def privacy_config(folder: Path, prints: Path) -> Path:
    """The demo configuration with the printer simulator saving every receipt in ``prints``."""
    text = (ROOT / "assets" / "demo.toml").read_text("utf-8")
    marker = '[devices.printer]\n'
    assert text.count(marker) == 1
    config = folder / "privacy.toml"
    config.write_text(text.replace(marker, marker + f'simulator_out = "{prints}"\n'), "utf-8")
    return config


def test_a_whole_application_leaves_no_personal_data_behind(tmp_path):
    tmp, state, flight, prints = tmp_path / "tmp", tmp_path / "state", tmp_path / "flight", tmp_path / "prints"
    for folder in (tmp, flight):
        folder.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp), KIOSK_FLIGHT_DIR=str(flight), XDG_RUNTIME_DIR=str(tmp_path))
    env.pop("KIVY_HOME", None)  # the kiosk makes its own, in TMPDIR
    # python-escpos's printer capabilities cache is kept between runs, out of the session's way
    env["ESCPOS_CAPABILITIES_PICKLE_DIR"] = str(tmp_path / "escpos-cache")
    # --verbose: the kiosk's own log lines on stderr (the runner's progress, which echoes the
    # tester's own steps, stays on stdout and is not a log of the kiosk's)
    log_file, out_file = tmp_path / "kiosk.log", tmp_path / "progress.txt"
    with open(log_file, "wb") as err, open(out_file, "wb") as out:
        kiosk = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "scenario", "run", str(SCENARIO),
                                  str(PHOTO_SCENARIO), str(PICKUP_SCENARIO), "--verbose", "--config", str(privacy_config(tmp_path, prints)),
                                  "--state", str(state), "--shots", str(tmp_path / "shots")],
                                 stdout=out, stderr=err, env=env, cwd=ROOT)
        limits, databases = [], set()
        snapshots = tmp_path / "databases"
        snapshots.mkdir()
        deadline = time.monotonic() + 500
        while kiosk.poll() is None and time.monotonic() < deadline:
            limit = core_limit(kiosk.pid)
            if limit is not None:
                limits.append(limit)
            databases.update(snapshot_databases([tmp, state], snapshots))
            time.sleep(0.3)
        if kiosk.poll() is None:
            kiosk.kill()
        kiosk.wait()
    progress, log_text = out_file.read_text("utf-8"), log_file.read_text("utf-8")
    assert kiosk.returncode == 0 and "3 passed" in progress, progress[-3000:]
    # probed while the sessions ran: no core dump can carry their memory to disk
    assert len(limits) > 10 and set(limits[4:]) == {"0 0"}, limits
    # the session really ran: log lines were written, the flight recorder kept the session, the
    # state folder the devices' health history, the printer its receipts; the demo's outbox (a
    # temporary folder under TMPDIR with the embedded backend) and the demo clerk's password file
    # went with the kiosk
    assert len(log_text.splitlines()) > 20
    assert list(flight.glob("*.jsonl"))
    assert (state / "health-history.json").exists()
    receipts = sorted(prints.glob("receipt-*.txt"))
    assert len(receipts) >= 2 and any("受理" in p.read_text("utf-8") for p in receipts)
    assert not (state / "clerk-password").exists()
    # the SQLite files were read while the kiosk ran: the outbox (what waited was encrypted) and the
    # pickup ledger
    assert {"outbox.sqlite3", "pickup-ledger.sqlite3"} <= databases, databases
    assert sorted(p.name for p in tmp.iterdir()) == [], "temporary folders outlived the kiosk"
    secrets = secrets_of_the_deck()
    assert "senior.id_number" in secrets and len(secrets) > 30
    found = (leaks(log_file, secrets) + leaks(flight, secrets) + leaks(tmp, secrets) + leaks(state, secrets)
             + leaks(prints, secrets) + leaks(snapshots, secrets))
    assert found == [], "\n".join(found)
    filmed = FILMED.read_bytes()
    pictures = images(log_file, filmed) + images(flight, filmed) + images(tmp, filmed) + images(state, filmed) \
        + images(snapshots, filmed) + [found for path in receipts for found in images(path, filmed)]
    assert pictures == [], "\n".join(pictures)


def test_the_image_search_finds_a_jpeg_inside_any_file(tmp_path):
    from PIL import Image
    import io

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "JPEG")
    (tmp_path / "cache.bin").write_bytes(b"junk" + buffer.getvalue())
    filmed = FILMED.read_bytes()
    (tmp_path / "part.bin").write_bytes(b"x" + filmed[len(filmed) // 2 - 10:len(filmed) // 2 + 60])
    assert images(tmp_path, filmed) == [f"{tmp_path / 'cache.bin'}: a JPEG stream",
                                        f"{tmp_path / 'part.bin'}: bytes of the filmed picture"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "gb18030", "json"])
def test_the_search_finds_a_resident_in_any_of_the_encodings(tmp_path, encoding):
    secrets = secrets_of_the_deck()
    name = secrets["senior.chinese_name"]
    data = json.dumps({"n": name}).encode() if encoding == "json" else name.encode(encoding)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "cache.bin").write_bytes(b"\x00junk" + data + b"junk")
    assert leaks(tmp_path, secrets) == [f"{tmp_path / 'sub' / 'cache.bin'}: senior.chinese_name"]


def test_the_catalogue_copy_may_hold_the_catalogue_text_but_not_a_resident():
    """The typed phone is also the phone field's example in the published catalogue: the
    kiosk's copy of the catalogue may hold it, any other file may not."""
    assert "13805461234" in PUBLIC_CATALOGUE
    assert is_catalogue_cache(Path("x/tmp__kiosk-demo-backend-1-ab__catalog.sqlite3-wal"))
    assert not is_catalogue_cache(Path("x/outbox.sqlite3"))
