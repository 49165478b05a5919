"""Every string a resident sees goes through ``Translator.tr``.

Strings live as data in ``assets/i18n/strings.toml``: one table per key with a ``zh`` and
an ``en`` value, side by side, so that a missing translation is easy to spot (a test
checks that every key has both, and that every key the code asks for exists). A missing
key never crashes the kiosk: it is logged once and the key itself is shown.
"""
from __future__ import annotations

import logging
import tomllib
from pathlib import Path
from typing import Callable

from drivers.events import Listeners, Subscription

log = logging.getLogger(__name__)

STRINGS_PATH = Path(__file__).resolve().parent.parent / "assets" / "i18n" / "strings.toml"
LANGUAGES = ("zh", "en")


def load_strings(path: Path = STRINGS_PATH) -> dict[str, dict[str, str]]:
    with open(path, "rb") as handle:
        tree = tomllib.load(handle)
    flat: dict[str, dict[str, str]] = {}

    def walk(node: dict, prefix: str) -> None:
        if "zh" in node and isinstance(node["zh"], str):
            flat[prefix] = {lang: node[lang] for lang in LANGUAGES if isinstance(node.get(lang), str)}
            return
        for key, child in node.items():
            if isinstance(child, dict):
                walk(child, f"{prefix}.{key}" if prefix else key)

    walk(tree, "")
    return flat


class Translator:
    def __init__(self, language: str = "zh", strings: dict[str, dict[str, str]] | None = None):
        self.strings = strings if strings is not None else load_strings()
        self.language = language if language in LANGUAGES else "zh"
        self._listeners: Listeners[str] = Listeners("language")
        self._missing: set[str] = set()

    def tr(self, key: str, **values: object) -> str:
        entry = self.strings.get(key)
        text = None
        if entry:
            text = entry.get(self.language) or entry.get("zh")
        if text is None:
            if key not in self._missing:
                self._missing.add(key)
                log.error("missing translation", extra={"fields": {"key": key}})
            return key
        if values:
            try:
                return text.format(**values)
            except (KeyError, IndexError, ValueError):
                log.error("translation placeholders do not match", extra={"fields": {"key": key}})
        return text

    def set_language(self, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        if language != self.language:
            self.language = language
            self._listeners.publish(language)

    def toggle(self) -> str:
        self.set_language("en" if self.language == "zh" else "zh")
        return self.language

    def subscribe(self, listener: Callable[[str], None]) -> Subscription:
        return self._listeners.add(listener)
