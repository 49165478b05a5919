"""Configuration errors reach the technician as one readable line naming key and line."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.config import DEMO_CONFIG_PATH, ConfigError, load_settings, parse_settings

GOOD = """\
[terminal]
id = "HK-LH-001"
name = "六合街道便民服务中心 1号机"

[display]
width = 1920
height = 1080
language = "en"

[session]
idle_seconds = 60
"""


def test_good_file_becomes_typed_settings():
    settings = parse_settings(GOOD)
    assert settings.terminal.name == "六合街道便民服务中心 1号机"
    assert (settings.display.width, settings.display.height) == (1920, 1080)
    assert settings.display.language == "en"
    assert settings.session.idle_seconds == 60
    assert settings.session.countdown_seconds == 15  # default


def test_demo_config_is_valid():
    settings = load_settings(DEMO_CONFIG_PATH)
    assert settings.terminal.id


def test_missing_key_names_key_and_table_line():
    text = GOOD.replace('name = "六合街道便民服务中心 1号机"\n', "")
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "kiosk.toml")
    message = str(caught.value)
    assert "terminal.name" in message
    assert "line 1" in message
    assert "missing" in message


def test_missing_table_names_it():
    with pytest.raises(ConfigError) as caught:
        parse_settings("[display]\nwidth = 1080\n", "kiosk.toml")
    assert "terminal" in str(caught.value)


def test_wrong_type_names_key_line_and_expectation():
    text = GOOD.replace("idle_seconds = 60", 'idle_seconds = "ninety"')
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "kiosk.toml")
    error = caught.value
    assert error.key == "session.idle_seconds"
    assert error.line == 11
    assert "seconds" in str(error) and '"ninety"' in str(error)


def test_out_of_range_value_says_the_bound():
    text = GOOD.replace("idle_seconds = 60", "idle_seconds = 2")
    with pytest.raises(ConfigError, match=r"line 11.*at least 10"):
        parse_settings(text, "kiosk.toml")


def test_bad_choice_lists_choices():
    text = GOOD.replace('language = "en"', 'language = "fr"')
    with pytest.raises(ConfigError, match=r"line 8.*display.language.*\"zh\" or \"en\""):
        parse_settings(text, "kiosk.toml")


def test_unknown_key_is_refused_with_known_keys():
    text = GOOD.replace("idle_seconds = 60", "idle_secs = 60")
    with pytest.raises(ConfigError, match=r"line 11.*session.idle_secs.*idle_seconds"):
        parse_settings(text, "kiosk.toml")


def test_bad_toml_syntax_names_line():
    text = GOOD.replace("width = 1920", "width = = 1920")
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "kiosk.toml")
    assert caught.value.line == 6
    assert "TOML syntax" in str(caught.value)


def test_not_utf8_is_reported(tmp_path: Path):
    path = tmp_path / "kiosk.toml"
    path.write_bytes(GOOD.encode("gb18030"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_settings(path)


def test_missing_file_is_reported(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


@pytest.mark.parametrize("body, expected", [
    ('[terminal]\nid = "X"\n', "terminal.name"),
    ('[terminal]\nid = "X"\nname = "n"\n[display]\nwidth = "wide"\n', "line 5"),
    ('[terminal\nid = "X"\n', "line 1"),
])
def test_kiosk_run_prints_one_line_not_a_traceback(tmp_path: Path, body: str, expected: str):
    path = tmp_path / "kiosk.toml"
    path.write_text(body, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "kiosk.cli", "run", "--config", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert expected in result.stderr
    assert result.stderr.count("\n") == 1


def test_shipped_example_is_valid():
    settings = load_settings(Path(__file__).resolve().parents[2] / "assets" / "kiosk.example.toml")
    assert settings.session.scratch_dir == "/run/kiosk"

def test_camera_section_defaults_and_checks():
    settings = parse_settings(GOOD)
    camera = settings.devices.camera
    assert (camera.driver, camera.width, camera.height, camera.fourcc) == ("none", 1920, 1080, "MJPG")
    assert camera.output_dpi == 200 and camera.max_file_kb == 1024
    custom = parse_settings(GOOD + '\n[devices.camera]\ndriver = "simulator"\ndevice = "/dev/v4l/by-id/usb-cam"\n'
                                   'fourcc = "YUYV"\nsteady_seconds = 1.5\n')
    assert custom.devices.camera.device == "/dev/v4l/by-id/usb-cam" and custom.devices.camera.steady_seconds == 1.5
    for bad in ('driver = "webcam"', 'fourcc = "MJPEG"', "output_dpi = 20", "jpeg_quality = 101", 'device = ""'):
        with pytest.raises(ConfigError) as caught:
            parse_settings(GOOD + f"\n[devices.camera]\n{bad}\n", "kiosk.toml")
        assert "devices.camera." + bad.split(" ")[0] in str(caught.value)
