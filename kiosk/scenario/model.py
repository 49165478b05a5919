"""What a scenario file says once it has been read (a name, a configuration, steps), and a
scenario with everything needed to play it (``Plan``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.config import Settings

#: the step kinds, in the order the documentation lists them (a fixed vocabulary)
KINDS = ("screen", "sim", "tap", "tap_text", "type", "see", "not_see", "shot", "wait", "draw")
KINDS += ("key",)  # issue 13: a key combination on a hardware keyboard (the simulator panel's keys)
#: kinds that wait for something and so take ``timeout:``
WAITING_KINDS = ("screen", "tap", "tap_text", "type", "see", "draw")
DEFAULT_TIMEOUT = 10.0
MAX_SECONDS = 600.0


class ScenarioError(Exception):
    """A scenario file that cannot be played; the message names the file and the line."""

    def __init__(self, path: Path | str, message: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        self.detail = message
        where = self.path if line is None else f"{self.path}, line {line}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Step:
    number: int           # 1-based position in the file's step list
    line: int             # 1-based line of the step in the file
    kind: str             # one of KINDS
    value: Any            # the text (or seconds for ``wait``) as written
    timeout: float | None = None  # ``timeout:`` on the step; None for the default
    parsed: Any = None    # ``type``: the keys; ``sim``: the request the words make; ``key``: the combination

    @property
    def wait_seconds(self) -> float:
        return self.timeout if self.timeout is not None else DEFAULT_TIMEOUT

    def describe(self) -> str:
        """The step as the file says it, e.g. ``see: 欧**娜`` (for people reading the output)."""
        value = self.value
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = f"{self.kind}: {value}"
        if self.timeout is not None:
            text += f" (timeout {self.timeout:g} s)"
        return text


@dataclass(frozen=True)
class Scenario:
    path: Path                 # the file, resolved
    name: str                  # ``name:``, or the file's stem
    steps: tuple[Step, ...]
    config: Path | None = None  # ``config:`` resolved against the file's folder; None: the default
    config_line: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """A scenario ready to play: its settings (from its configuration) and its shots folder."""

    scenario: Scenario
    settings: Settings
    config: Path
    shots_dir: Path
    #: starts the reference backend inside the kiosk ([backend] embedded = true); from the entry layer
    embed_backend: Any = None
