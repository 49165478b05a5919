"""Every string has Chinese and English, and every key the code asks for exists."""
from __future__ import annotations

import re
from pathlib import Path

from kiosk.i18n import Translator, load_strings

ROOT = Path(__file__).resolve().parents[2]
DATE_FORMATS = {"clock.format"}


def test_every_key_has_both_languages_and_same_placeholders():
    strings = load_strings()
    assert len(strings) > 20
    for key, entry in strings.items():
        assert entry.get("zh"), f"{key} has no Chinese"
        assert entry.get("en"), f"{key} has no English"
        placeholders = {lang: set(re.findall(r"\{(\w+)", text)) for lang, text in entry.items()}
        if key not in DATE_FORMATS:  # date formats pick different fields per language
            assert placeholders["zh"] == placeholders["en"], key


def test_every_key_used_in_code_exists():
    strings = load_strings()
    used = set()
    for path in list(ROOT.glob("screens/**/*.py")) + list(ROOT.glob("screens/**/*.kv")) + \
            list(ROOT.glob("kiosk/**/*.py")):
        used |= set(re.findall(r"""\btr\(\s*["']([a-z0-9_.]+)["']""", path.read_text(encoding="utf-8")))
    missing = sorted(key for key in used if key not in strings)
    assert not missing, missing


def test_switching_language_notifies_and_missing_key_shows_key():
    translator = Translator("zh")
    heard = []
    translator.subscribe(heard.append)
    assert translator.tr("nav.home") == "返回首页"
    translator.toggle()
    assert translator.tr("nav.home") == "Home" and heard == ["en"]
    assert translator.tr("no.such.key") == "no.such.key"
    assert translator.tr("home.footer", phone="0546-12345").startswith("Hotline 0546-12345")
