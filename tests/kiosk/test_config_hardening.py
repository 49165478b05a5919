"""A configuration file cannot smuggle in what probing found (issue 15): NaN timeouts, huge or
deeply nested values, a giant file, a key other users can read. Each is one plain line."""
from __future__ import annotations

import os
import time

import pytest

from kiosk.config import MAX_CONFIG_BYTES, ConfigError, check_secret_permissions, load_settings, parse_settings

BASE = '[terminal]\nid = "HK-1"\nname = "x"\n'


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+nan"])
@pytest.mark.parametrize("key", ["[devices.idcard]\ntimeout_seconds", "[backend]\nread_timeout",
                                 "[backend]\nconnect_timeout", "[devices.printer]\ntimeout_seconds"])
def test_non_finite_numbers_are_refused(key, value):
    with pytest.raises(ConfigError, match="finite"):
        parse_settings(BASE + f"{key} = {value}\n")


def test_a_huge_integer_is_one_line_not_a_traceback():
    with pytest.raises(ConfigError) as caught:
        parse_settings(BASE + "[session]\nidle_seconds = " + "9" * 5000 + "\n")
    assert "far too large" in str(caught.value) and "\n" not in str(caught.value)


def test_deep_nesting_is_refused_plainly():
    with pytest.raises(ConfigError, match="nested too deeply"):
        parse_settings(BASE + "x = " + "[" * 100000 + "]" * 100000 + "\n")


def test_a_giant_file_is_refused_quickly(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text(BASE + "# comment\n" * (MAX_CONFIG_BYTES // 10 + 10))
    started = time.perf_counter()
    with pytest.raises(ConfigError, match="larger than"):
        load_settings(path)
    assert time.perf_counter() - started < 5  # not a timing claim: a hang would time the test out


def test_a_long_valid_file_with_an_error_at_the_end_names_the_line(tmp_path):
    lines = BASE + "# a comment line\n" * 20000 + "[session]\nidle_seconds = 5\n"
    with pytest.raises(ConfigError) as caught:
        parse_settings(lines)
    assert caught.value.line == 20005


def test_an_inline_key_in_a_file_others_can_read_refuses_to_start(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text(BASE + '[backend]\nurl = "https://zwfw.example.cn"\nterminal_key = "' + "A" * 43 + '="\n')
    os.chmod(path, 0o644)
    settings = load_settings(path)
    with pytest.raises(ConfigError, match="chmod 600"):
        check_secret_permissions(settings)
    os.chmod(path, 0o600)
    check_secret_permissions(settings)


def test_a_key_file_others_can_read_refuses_to_start(tmp_path):
    key = tmp_path / "terminal.key"
    key.write_text("A" * 43 + "=\n")
    os.chmod(key, 0o640)
    settings = parse_settings(BASE + f'[backend]\nurl = "https://zwfw.example.cn"\nterminal_key_file = "{key}"\n')
    with pytest.raises(ConfigError, match="other users can read it"):
        check_secret_permissions(settings)
