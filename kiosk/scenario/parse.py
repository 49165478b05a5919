"""Read a scenario file and check every step before anything runs.

The YAML is composed into nodes first (PyYAML keeps each node's line), so every
problem — a YAML syntax error, an unknown step kind or key, a value of the wrong type,
a ``timeout`` that is not a positive number, a ``config`` that does not exist, an empty
step list, keys that the ``type`` notation does not know — becomes one ``ScenarioError``
naming the file and the line.

Two checks need knowledge from outside the core and are passed in by the caller: the
screen names that exist (``screens``) and the parser of ``kiosk sim`` words
(``check_sim``, which returns the request the words make or raises ``ValueError``).
"""
from __future__ import annotations

import difflib
import re
import shlex
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Collection

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kiosk.scenario.keys import KeyNotationError, parse_keys
from kiosk.scenario.model import KINDS, MAX_SECONDS, WAITING_KINDS, Scenario, ScenarioError, Step

TOP_KEYS = ("name", "config", "steps")
STR_TAG = "tag:yaml.org,2002:str"
NULL_TAG = "tag:yaml.org,2002:null"
NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
WIDGET_ID = re.compile(r"[A-Za-z0-9_\-]+(\.[^\s.]+)*")
SCREEN_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")  # e.g. home, apply.form

SimCheck = Callable[[str], Any]


def load_scenario(path: Path | str, *, screens: Collection[str] | None = None,
                  check_sim: SimCheck | None = None) -> Scenario:
    """Read and check the scenario at ``path``. Raises ``ScenarioError``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(path, "the file does not exist") from None
    except IsADirectoryError:
        raise ScenarioError(path, "is a folder, not a scenario file") from None
    except OSError as exc:
        raise ScenarioError(path, f"cannot be read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError(path, "is not UTF-8 text (save it as UTF-8)", line) from None
    return parse_scenario(text, path, screens=screens, check_sim=check_sim)


def parse_scenario(text: str, path: Path | str = "<scenario>", *, screens: Collection[str] | None = None,
                   check_sim: SimCheck | None = None) -> Scenario:
    """Check the scenario in ``text``; ``path`` names it in messages and anchors ``config``."""
    return _Reader(Path(path), screens, check_sim).read(text)


class _Reader:
    def __init__(self, path: Path, screens: Collection[str] | None, check_sim: SimCheck | None):
        self.path = path
        self.screens = screens
        self.check_sim = check_sim
        self.shots: dict[str, int] = {}

    def fail(self, message: str, node: Node | None = None, line: int | None = None):
        if node is not None:
            line = node.start_mark.line + 1
        return ScenarioError(self.path, message, line)

    # -- the file -------------------------------------------------------------------------
    def read(self, text: str) -> Scenario:
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = exc.problem or exc.context or "not valid YAML"
            context = ""
            if exc.context and exc.problem:
                context = f" ({exc.context}"
                if exc.context_mark is not None and mark is not None and exc.context_mark.line != mark.line:
                    context += f" that starts on line {exc.context_mark.line + 1}"
                context += ")"
            raise ScenarioError(self.path, f"YAML syntax error: {problem}{context}",
                                mark.line + 1 if mark is not None else None) from None
        except yaml.YAMLError as exc:
            raise ScenarioError(self.path, f"YAML syntax error: {exc}") from None
        if root is None:
            raise ScenarioError(self.path, "the file is empty; a scenario has `name:` and `steps:`", 1)
        if not isinstance(root, MappingNode):
            raise self.fail("a scenario is a mapping with `name:`, `config:` (optional) and `steps:`", root)
        fields = self.mapping(root, TOP_KEYS, "a scenario")
        name = self.path.stem
        if "name" in fields:
            name = self.text(fields["name"][1], "name").strip() or name
        config, config_line = None, None
        if "config" in fields:
            config, config_line = self.config(fields["config"][1])
        if "steps" not in fields:
            raise self.fail("no `steps:`; a scenario needs at least one step", root)
        steps_node = fields["steps"][1]
        if isinstance(steps_node, ScalarNode) and steps_node.tag == NULL_TAG:
            raise self.fail("the step list is empty; a scenario needs at least one step", steps_node)
        if not isinstance(steps_node, SequenceNode):
            raise self.fail("`steps:` must be a list of steps, each line starting with `- `", steps_node)
        if not steps_node.value:
            raise self.fail("the step list is empty; a scenario needs at least one step", steps_node)
        steps = tuple(self.step(number, node) for number, node in enumerate(steps_node.value, start=1))
        return Scenario(path=self.path.resolve(), name=name, steps=steps, config=config, config_line=config_line)

    def mapping(self, node: MappingNode, allowed: tuple[str, ...], what: str) -> dict[str, tuple[Node, Node]]:
        fields: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise self.fail(f"{what} has a key that is not a word", key_node)
            key = key_node.value
            if key not in allowed:
                raise self.fail(f"unknown key {key!r} in {what}{_did_you_mean(key, allowed)}; known keys: "
                                f"{', '.join(allowed)}", key_node)
            if key in fields:
                raise self.fail(f"{key!r} is given twice in {what}", key_node)
            fields[key] = (key_node, value_node)
        return fields

    def config(self, node: Node) -> tuple[Path, int]:
        value = self.text(node, "config").strip()
        if not value:
            raise self.fail("`config:` is empty; leave it out for the demo configuration", node)
        config = Path(value).expanduser()
        if not config.is_absolute():
            config = self.path.resolve().parent / config
        if not config.is_file():
            raise self.fail(f"the configuration {value!r} does not exist (looked for {config})", node)
        return config, node.start_mark.line + 1

    # -- values ---------------------------------------------------------------------------
    def text(self, node: Node, what: str) -> str:
        """A scalar's text as written (``see: 2024`` is the text "2024")."""
        if isinstance(node, ScalarNode) and node.tag != NULL_TAG:
            return node.value
        if isinstance(node, ScalarNode):
            raise self.fail(f"`{what}:` needs a value", node)
        got = "a list" if isinstance(node, SequenceNode) else "a mapping"
        raise self.fail(f"`{what}:` expects text, got {got} (put the text in quotes if it has a colon)", node)

    def seconds(self, node: Node, what: str) -> float:
        if isinstance(node, ScalarNode) and node.tag in NUMBER_TAGS:
            try:
                value = float(SafeConstructor().construct_object(node))
            except (ValueError, TypeError, yaml.YAMLError):
                value = float("nan")
            if value > 0 and value <= MAX_SECONDS:
                return value
            if value > MAX_SECONDS:
                raise self.fail(f"{what} must be at most {MAX_SECONDS:g} seconds, got {node.value}", node)
            raise self.fail(f"{what} must be a positive number of seconds, got {node.value}", node)
        shown = node.value if isinstance(node, ScalarNode) and node.tag != NULL_TAG else (
            "nothing" if isinstance(node, ScalarNode) else "a list or mapping")
        raise self.fail(f"{what} must be a positive number of seconds, e.g. 1.5; got {shown!s}", node)

    # -- steps ----------------------------------------------------------------------------
    def step(self, number: int, node: Node) -> Step:
        line = node.start_mark.line + 1
        if not isinstance(node, MappingNode):
            raise self.fail(f"step {number} is not `kind: value`, e.g. `- screen: home`; kinds: "
                            f"{', '.join(KINDS)}", node)
        for key_node, _value in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value not in KINDS and key_node.value != "timeout":
                raise self.fail(f"step {number}: unknown step kind {key_node.value!r}"
                                f"{_did_you_mean(key_node.value, KINDS + ('timeout',))}; kinds: {', '.join(KINDS)}"
                                " (and `timeout:` on a waiting step)", key_node)
        fields = self.mapping(node, KINDS + ("timeout",), f"step {number}")
        kinds = [key for key in fields if key != "timeout"]
        if not kinds:
            raise self.fail(f"step {number} has only `timeout:`; say what to do, e.g. `- see: 查找事项`", node)
        if len(kinds) > 1:
            raise self.fail(f"step {number} does two things ({kinds[0]} and {kinds[1]}); write one step each",
                            fields[kinds[1]][0])
        kind = kinds[0]
        value_node = fields[kind][1]
        timeout = None
        if "timeout" in fields:
            if kind not in WAITING_KINDS:
                raise self.fail(f"step {number}: `{kind}` does not wait, so it takes no `timeout:` (only "
                                f"{', '.join(WAITING_KINDS)} do)", fields["timeout"][0])
            timeout = self.seconds(fields["timeout"][1], f"step {number}: `timeout:`")
        value, parsed = getattr(self, f"step_{kind}")(number, value_node)
        return Step(number=number, line=line, kind=kind, value=value, timeout=timeout, parsed=parsed)

    def nonempty(self, number: int, node: Node, kind: str) -> str:
        value = self.text(node, kind)
        if not value.strip():
            raise self.fail(f"step {number}: `{kind}:` needs a value", node)
        return value

    def step_screen(self, number: int, node: Node):
        value = self.nonempty(number, node, "screen").strip()
        known = sorted(self.screens) if self.screens is not None else None
        if not SCREEN_NAME.fullmatch(value) or (known is not None and value not in known):
            listed = f"; screens: {', '.join(known)}" if known is not None else ""
            raise self.fail(f"step {number}: unknown screen {value!r}{listed}", node)
        return value, None

    def step_tap(self, number: int, node: Node):
        value = self.nonempty(number, node, "tap").strip()
        if not WIDGET_ID.fullmatch(value):
            raise self.fail(f"step {number}: {value!r} is not a widget id (ids look like home.search; to tap "
                            "by visible text use `tap_text:`)", node)
        return value, None

    def step_draw(self, number: int, node: Node):
        value = self.nonempty(number, node, "draw").strip()
        if not WIDGET_ID.fullmatch(value):
            raise self.fail(f"step {number}: {value!r} is not a widget id (e.g. signature.pad)", node)
        return value, None

    def step_tap_text(self, number: int, node: Node):
        return self.nonempty(number, node, "tap_text").strip(), None

    def step_see(self, number: int, node: Node):
        return self.nonempty(number, node, "see").strip(), None

    def step_not_see(self, number: int, node: Node):
        return self.nonempty(number, node, "not_see").strip(), None

    def step_type(self, number: int, node: Node):
        value = self.nonempty(number, node, "type")
        try:
            return value, parse_keys(value)
        except KeyNotationError as exc:
            raise self.fail(f"step {number}: `type: {value}`: {exc}", node) from None

    def step_sim(self, number: int, node: Node):
        value = self.nonempty(number, node, "sim").strip()
        parsed = None
        words = self.picture_words(number, node, value)
        if self.check_sim is not None:
            try:
                parsed = self.check_sim(words)
            except ValueError as exc:
                raise self.fail(f"step {number}: `sim: {value}`: {exc}", node) from None
        return value, parsed

    def picture_words(self, number: int, node: Node, value: str):
        """``camera show FILE``: a relative FILE is relative to the scenario's folder, and must exist."""
        try:
            words = shlex.split(value)
        except ValueError:
            return value
        if len(words) >= 3 and words[:2] == ["camera", "show"]:
            picture = Path(words[2]).expanduser()
            if not picture.is_absolute():
                picture = self.path.parent / picture
            if not picture.is_file():
                raise self.fail(f"step {number}: `sim: {value}`: there is no picture {picture}", node)
            words[2] = str(picture.resolve())
        return words

    def step_shot(self, number: int, node: Node):
        value = self.nonempty(number, node, "shot").strip()
        name = PurePosixPath(value)
        if name.is_absolute() or ".." in name.parts or "\\" in value:
            raise self.fail(f"step {number}: `shot: {value}` must be a file name inside the shots folder, e.g. "
                            "03-guide.png", node)
        if name.suffix.lower() != ".png":
            raise self.fail(f"step {number}: `shot: {value}` must end in .png", node)
        if value in self.shots:
            raise self.fail(f"step {number}: `shot: {value}` would overwrite the picture of step "
                            f"{self.shots[value]}; give it another name", node)
        self.shots[value] = number
        return value, None

    def step_wait(self, number: int, node: Node):
        return self.seconds(node, f"step {number}: `wait:`"), None

    # -- issue 13: a key combination on a hardware keyboard (the testers' simulator panel) ----------
    def step_key(self, number: int, node: Node):
        from kiosk.technician.keys import parse_keys as parse_combination

        value = self.nonempty(number, node, "key").strip()
        try:
            return value, parse_combination(value)
        except ValueError as exc:
            raise self.fail(f"step {number}: `key: {value}`: {exc}", node) from None


def _did_you_mean(word: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
