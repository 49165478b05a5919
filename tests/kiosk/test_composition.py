"""The composition root decides every device and the backend; the layers import one way."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kiosk.config import DEMO_CONFIG_PATH, load_settings, parse_settings
from kiosk.devices import BuildContext
from kiosk.runtime import build_printer, device_plans

ROOT = Path(__file__).resolve().parents[2]
ENTRY_LAYER = ("kiosk/cli.py", "kiosk/__main__.py", "kiosk/commands/")
BASE = '[terminal]\nid = "HK-1"\nname = "x"\n'


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _violations(package: str, forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[str]:
    problems = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(allowed):
            continue
        for line, module in _imports(path):
            if module.split(".")[0] in forbidden:
                problems.append(f"{relative}:{line} imports {module}")
    return problems


def test_the_core_never_imports_kivy_screens_or_the_reference_server():
    assert _violations("kiosk", ("kivy", "screens", "refbackend", "fastapi", "uvicorn"), ENTRY_LAYER) == []


def test_drivers_import_nothing_from_the_kiosk_or_the_screens():
    assert _violations("drivers", ("kiosk", "screens", "kivy", "refbackend")) == []


def test_the_demo_simulates_every_device():
    plans = {plan.name: plan.driver for plan in device_plans(load_settings(DEMO_CONFIG_PATH))}
    assert plans == {"idcard": "simulator", "scanner": "simulator", "locker": "simulator",
                     "printer": "simulator", "camera": "simulator"}


def test_a_device_set_to_none_is_not_planned_and_an_unknown_driver_says_what_exists(tmp_path):
    settings = parse_settings(BASE + '[devices.idcard]\ndriver = "none"\n')
    assert "idcard" not in {plan.name for plan in device_plans(settings)}


def test_camera_is_built_from_the_config_section(tmp_path):
    from drivers.camera.simulator import SimulatedSource
    from drivers.camera.sources import OpenCVSource

    settings = parse_settings(BASE + '[devices.camera]\ndriver = "simulator"\nwidth = 640\nheight = 360\n'
                                     'simulator_scene = "qr"\nscan_codes = true\n')
    plan = {plan.name: plan for plan in device_plans(settings)}["camera"]
    built = plan.build(BuildContext(tmp_path))
    camera = built.device
    assert isinstance(camera.source, SimulatedSource) and camera.source.scene == "qr"
    assert [name for name, _part in built.companions] == ["camera_scanner"]
    assert not camera.standby and built.enable_on_open  # a code scanner needs frames all the time
    with camera:
        assert camera.format.width == 640
    real = parse_settings(BASE + '[devices.camera]\ndriver = "opencv"\ndevice = "/dev/video5"\n')
    plan = {plan.name: plan for plan in device_plans(real)}["camera"]
    built = plan.build(BuildContext(tmp_path))
    source = built.device.source
    assert isinstance(source, OpenCVSource) and source.device == "/dev/video5"
    # a document camera alone waits in standby: opened while a material is captured (issue 16, memory)
    assert built.device.standby and not built.enable_on_open and not built.companions


def test_the_printer_is_real_or_simulated_as_configured(tmp_path):
    simulated = build_printer(parse_settings(BASE + '[devices.printer]\ndriver = "simulator"\npaper_width = 58\n'))
    assert simulated.link.kind == "simulator" and simulated.paper_width == 58
    real = build_printer(parse_settings(BASE + f'[devices.printer]\ndriver = "escpos"\ntransport = "file"\n'
                                               f'file_path = "{tmp_path / "lp0"}"\n'))
    assert real.link.kind == "file"
    assert build_printer(parse_settings(BASE)) is None
    with pytest.raises(ValueError, match="serial_port"):
        build_printer(parse_settings(BASE + '[devices.printer]\ndriver = "escpos"\ntransport = "serial"\n'))
