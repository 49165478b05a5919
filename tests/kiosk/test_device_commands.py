"""`kiosk idcard|scanner|locker` against simulators: exact JSON, one-line errors, exit codes."""
from __future__ import annotations

import json
import tempfile
import threading
from pathlib import Path

import pytest

from drivers.idcard.simulator import Ga467Simulator
from drivers.locker.simulator import LockerSimulator
from drivers.scanner.simulator import ScannerSimulator
from kiosk.cli import main


@pytest.fixture
def short_dir():
    with tempfile.TemporaryDirectory(prefix="kc-") as path:
        yield Path(path)


@pytest.fixture
def reader_sim(short_dir):
    simulator = Ga467Simulator(link=short_dir / "idcard", wire_time=False).start()
    yield simulator
    simulator.stop()


def read_json(simulator, capsys, *extra):
    code = main(["idcard", "read", "--port", simulator.path, "--json", "--wait", "0", "--timeout", "0.3", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_read_json_of_a_resident_card_is_exactly_the_documented_object(reader_sim, capsys):
    reader_sim.place("resident-long-term")
    code, out, err = read_json(reader_sim, capsys)
    assert code == 0 and err == ""
    assert json.loads(out) == {
        "card_type": "resident", "name": "刘桂英", "gender": "女", "nation": "汉", "birth_date": "1948-06-15",
        "address": "山东省东营市河口区义和镇义和村58号", "id_number": "370503194806152045",
        "issuer": "东营市公安局河口分局", "valid_from": "2012-07-10", "valid_to": "长期", "photo_wlt_bytes": 1024}


def test_read_json_of_permit_and_foreign_cards_carries_their_extra_keys(reader_sim, capsys):
    reader_sim.place("hk-permit")
    permit = json.loads(read_json(reader_sim, capsys)[1])
    assert permit["card_type"] == "hk_mo_tw_permit" and permit["pass_number"] == "H60123456"
    assert permit["issue_count"] == 1 and permit["nation"] is None
    reader_sim.remove()
    reader_sim.place("foreign-2017")
    foreign = json.loads(read_json(reader_sim, capsys)[1])
    assert foreign["card_type"] == "foreign_permanent_2017" and foreign["name"] == "威廉斯"
    assert foreign["english_name"] == "WILLIAMS, JOHN ROBERT" and foreign["nationality"] == "USA"
    assert foreign["id_number"] == "USA378506120037" and foreign["address"] is None


@pytest.mark.parametrize("fault,cause", [(None, "DEV-007: no card"), ("no_answer", "DEV-003: no answer"),
                                         ("garbage", "DEV-004"), ("bad_checksum", "DEV-005")])
def test_failures_are_exit_code_1_and_one_line(reader_sim, capsys, fault, cause):
    if fault:
        reader_sim.set_fault(fault)
    code, out, err = read_json(reader_sim, capsys)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and cause in err and "Traceback" not in err


def test_a_missing_port_is_named(capsys, short_dir):
    assert main(["idcard", "read", "--port", str(short_dir / "ttyUSB9"), "--json"]) == 1
    assert "ttyUSB9 does not exist" in capsys.readouterr().err


def test_plain_output_masks_the_holder(reader_sim, capsys):
    reader_sim.place("resident")
    assert main(["idcard", "read", "--port", reader_sim.path, "--wait", "0"]) == 0
    out = capsys.readouterr().out
    assert "李*军" in out and "3705**********1231" in out and "李建军" not in out
    assert "silhouette" in out


def test_status_shows_the_sam(reader_sim, capsys):
    assert main(["idcard", "status", "--port", reader_sim.path]) == 0
    assert "05.01-20210518-0003705031-1234567890" in capsys.readouterr().out


def test_scanner_listen_prints_classified_codes(short_dir, capsys):
    with ScannerSimulator(link=short_dir / "scanner", wire_time=False) as simulator:
        result = {}
        thread = threading.Thread(target=lambda: result.setdefault("code", main(
            ["scanner", "listen", "--port", simulator.path, "--count", "3", "--seconds", "10", "--json"])))
        thread.start()
        import time

        deadline = time.monotonic() + 3
        while simulator.port.app_baud() != 9600 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)
        simulator.scan("370503-20260612-000123")
        simulator.scan("482913")
        simulator.scan(b"\x1b[2J")
        thread.join(timeout=10)
    assert result["code"] == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["kind"] for line in lines] == ["receipt", "pickup_code", "rejected"]
    assert lines[0]["value"] == "37050320260612000123" and lines[2]["problem"] == "payload.garbage"


@pytest.mark.parametrize("board", ["kerong", "8a"])
def test_locker_open_and_status(short_dir, capsys, board):
    with LockerSimulator(link=short_dir / "locker", board=board, doors=24, items=[3], auto_pickup_seconds=0,
                         wire_time=False) as simulator:
        base = ["--port", simulator.path, "--board", board, "--doors", "24"]
        assert main(["locker", "open", "3", *base]) == 0
        assert "door 3 opened" in capsys.readouterr().out
        assert main(["locker", "status", *base, "--json"]) == 0
        doors = json.loads(capsys.readouterr().out)["doors"]
        assert doors["3"]["closed"] is False and doors["4"]["closed"] is True
        simulator.set_fault("jammed", value=4)
        assert main(["locker", "open", "4", *base]) == 1
        err = capsys.readouterr().err
        assert "DEV-006" in err and "door 4" in err and err.count("\n") == 1
        assert main(["locker", "open", "99", *base]) == 2


def test_devices_status_reports_each_configured_device(short_dir, capsys):
    config = short_dir / "kiosk.toml"
    config.write_text('[terminal]\nid = "A"\nname = "测试"\n[devices.idcard]\ndriver = "ga467"\n'
                      f'port = "{short_dir / "ttyUSB0"}"\n[devices.scanner]\ndriver = "simulator"\n',
                      encoding="utf-8")
    assert main(["devices", "status", "--config", str(config), "--wait", "1"]) == 1
    out = capsys.readouterr().out
    assert "-- idcard   ga467" in out and "does not exist" in out
    assert "OK scanner  simulator" in out
