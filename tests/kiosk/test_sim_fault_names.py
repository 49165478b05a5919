"""A fault has one name: in ``simulator_faults`` of the config, in ``kiosk sim fault`` and on the panel."""
from __future__ import annotations

import pytest

from kiosk.commands.sim import SimCall, parse_sim_words
from kiosk.config import ConfigError, parse_settings
from kiosk.devices import BuildContext
from kiosk.runtime import device_plans

BASE = '[terminal]\nid = "HK-1"\nname = "x"\n'
SIMULATED = ("idcard", "scanner", "locker", "printer")


def _built(tmp_path, device: str, faults: str):
    settings = parse_settings(BASE + f'[devices.{device}]\ndriver = "simulator"\nsimulator_faults = "{faults}"\n')
    plan = {plan.name: plan for plan in device_plans(settings)}[device]
    return plan.build(BuildContext(tmp_path))


@pytest.mark.parametrize("device", SIMULATED)
def test_every_known_fault_can_be_set_from_the_config_and_by_the_same_words(tmp_path, device):
    built = _built(tmp_path, device, "")
    try:
        known = built.simulator.state()["known_faults"]
    finally:
        built.simulator.stop()
    assert "vanish" in known and len(known) >= 4
    for fault in known:
        built = _built(tmp_path, device, fault)
        try:
            state = built.simulator.state()
            if fault == "vanish":
                assert state["plugged_in"] is False
            else:
                assert fault in [f["fault"] for f in state["faults"]] or \
                    (fault == "paper_run_out" and state["paper"] in ("ok", "near_end")), fault
        finally:
            built.simulator.stop()
        assert parse_sim_words(f"fault {device} {fault}") == SimCall(device, "fault", {"fault": fault, "on": True})


def test_the_printer_takes_simulator_faults_like_the_others(tmp_path):
    built = _built(tmp_path, "printer", "paper_near_end, slow:1.5")
    assert [f["fault"] for f in built.simulator.state()["faults"]] == ["paper_near_end", "slow"]
    assert built.simulator.state()["faults"][1]["value"] == 1.5


def test_an_unknown_fault_in_the_config_names_the_known_ones(tmp_path):
    with pytest.raises(ValueError, match=r"simulator_faults: unknown fault 'paper_jam' for the printer simulator; "
                                         r"known: .*paper_out"):
        _built(tmp_path, "printer", "paper_jam")
    with pytest.raises(ConfigError, match="simulator_faults"):
        parse_settings(BASE + '[devices.printer]\ndriver = "simulator"\nsimulator_faults = "Paper Out!"\n')


def test_the_camera_lists_its_faults_and_takes_each_of_them():
    """Its state lists them like every simulator's (the soak draws from these lists)."""
    from drivers.camera.simulator import SimulatedSource

    camera = SimulatedSource(320, 240)
    known = camera.state()["known_faults"]
    assert set(known) == {"slow", "no_device", "vanish"}
    for fault in known:
        state = camera.control("fault", {"fault": fault, "on": True})
        if fault in ("vanish", "no_device"):
            assert state["plugged_in"] is False
        else:
            assert state["fault"] == fault and state["plugged_in"] is True
        assert camera.control("clear", {})["fault"] == "none"
        assert parse_sim_words(f"fault camera {fault}") == SimCall("camera", "fault", {"fault": fault, "on": True})
    camera.stop()
