"""`kiosk diag`: the documented JSON document, absent devices, faults and the exit code."""
from __future__ import annotations

import json

import pytest

from kiosk.cli import main
from kiosk.diagnostics.model import DEVICE_NAMES, STATUSES

BASE = """
[terminal]
id = "HK-TEST-001"
name = "测试终端"
[devices]
health_seconds = 1
"""


def write_config(tmp_path, body: str):
    path = tmp_path / "kiosk.toml"
    path.write_text(BASE + body, encoding="utf-8")
    return str(path)


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_STATE_DIR", str(tmp_path / "state"))


def run_json(capsys, config, *extra):
    code = main(["diag", "--json", "--config", config, "--wait", "3", *extra])
    out, _err = capsys.readouterr()
    return code, json.loads(out)


def test_nothing_configured_lists_every_device_as_absent_and_exits_0(tmp_path, capsys):
    code, report = run_json(capsys, write_config(tmp_path, ""))
    assert code == 0 and report["healthy"] is True
    assert [d["name"] for d in report["devices"]] == list(DEVICE_NAMES)
    for device in report["devices"]:
        assert device["status"] == "absent" and device["code"] is None
        assert set(device) >= {"name", "status", "code", "detail"}
    assert report["schema"] == 1 and report["terminal"] == {"id": "HK-TEST-001", "name": "测试终端"}
    assert report["system"]["version"] and report["system"]["memory"]["total_mb"]
    assert isinstance(report["serial_ports"], list)


def test_healthy_simulated_devices_are_ok(tmp_path, capsys):
    config = write_config(tmp_path, """
[devices.idcard]
driver = "simulator"
[devices.scanner]
driver = "simulator"
[devices.locker]
driver = "simulator"
[devices.printer]
driver = "simulator"
""")
    code, report = run_json(capsys, config)
    by_name = {d["name"]: d for d in report["devices"]}
    assert code == 0, report
    for name in ("idcard", "scanner", "locker", "printer"):
        assert by_name[name]["status"] == "ok" and by_name[name]["code"] is None
        assert by_name[name]["simulated"] is True and by_name[name]["checks"]
        assert by_name[name]["history"][-1]["state"] == "online"
    assert by_name["camera"]["status"] == "absent" and by_name["backend"]["status"] == "absent"
    for device in report["devices"]:
        assert device["status"] in STATUSES


def test_a_faulty_configured_device_makes_the_exit_non_zero_with_its_code(tmp_path, capsys):
    config = write_config(tmp_path, """
[devices.idcard]
driver = "simulator"
simulator_faults = "sam_failure"
[devices.locker]
driver = "simulator"
""")
    code, report = run_json(capsys, config)
    idcard = report["devices"][0]
    assert code == 1 and report["healthy"] is False
    assert idcard["name"] == "idcard" and idcard["status"] == "fault" and idcard["code"] == "DEV-006"
    assert idcard["last_error"]["code"] == "DEV-006" and idcard["last_error"]["raw"]
    assert "SAM" in idcard["detail"] or "SAM" in idcard["last_error"]["text"]
    assert report["devices"][4]["status"] == "ok"


def test_a_reader_that_does_not_answer_is_a_fault_with_dev_003(tmp_path, capsys):
    config = write_config(tmp_path, """
[devices.scanner]
driver = "simulator"
[devices.idcard]
driver = "simulator"
simulator_faults = "no_answer"
timeout_seconds = 0.2
""")
    code, report = run_json(capsys, config)
    idcard = report["devices"][0]
    assert code == 1 and idcard["status"] == "fault" and idcard["code"] == "DEV-003"


def test_text_output_names_each_device_and_the_verdict(tmp_path, capsys):
    config = write_config(tmp_path, "[devices.locker]\ndriver = \"simulator\"\n")
    code = main(["diag", "--config", config, "--wait", "3"])
    out = capsys.readouterr().out
    assert code == 0
    assert "OK    locker" in out and "  -   printer" in out and out.rstrip().endswith("healthy")


def test_a_broken_config_is_exit_2(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("[terminal]\nid = \"x\"\nname = 1\n", encoding="utf-8")
    assert main(["diag", "--config", str(path)]) == 2
