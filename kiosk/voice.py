"""Spoken prompts: a small text-to-speech facade over espeak-ng, silent where it is missing.

``Voice`` speaks a sentence with the ``espeak-ng`` program (Mandarin voice ``cmn`` by default,
``en`` for English), one at a time: a new prompt cuts the one still playing short. Where the
program is not installed, or there is no sound card, nothing is heard and nothing fails.
``synthesize(text, path)`` writes the same speech to a WAV file instead (what the tests
measure with sox).

``Prompter`` is what the journeys call: ``say("pickup.voice_take", door=5)`` translates the
key into the resident's language and speaks it, if prompts are on — switched in the
configuration (``[voice] enabled``) and, for one session, by the resident (``set_enabled``;
the choice is kept in the session, so the next resident starts with the terminal's default).

Prompts carry no personal data (a door number, an instruction); the text is never logged.
"""
from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from collections import deque
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)

SESSION_KEY = "voice_prompts"


class Voice:
    def __init__(self, command: str = "espeak-ng", voice: str = "cmn", english_voice: str = "en", rate: int = 140,
                 popen: Callable[..., Any] = subprocess.Popen):
        self.command = command
        self.voices = {"zh": voice, "en": english_voice}
        self.rate = int(rate)
        self._popen = popen
        self._lock = threading.Lock()
        self._playing: Any = None
        self.path = shutil.which(command)
        if self.path is None:
            log.info("no text-to-speech program: prompts are shown, not spoken",
                     extra={"fields": {"command": command}})

    @property
    def available(self) -> bool:
        return self.path is not None

    def _args(self, text: str, language: str) -> list[str]:
        return [self.path or self.command, "-v", self.voices.get(language, self.voices["zh"]), "-s", str(self.rate),
                "--", text]

    def say(self, text: str, language: str = "zh") -> bool:
        """Start speaking ``text`` (returns at once); cuts short what is still being said.
        False when nothing could be started."""
        if not self.available or not text.strip():
            return False
        with self._lock:
            self._stop_playing()
            try:
                self._playing = self._popen(self._args(text, language), stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            except OSError as exc:
                log.warning("text-to-speech failed to start", extra={"fields": {"error": type(exc).__name__}})
                self._playing = None
                return False
        return True

    def synthesize(self, text: str, path: Path | str, language: str = "zh", timeout: float = 30.0) -> bool:
        """Write the speech for ``text`` to the WAV file ``path``; False when it could not be made."""
        if not self.available:
            return False
        args = self._args(text, language)
        args[1:1] = ["-w", str(path)]
        try:
            done = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("text-to-speech failed", extra={"fields": {"error": type(exc).__name__}})
            return False
        return done.returncode == 0 and Path(path).is_file() and Path(path).stat().st_size > 44

    def _stop_playing(self) -> None:
        playing, self._playing = self._playing, None
        if playing is not None and playing.poll() is None:
            try:
                playing.terminate()
            except OSError:
                pass

    def stop(self) -> None:
        with self._lock:
            self._stop_playing()


class Prompter:
    """Speaks the journeys' prompts in the resident's language, when prompts are on."""

    def __init__(self, voice: Voice | None, translator: Any, session: Any, enabled: bool = True):
        self.voice = voice
        self.translator = translator
        self.session = session
        self.default_on = enabled
        #: the last prompts (translation keys) the journeys asked for, spoken or not
        self.recent: deque[str] = deque(maxlen=20)

    @property
    def available(self) -> bool:
        return self.voice is not None and self.voice.available

    def enabled(self) -> bool:
        """On for this session? (the terminal's default until the resident switches it)"""
        return bool(self.session.get(SESSION_KEY, self.default_on))

    def set_enabled(self, on: bool) -> None:
        """The resident's choice for this session; the next session starts with the default again."""
        self.session.put(SESSION_KEY, bool(on))
        if not on and self.voice is not None:
            self.voice.stop()

    def say(self, key: str, **values: Any) -> bool:
        """Speak the translation of ``key``; True when speech was started."""
        self.recent.append(key)
        if not self.enabled() or not self.available:
            return False
        return self.voice.say(self.translator.tr(key, **values), self.translator.language)

    def stop(self) -> None:
        if self.voice is not None:
            self.voice.stop()


def voice_from_settings(settings: Any) -> Voice | None:
    """The ``Voice`` for ``[voice]`` (None when prompts are switched off in the configuration)."""
    cfg = settings.voice
    if not cfg.enabled:
        return None
    return Voice(cfg.command, cfg.voice, cfg.english_voice, cfg.rate)
