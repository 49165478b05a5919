"""Key combinations of `[technician] sim_panel_keys` and of a scenario's `key:` step."""
from __future__ import annotations

import pytest

from kiosk.technician.keys import parse_keys


def test_a_combination_matches_exactly_its_modifiers():
    combo = parse_keys("Ctrl+Shift+S")
    assert str(combo) == "ctrl+shift+s" and combo.keycode == ord("s")
    assert combo.matches(ord("s"), ["shift", "ctrl", "numlock"])  # lock keys do not count
    assert not combo.matches(ord("s"), ["ctrl"])
    assert not combo.matches(ord("s"), ["ctrl", "shift", "alt"])
    assert not combo.matches(ord("d"), ["ctrl", "shift"])


def test_function_keys_digits_and_no_modifier():
    assert parse_keys("ctrl+f9").keycode == 290 and parse_keys("f1").keycode == 282
    assert parse_keys("alt+7").matches(ord("7"), ("alt",))


@pytest.mark.parametrize("text", ["", "ctrl+", "ctrl+banana", "hyper+s", "ctrl+f13", "s+ctrl"])
def test_what_is_not_a_combination_says_what_is(text):
    with pytest.raises(ValueError, match="modifiers ctrl, shift, alt, meta"):
        parse_keys(text)
