"""Applying at the kiosk end to end, with the devices and the backend a kiosk really has.

- A GA/T 467 ID card reader on a serial port (the wire-level simulator on a pseudo-terminal,
  the real driver) and a network receipt printer (the ESC/POS simulator on a loopback TCP port,
  the real driver), the camera simulated, the reference backend as a separate server: a
  scenario (``kiosk scenario run``, the kiosk as a process) runs the whole 高龄津贴发放 journey.
  The clerk API then lists exactly one case for that holder, and the printer's paper carries
  its acceptance number.
- With the backend down at submit, the offline receipt prints ("网络恢复后自动提交"); once the
  backend is back, ``kiosk backend outbox drain`` delivers it, and there is exactly one case.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from drivers.idcard.simulator import Ga467Simulator
from drivers.printer.simulator.printer import PrinterSimulator
from drivers.printer.simulator.server import TcpPrinterServer
from refbackend.seed import DEMO_PEOPLE_PATH, load_catalog_file, load_people_file, seed_people
from refbackend.server import start_embedded
from refbackend.store import ReferenceStore
from kiosk.backend.signing import generate_key

ROOT = Path(__file__).resolve().parents[2]
PICTURES = ROOT / "tests" / "scenarios" / "pictures"
TERMINAL = "HK-E2E-APPLY"
HOLDER = "370503194003050029"  # 欧阳娜娜, the simulator deck's "senior" card

pytestmark = pytest.mark.timeout(600)

JOURNEY = f"""
name: 高龄津贴发放 with a serial ID card reader and a network printer
config: kiosk.toml
steps:
  - screen: home
  - see: 欧**娜，您好
    timeout: 30
  - tap: home.apply
  - tap_text: 高龄津贴发放
  - screen: guide
  - tap: guide.apply
  - screen: apply.form
  - tap: form.phone
  - type: "13805461234{{enter}}"
  - tap: apply.next
  - screen: apply.materials
  - sim: camera show {PICTURES / "bank-card.jpg"}
  - see: 已拍好第1页
    timeout: 40
  - tap: apply.next
  - screen: apply.consent
  - tap: consent.terms
  - tap: consent.sensitive
  - tap: consent.agree
  - screen: apply.delivery
  - tap: delivery.window
  - screen: apply.review
  - tap: review.submit
  - screen: apply.done
    timeout: 60
  - see: {{done}}
    timeout: 30
  - see: 回执已打印
    timeout: 30
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def devices(tmp_path):
    """A GA/T 467 reader with 欧阳娜娜's card on it, and a network printer."""
    reader = Ga467Simulator("idcard", link=tmp_path / "idcard-port", card="senior").start()
    paper = PrinterSimulator(paper_width=80)
    printer = TcpPrinterServer(paper, port=0)
    printer.start()
    yield reader, paper, printer
    printer.stop()
    reader.stop()


def backend_store(path: Path, key_text: str) -> ReferenceStore:
    store = ReferenceStore(path)
    store.seed_catalog(load_catalog_file())
    seed_people(store, load_people_file(DEMO_PEOPLE_PATH))
    store.register_terminal(TERMINAL, key_text, "河口街道便民服务中心 1号机", doors=16)
    return store


def write_config(tmp_path: Path, reader, printer, backend_url: str, key_file: Path) -> Path:
    config = tmp_path / "kiosk.toml"
    config.write_text(f"""
[terminal]
id = "{TERMINAL}"
name = "河口街道便民服务中心 1号机"
service_phone = "0546-12345"

[display]
width = 1080
height = 1920

[devices.idcard]
driver = "ga467"
port = "{reader.path}"

[devices.printer]
driver = "escpos"
transport = "network"
network_host = "127.0.0.1"
network_port = {printer.port}
paper_width = 80

[devices.camera]
driver = "simulator"
width = 1920
height = 1080

[backend]
url = "{backend_url}"
terminal_key_file = "{key_file}"
connect_timeout = 1
read_timeout = 10
""", encoding="utf-8")
    return config


def play(tmp_path: Path, done_text: str, state: Path) -> dict:
    scenario = tmp_path / "journey.yaml"
    scenario.write_text(JOURNEY.replace("{done}", done_text), encoding="utf-8")
    env = dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "kiosk.cli", "scenario", "run", str(scenario), "--json",
                             "--state", str(state), "--shots", str(tmp_path / "shots")],
                            capture_output=True, text=True, timeout=500, env=env, cwd=ROOT)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"no JSON from kiosk scenario run (exit {result.returncode}):\n{result.stderr[-4000:]}")
    entry = report["files"][0]
    assert report["passed"], json.dumps(entry.get("failure") or entry.get("error"), ensure_ascii=False, indent=2)
    return report


def clerk_cases(url: str, password: str) -> list[dict]:
    answer = requests.get(f"{url}/api/v1/clerk/cases", params={"holder_id_number": HOLDER},
                          auth=("clerk", password), timeout=10)
    answer.raise_for_status()
    return answer.json()["cases"]


def key_file_for(tmp_path: Path, key_text: str) -> Path:
    key_file = tmp_path / "terminal.key"
    key_file.write_text(key_text + "\n", encoding="utf-8")
    key_file.chmod(0o600)
    return key_file


def test_the_whole_journey_with_a_serial_reader_and_a_network_printer(tmp_path, devices):
    reader, paper, printer = devices
    key_text = generate_key()
    running = start_embedded(backend_store(tmp_path / "backend.sqlite3", key_text))
    try:
        config = write_config(tmp_path, reader, printer, running.url, key_file_for(tmp_path, key_text))
        play(tmp_path, "申请已提交，已受理", tmp_path / "state")
        cases = clerk_cases(running.url, running.clerk_password)
        assert len(cases) == 1, cases
        case = cases[0]
        assert case["item_code"] == "370503-XZ-0004" and case["holder"]["id_number"] == HOLDER
        assert case["pages"] == 1
        printed = "\n".join(paper.text_lines)
        assert case["acceptance_number"] in printed and "受理回执" in printed
        detail = running.store.clerk_case_detail(case["acceptance_number"])
        assert detail["form"]["phone"] == "13805461234"
        assert [(p.index, p.how) for p in detail["provisions"]] == [(0, "id_card")]
        assert detail["consent"].sensitive is True and detail["delivery"].method == "window"
    finally:
        running.stop()
    assert config.exists()


def test_backend_down_at_submit_prints_the_offline_receipt_and_the_drain_makes_one_case(tmp_path, devices):
    reader, paper, printer = devices
    key_text = generate_key()
    port = free_port()
    url = f"http://127.0.0.1:{port}"  # nothing listens there yet: the backend is down
    config = write_config(tmp_path, reader, printer, url, key_file_for(tmp_path, key_text))
    state = tmp_path / "state"
    play(tmp_path, "已保存，网络恢复后自动提交", state)
    printed = "\n".join(paper.text_lines)
    assert "网络恢复后自动提交" in printed and "本机编号" in printed
    running = start_embedded(backend_store(tmp_path / "backend.sqlite3", key_text), port=port)
    try:
        assert clerk_cases(url, running.clerk_password) == []
        env = dict(os.environ, KIOSK_STATE_DIR=str(state), XDG_RUNTIME_DIR=str(tmp_path))
        drain = subprocess.run([sys.executable, "-m", "kiosk.cli", "backend", "outbox", "--config", str(config),
                                "drain"], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
        assert drain.returncode == 0, drain.stderr[-3000:]
        cases = clerk_cases(url, running.clerk_password)
        assert len(cases) == 1 and cases[0]["item_code"] == "370503-XZ-0004", cases
        drain_again = subprocess.run([sys.executable, "-m", "kiosk.cli", "backend", "outbox", "--config",
                                      str(config), "drain"], capture_output=True, text=True, timeout=120, env=env,
                                     cwd=ROOT)
        assert drain_again.returncode == 0
        assert len(clerk_cases(url, running.clerk_password)) == 1  # exactly once
    finally:
        running.stop()
