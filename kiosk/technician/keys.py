"""Key combinations on a hardware keyboard, e.g. ``ctrl+shift+s`` (``[technician] sim_panel_keys``).

``parse_keys("ctrl+shift+s")`` gives a ``KeyCombo``: the modifiers and one key (a letter, a
digit or ``f1``…``f12``). ``matches(keycode, modifiers)`` takes what the window reports for a
key press (SDL key codes: the lower-case letter's code whatever the shift state, 282… for
F1…; modifier names such as ``ctrl``, ``shift``, ``alt``, ``meta``) and is true only for
exactly these modifiers (Caps Lock and Num Lock do not count).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MODIFIERS = ("ctrl", "shift", "alt", "meta")
F1_KEYCODE = 282
_COMBO = re.compile(r"((?:(?:ctrl|shift|alt|meta)\+)*)([a-z0-9]|f(?:[1-9]|1[0-2]))")


@dataclass(frozen=True)
class KeyCombo:
    modifiers: frozenset[str]
    key: str  # "s", "7", "f5"

    @property
    def keycode(self) -> int:
        if len(self.key) > 1:
            return F1_KEYCODE + int(self.key[1:]) - 1
        return ord(self.key)

    def matches(self, keycode: int, modifiers) -> bool:
        held = {name for name in (modifiers or ()) if name in MODIFIERS}
        return keycode == self.keycode and held == set(self.modifiers)

    def __str__(self) -> str:
        return "+".join([m for m in MODIFIERS if m in self.modifiers] + [self.key])


def parse_keys(text: str) -> KeyCombo:
    """``"ctrl+shift+s"`` → its ``KeyCombo``; ``ValueError`` names what is accepted."""
    cleaned = (text or "").strip().lower().replace(" ", "")
    match = _COMBO.fullmatch(cleaned)
    if not match:
        raise ValueError(f"{text!r} is not a key combination: modifiers ctrl, shift, alt, meta joined by + "
                         "and one key a–z, 0–9 or f1–f12, e.g. ctrl+shift+s")
    modifiers = frozenset(part for part in match.group(1).split("+") if part)
    return KeyCombo(modifiers, match.group(2))
