"""Spoken prompts: espeak-ng makes real, audible speech; without it the kiosk stays silent and works."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from kiosk.i18n import Translator
from kiosk.session import Session
from kiosk.voice import Prompter, Voice

needs_speech = pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")),
                                  reason="espeak-ng and sox are installed by `make setup`")


def sox_stat(path) -> dict[str, float]:
    """`sox FILE -n stat` as numbers (sox prints the statistics on stderr)."""
    done = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True, timeout=30)
    figures = {}
    for line in done.stderr.splitlines():
        name, _, value = line.partition(":")
        try:
            figures[re.sub(r"\s+", " ", name.strip())] = float(value)
        except ValueError:
            continue
    return figures


@needs_speech
@pytest.mark.parametrize("text, language", [("请从 5 号柜门取件", "zh"), ("取件后请随手关好柜门", "zh"),
                                            ("Please take your documents from door 5", "en")])
def test_a_prompt_becomes_an_audio_file_that_is_not_silent(tmp_path, text, language):
    voice = Voice()
    target = tmp_path / "prompt.wav"
    assert voice.synthesize(text, target, language)
    stat = sox_stat(target)
    assert stat["Length (seconds)"] > 0.8  # a sentence, not a click
    assert stat["RMS amplitude"] > 0.01 and stat["Maximum amplitude"] > 0.1  # something to hear


def test_without_espeak_nothing_is_spoken_and_nothing_fails(tmp_path):
    voice = Voice(command="no-such-tts-program")
    assert not voice.available
    assert voice.say("请从 5 号柜门取件") is False
    assert voice.synthesize("请从 5 号柜门取件", tmp_path / "x.wav") is False
    prompter = Prompter(voice, Translator("zh"), Session(tmp_path / "s"))
    assert prompter.say("pickup.voice_take", door=5) is False
    assert list(prompter.recent) == ["pickup.voice_take"]


class FakePopen:
    started: list[list[str]] = []

    def __init__(self, args, **kwargs):
        FakePopen.started.append(args)
        self.terminated = False

    def poll(self):
        return None

    def terminate(self):
        self.terminated = True


def test_prompts_follow_the_language_and_the_residents_choice_for_this_session(tmp_path):
    FakePopen.started = []
    voice = Voice(command="sh", popen=FakePopen)  # any program that exists; it is never really run
    translator = Translator("zh")
    session = Session(tmp_path / "s")
    prompter = Prompter(voice, translator, session, enabled=True)
    assert prompter.say("pickup.voice_take", door=5)
    assert FakePopen.started[-1][2] == "cmn" and "5" in FakePopen.started[-1][-1]
    translator.set_language("en")
    assert prompter.say("pickup.voice_take", door=5)
    assert FakePopen.started[-1][2] == "en" and "door 5" in FakePopen.started[-1][-1]
    prompter.set_enabled(False)
    assert prompter.say("pickup.voice_close", door=5) is False
    session.end("home")  # the next resident hears the prompts again
    assert prompter.enabled()
    assert prompter.say("pickup.voice_close", door=5)
    assert len(FakePopen.started) == 3
