"""The testers' simulator panel as data: which buttons it has, and the ``kiosk sim`` words of each.

The panel has no action of its own. Its buttons come from two things only:

- **the words of ``kiosk sim``** (``add_actions`` in ``kiosk/commands/sim.py``), read as a
  grammar (``word_forms``): each sub-command path (``card``, ``door``, ``camera show``…) with
  its positional arguments, in order; an argument with ``choices`` gives one button per
  choice, one without takes its values from a *source* named after it (``SOURCES``: the
  simulators for ``device``, a simulator's ``known_faults`` for ``fault``, the ID card deck for
  ``key``, ready-made payloads for ``payload``, pictures for ``file``, the chosen door for
  ``door``); an argument nobody can fill is left out when optional, else the form is skipped;
- **what the running simulators report** (``list``): a button is kept only when the request
  its words make (``parse_sim_words``) goes to a running simulator, changes something (not a
  query such as ``status`` or ``deck``), and is among the ``actions`` the simulator reports
  (a simulator that reports no ``actions`` gets every request addressed to it).

Pressing a button sends exactly the request ``kiosk sim WORDS`` would send (``call``, which
the panel wires to ``call_simulator`` on the kiosk's control socket). So a word added to
``kiosk sim`` and a simulator that answers it appear on the panel without a change here;
words that parse into nothing a running simulator answers never appear.

A fault that is set now (in the simulator's ``faults``) is shown as on, and its button's
words end in ``--off``. A folder of pictures is one button that shows the folder's next
picture each time (``camera show …/page-2.jpg``), for multi-page materials.
"""
from __future__ import annotations

import argparse
import itertools
import re
import shlex
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable

from drivers.sim.interface import QUERY_VERBS
from kiosk.commands.sim import SimCall, SimWordsError, _WordsParser, add_actions, parse_sim_words

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "sim"
DEFAULT_PAYLOADS = ASSETS / "payloads.toml"
DEFAULT_PICTURES = ASSETS / "pictures"
PICTURE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
MAX_PICTURES = 12
MAX_FOLDERS = 6
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]+")

Grammar = Callable[[argparse.ArgumentParser], None]


# -- the grammar -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """A positional argument of a form: its name, its choices (None: free text), optional or not."""

    dest: str
    choices: tuple[str, ...] | None
    optional: bool


@dataclass(frozen=True)
class Form:
    """One sub-command path of ``kiosk sim`` (``("camera", "show")``) and its positional arguments."""

    words: tuple[str, ...]
    slots: tuple[Slot, ...]
    flags: frozenset[str]  # options that take no value, e.g. --off


def word_forms(grammar: Grammar = add_actions) -> list[Form]:
    """Every form the words of ``kiosk sim`` allow, in the order they are defined."""
    parser = _WordsParser(prog="kiosk sim", add_help=False)
    grammar(parser)
    return list(_forms(parser, ()))


def _forms(parser: argparse.ArgumentParser, prefix: tuple[str, ...]) -> Iterable[Form]:
    actions = parser._actions  # argparse keeps the declared arguments here (no public accessor)
    sub = next((a for a in actions if isinstance(a, argparse._SubParsersAction)), None)
    if sub is not None:
        seen: set[int] = set()
        for name, child in sub.choices.items():
            if id(child) not in seen:  # an alias names the same parser again
                seen.add(id(child))
                yield from _forms(child, prefix + (name,))
        return
    slots = tuple(Slot(a.dest, tuple(str(c) for c in a.choices) if a.choices else None, a.nargs in ("?", "*"))
                  for a in actions if not a.option_strings and a.dest != "help")
    flags = frozenset(o for a in actions if a.option_strings and a.nargs == 0 for o in a.option_strings)
    yield Form(prefix, slots, flags)


# -- values for the arguments -------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """What fills one argument: the words it adds, a short key (for widget ids) and a label."""

    words: tuple[str, ...]
    key: str
    label: str
    device: str | None = None   # the simulator the value belongs to (a deck's card), if only one
    active: bool = False        # a fault that is set now
    selected: bool = False      # the panel's current choice (the door), not a button of its own
    after_press: Callable[[], None] | None = field(default=None, compare=False)


@dataclass
class Reported:
    """What the running simulators reported, and the panel's own choices, for the sources."""

    states: dict[str, dict[str, Any]]
    decks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    door: int = 1


Source = Callable[["SimPanel", dict[str, Value]], list[Value]]


def _devices(panel: "SimPanel", _bound: dict[str, Value]) -> list[Value]:
    return [Value((name,), name, name, device=name) for name in panel.reported.states]


def _faults(panel: "SimPanel", bound: dict[str, Value]) -> list[Value]:
    device = bound.get("device")
    names = [device.key] if device is not None else list(panel.reported.states)
    values = []
    for name in names:
        state = panel.reported.states.get(name, {})
        active = {f.get("fault") for f in state.get("faults") or [] if isinstance(f, dict)}
        if state.get("plugged_in") is False:  # unplugged: the vanish fault is on
            active.add("vanish")
        for fault in state.get("known_faults") or []:
            values.append(Value((str(fault),), str(fault), str(fault), device=name, active=fault in active))
    return values


def _cards(panel: "SimPanel", _bound: dict[str, Value]) -> list[Value]:
    return [Value((str(card["key"]),), str(card["key"]), str(card["key"]), device=device)
            for device, deck in panel.reported.decks.items() for card in deck if card.get("key")]


def _payloads(panel: "SimPanel", _bound: dict[str, Value]) -> list[Value]:
    return list(panel.payloads)


def _door(panel: "SimPanel", _bound: dict[str, Value]) -> list[Value]:
    door = str(panel.reported.door)
    return [Value((door,), door, door, selected=True)]


def _pictures(panel: "SimPanel", _bound: dict[str, Value]) -> list[Value]:
    return panel.pictures.values()


#: argument name → where its values come from
SOURCES: dict[str, Source] = {
    "device": _devices,
    "fault": _faults,
    "key": _cards,
    "payload": _payloads,
    "door": _door,
    "file": _pictures,
}


def load_payloads(path: str | Path | None = None) -> list[Value]:
    """Ready-made codes for ``scan`` from a TOML file of ``[[payload]]`` tables (key, label,
    text or hex); the bundled ``assets/sim/payloads.toml`` when ``path`` is empty."""
    path = Path(path) if path else DEFAULT_PAYLOADS
    with open(path, "rb") as handle:
        tables = tomllib.load(handle).get("payload", [])
    values = []
    for table in tables:
        key, label = str(table.get("key", "")), str(table.get("label", ""))
        if "hex" in table:
            words: tuple[str, ...] = (str(table["hex"]), "--hex")
        else:
            words = (str(table.get("text", "")),)
        if key and words[0]:
            values.append(Value(words, key, label or key))
    return values


class Pictures:
    """The pictures a tester can show to the camera: each picture in a folder, and each of its
    sub-folders as a sequence (one button that shows the folder's next picture each time)."""

    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder) if folder else DEFAULT_PICTURES
        self.positions: dict[Path, int] = {}

    @staticmethod
    def _pictures_in(folder: Path) -> list[Path]:
        try:
            return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PICTURE_SUFFIXES)
        except OSError:
            return []

    def values(self) -> list[Value]:
        values = [Value((str(p),), p.name, p.name) for p in self._pictures_in(self.folder)[:MAX_PICTURES]]
        try:
            folders = sorted(p for p in self.folder.iterdir() if p.is_dir())[:MAX_FOLDERS]
        except OSError:
            folders = []
        for folder in folders:
            pictures = self._pictures_in(folder)
            if not pictures:
                continue
            at = self.positions.get(folder, 0) % len(pictures)
            values.append(Value((str(pictures[at]),), folder.name, f"{folder.name}/ {at + 1}/{len(pictures)}",
                                after_press=lambda f=folder, n=len(pictures), i=at: self.positions.__setitem__(
                                    f, (i + 1) % n)))
        return values


# -- the panel ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One button: the simulator it acts on, its section, its words and the request they make."""

    device: str
    section: tuple[str, ...]     # the form's words, e.g. ("card",), ("camera", "show")
    choices: tuple[str, ...]     # the chosen words of arguments with choices, e.g. ("place",)
    value: Value | None          # the picked value (card, payload, fault, picture), if any
    words: tuple[str, ...]       # what ``kiosk sim`` is told
    call: SimCall
    widget_id: str

    @property
    def active(self) -> bool:
        return bool(self.value is not None and self.value.active)

    @property
    def text(self) -> str:
        """The words as a tester would type them after ``kiosk sim``."""
        return shlex.join(self.words)


def _id_part(text: str) -> str:
    return _ID_UNSAFE.sub("_", text).strip("_") or "x"


class SimPanel:
    """The panel's content for the simulators that run now. ``call(SimCall) → answer`` talks to
    them (``call_simulator`` on the kiosk's socket); it raises on a refused request."""

    def __init__(self, call: Callable[[SimCall], dict[str, Any]], *, grammar: Grammar = add_actions,
                 payloads: list[Value] | None = None, pictures: Pictures | None = None,
                 sources: dict[str, Source] | None = None):
        self.call = call
        self.grammar = grammar
        self.forms = word_forms(grammar)
        self.payloads = load_payloads() if payloads is None else payloads
        self.pictures = pictures or Pictures()
        self.sources = dict(SOURCES if sources is None else sources)
        self.reported = Reported({})

    # -- what runs ---------------------------------------------------------------------------------
    def refresh(self) -> dict[str, dict[str, Any]]:
        """Ask the simulators for their state (and the ID card deck once); returns the states."""
        states = self.call(SimCall(None, "list"))
        decks = {}
        for name, state in states.items():
            if "deck" in (state.get("actions") or []):
                deck = self.reported.decks.get(name)
                if deck is None:
                    deck = self.call(SimCall(name, "deck")).get("cards", [])
                decks[name] = deck
        self.reported = Reported(states, decks, self.reported.door)
        return states

    @property
    def devices(self) -> list[str]:
        return list(self.reported.states)

    def doors(self, device: str) -> int:
        doors = self.reported.states.get(device, {}).get("doors")
        return len(doors) if isinstance(doors, dict) and doors else 0

    def move_door(self, step: int, device: str) -> int:
        count = self.doors(device) or 1
        self.reported.door = (self.reported.door - 1 + step) % count + 1
        return self.reported.door

    # -- the buttons ---------------------------------------------------------------------------------
    def entries(self, device: str | None = None) -> list[Entry]:
        """Every button for ``device`` (all simulators when None), in the grammar's order."""
        found: list[Entry] = []
        seen: set[tuple] = set()
        for form in self.forms:
            for bound in self._fillings(form):
                entry = self._entry(form, bound)
                if entry is None or (device is not None and entry.device != device):
                    continue
                key = (entry.call.device, entry.call.action, tuple(sorted(entry.call.params.items(), key=str)))
                if key in seen:
                    continue
                seen.add(key)
                found.append(entry)
        return found

    def uses(self, device: str, source: str) -> bool:
        """Whether a button of ``device`` takes its value from ``source`` (e.g. the door stepper)."""
        sections = {entry.section for entry in self.entries(device)}
        return any(slot.dest == source for form in self.forms if form.words in sections for slot in form.slots)

    def _fillings(self, form: Form) -> Iterable[dict[str, Value | None]]:
        def fill(index: int, bound: dict[str, Value | None]) -> Iterable[dict[str, Value | None]]:
            if index == len(form.slots):
                yield dict(bound)
                return
            slot = form.slots[index]
            if slot.choices is not None:
                options: list[Value | None] = [Value((c,), c, c) for c in slot.choices]
            else:
                source = self.sources.get(slot.dest)
                known = {k: v for k, v in bound.items() if v is not None}
                options = list(source(self, known)) if source is not None else []
            if slot.optional:
                options = [None] + options
            for option in options:
                bound[slot.dest] = option
                yield from fill(index + 1, bound)
            bound.pop(slot.dest, None)

        yield from itertools.islice(fill(0, {}), 2000)

    def _entry(self, form: Form, bound: dict[str, Value | None]) -> Entry | None:
        words = list(form.words)
        choices: list[str] = []
        picked: Value | None = None
        owner: str | None = None
        for slot in form.slots:
            value = bound.get(slot.dest)
            if value is None:
                continue
            words += value.words
            if slot.choices is not None:
                choices.append(value.key)
            elif slot.dest == "device":
                owner = value.key
            elif not value.selected:
                picked = value
        if picked is not None and picked.active and "--off" in form.flags:
            words.append("--off")
        try:
            call = parse_sim_words(words, self.grammar)
        except SimWordsError:
            return None
        if not self._answered(call):
            return None
        if picked is not None and picked.device is not None and picked.device != call.device:
            return None
        if owner is not None and owner != call.device:
            return None
        parts = ["sim", *form.words, *choices] + ([picked.key] if picked is not None else [])
        widget_id = ".".join(_id_part(part) for part in parts)
        return Entry(str(call.device), form.words, tuple(choices), picked, tuple(words), call, widget_id)

    def _answered(self, call: SimCall) -> bool:
        if call.device is None or call.action in QUERY_VERBS:
            return False
        state = self.reported.states.get(str(call.device))
        if state is None:
            return False
        actions = state.get("actions")
        return not isinstance(actions, list) or call.action in actions

    # -- pressing ------------------------------------------------------------------------------------------
    def press(self, entry: Entry) -> dict[str, Any]:
        """Send the button's request (as ``kiosk sim`` would) and return the simulator's answer;
        raises what ``call`` raises when the simulator refuses. The states are read again after."""
        answer = self.call(entry.call)
        if entry.value is not None and entry.value.after_press is not None:
            entry.value.after_press()
        if isinstance(answer, dict) and entry.device in self.reported.states and "kind" in answer:
            states = dict(self.reported.states)
            states[entry.device] = answer
            self.reported = replace(self.reported, states=states)
        return answer


def simulated_devices(settings: Any) -> list[str]:
    """The ``[devices.*]`` sections of ``settings`` with ``driver = "simulator"`` (the panel exists
    only when there is one)."""
    devices = settings.devices
    return [name for name in vars(devices) if getattr(getattr(devices, name), "driver", None) == "simulator"]
