"""Reading scenario files: every problem names the file and the line; good files read right."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kiosk.cli import main as kiosk_main
from kiosk.commands.sim import SimCall, parse_sim_words
from kiosk.scenario.keys import Key, KeyNotationError, parse_keys
from kiosk.scenario.model import DEFAULT_TIMEOUT, ScenarioError
from kiosk.scenario.parse import load_scenario, parse_scenario

SCREENS = ("home", "search", "guide", "help")


def read(text: str, tmp_path: Path | None = None, name: str = "s.yaml"):
    path = (tmp_path / name) if tmp_path else Path(name)
    return parse_scenario(textwrap.dedent(text), path, screens=SCREENS, check_sim=parse_sim_words)


def error(text: str, tmp_path: Path | None = None) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        read(text, tmp_path)
    return caught.value


GOOD = """\
    name: apply for 高龄津贴 with an ID card
    steps:
      - screen: home
      - sim: card place resident
      - tap: home.search
      - tap_text: 高龄津贴发放
      - type: gaoling{1}{back*2} x'
      - see: 欧**娜
        timeout: 20
      - not_see: 欧阳娜娜
      - shot: 03-guide.png
      - wait: 1.5
      - see: 2024
"""


def test_a_good_file_reads_step_by_step_with_lines():
    scenario = read(GOOD)
    assert scenario.name == "apply for 高龄津贴 with an ID card" and scenario.config is None
    kinds = [(s.number, s.line, s.kind) for s in scenario.steps]
    assert kinds == [(1, 3, "screen"), (2, 4, "sim"), (3, 5, "tap"), (4, 6, "tap_text"), (5, 7, "type"),
                     (6, 8, "see"), (7, 10, "not_see"), (8, 11, "shot"), (9, 12, "wait"), (10, 13, "see")]
    steps = scenario.steps
    assert steps[1].parsed == SimCall("idcard", "place", {"card": "resident"})
    assert steps[4].parsed[:7] == tuple(Key("char", c) for c in "gaoling")
    assert steps[4].parsed[7:] == (Key("candidate", "1"), Key("back"), Key("back"), Key("space"), Key("char", "x"),
                                   Key("sep"))
    assert steps[5].timeout == 20 and steps[5].wait_seconds == 20
    assert steps[0].timeout is None and steps[0].wait_seconds == DEFAULT_TIMEOUT
    assert steps[8].value == 1.5
    assert steps[9].value == "2024"  # a number where text is expected is the text as written
    assert steps[5].describe() == "see: 欧**娜 (timeout 20 s)"


def test_name_defaults_to_the_file_name():
    assert read("steps:\n  - screen: home\n", name="browse-events.yaml").name == "browse-events"


def test_config_is_relative_to_the_file(tmp_path):
    (tmp_path / "short-idle.toml").write_text("[terminal]\nid = \"T-1\"\nname = \"t\"\n")
    scenario = read("config: short-idle.toml\nsteps:\n  - screen: home\n", tmp_path)
    assert scenario.config == (tmp_path / "short-idle.toml").resolve() and scenario.config_line == 1


def test_a_config_that_does_not_exist_names_its_line(tmp_path):
    problem = error("name: x\nconfig: nowhere.toml\nsteps:\n  - screen: home\n", tmp_path)
    assert problem.line == 2 and "nowhere.toml" in str(problem) and "does not exist" in str(problem)
    assert str(problem).startswith(str(tmp_path / "s.yaml") + ", line 2:")


@pytest.mark.parametrize("text, line, words", [
    ("steps:\n  - screen: home\n  - look: 高龄\n", 3, ["unknown step kind 'look'", "tap_text"]),
    ("steps:\n  - see: [a, b]\n", 2, ["expects text, got a list"]),
    ("steps:\n  - see:\n      text: a\n", 3, ["expects text, got a mapping"]),
    ("steps:\n  - see:\n", 2, ["needs a value"]),
    ("steps:\n  - tap_text: ''\n", 2, ["needs a value"]),
    ("steps:\n  - wait: soon\n", 2, ["positive number of seconds", "soon"]),
    ("steps:\n  - wait: '1.5'\n", 2, ["positive number of seconds"]),
    ("steps:\n  - wait: 0\n", 2, ["positive number"]),
    ("steps:\n  - wait: 100000\n", 2, ["at most 600"]),
    ("name: x\nstep:\n  - screen: home\n", 2, ["unknown key 'step'", "steps"]),
    ("steps:\n  - screen: home\n    timout: 3\n", 3, ["unknown step kind 'timout'"]),
    ("steps:\n  - see: a\n    timeout: 0\n", 3, ["positive number"]),
    ("steps:\n  - see: a\n    timeout: -2\n", 3, ["positive number"]),
    ("steps:\n  - see: a\n    timeout: later\n", 3, ["positive number", "later"]),
    ("steps:\n  - not_see: a\n    timeout: 3\n", 3, ["does not wait", "not_see"]),
    ("steps:\n  - timeout: 3\n", 2, ["only `timeout:`"]),
    ("steps:\n  - see: a\n    tap: b\n", 3, ["does two things"]),
    ("steps:\n  - see: a\n    see: b\n", 3, ["given twice"]),
    ("name: a\nname: b\nsteps:\n  - see: a\n", 2, ["given twice"]),
    ("steps:\n  - screen: hom\n", 2, ["unknown screen 'hom'", "guide, help, home, search"]),
    ("steps:\n  - tap: 查找 事项\n", 2, ["not a widget id", "tap_text"]),
    ("steps:\n  - type: gl{1\n", 2, ["not closed"]),
    ("steps:\n  - type: gl}\n", 2, ["no opening brace"]),
    ("steps:\n  - type: '{delete}'\n", 2, ["{delete} is not a special key", "{back}"]),
    ("steps:\n  - type: '{back*0}'\n", 2, ["repeat count"]),
    ("steps:\n  - sim: card plac resident\n", 2, ["invalid choice: 'plac'"]),
    ("steps:\n  - sim: card place\n", 2, ["say which card"]),
    ("steps:\n  - sim: serve --idcard\n", 2, ["not a request to a kiosk"]),
    ("steps:\n  - sim: unplug scanner --socket /tmp/x\n", 2, ["unrecognized arguments"]),
    ("steps:\n  - shot: /tmp/a.png\n", 2, ["inside the shots folder"]),
    ("steps:\n  - shot: ../a.png\n", 2, ["inside the shots folder"]),
    ("steps:\n  - shot: a.jpg\n", 2, ["end in .png"]),
    ("steps:\n  - shot: a.png\n  - wait: 1\n  - shot: a.png\n", 4, ["overwrite the picture of step 1"]),
    ("steps:\n  - wait\n", 2, ["not `kind: value`"]),
    ("steps: home\n", 1, ["must be a list"]),
    ("- screen: home\n", 1, ["a scenario is a mapping"]),
])
def test_each_problem_names_its_line(text, line, words):
    problem = error(text)
    assert problem.line == line, str(problem)
    assert str(problem).startswith(f"s.yaml, line {line}: ")
    for word in words:
        assert word in str(problem)


@pytest.mark.parametrize("text", ["name: x\nsteps: []\n", "name: x\nsteps:\n", "name: x\n"])
def test_an_empty_step_list_is_refused(text):
    problem = error(text)
    assert problem.line in (1, 2) and ("empty" in str(problem) or "no `steps:`" in str(problem))


def test_yaml_syntax_errors_name_the_line():
    problem = error("name: x\nsteps:\n  - see: [a\n  - screen: home\n")
    assert "YAML syntax error" in str(problem) and problem.line == 4
    problem = error("name: x\nsteps:\n  - see: a\n   - screen: home\n")
    assert "YAML syntax error" in str(problem) and problem.line == 4


def test_files_that_cannot_be_read(tmp_path):
    with pytest.raises(ScenarioError, match="does not exist"):
        load_scenario(tmp_path / "missing.yaml")
    (tmp_path / "latin1.yaml").write_bytes("name: x\nsteps:\n  - see: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ScenarioError, match="not UTF-8") as caught:
        load_scenario(tmp_path / "latin1.yaml")
    assert caught.value.line == 3
    (tmp_path / "empty.yaml").write_text("")
    with pytest.raises(ScenarioError, match="empty"):
        load_scenario(tmp_path / "empty.yaml")
    with pytest.raises(ScenarioError, match="folder"):
        load_scenario(tmp_path)


def test_key_notation():
    assert parse_keys("sfz") == (Key("char", "s"), Key("char", "f"), Key("char", "z"))
    assert parse_keys("{Enter}{123}13{letters}{abc}{next}{prev}{hide}{shift}A") == (
        Key("enter"), Key("page", "digits"), Key("char", "1"), Key("char", "3"), Key("page", "letters"),
        Key("page", "letters"), Key("next"), Key("prev"), Key("hide"), Key("shift"), Key("char", "A"))
    assert parse_keys("{ back * 2 }{backspace}") == (Key("back"),) * 3
    assert parse_keys("，。") == (Key("char", "，"), Key("char", "。"))
    assert [k.written() for k in parse_keys("a'{2}{space} {english}")] == ["a", "'", "{2}", "{space}", "{space}",
                                                                          "{english}"]
    for bad in ("{", "}", "{0}", "{10}", "{back*x}", "a\nb", ""):
        with pytest.raises(KeyNotationError):
            parse_keys(bad)


def test_kiosk_scenario_check(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text("name: good\nsteps:\n  - screen: home\n  - tap: home.search\n", encoding="utf-8")
    assert kiosk_main(["scenario", "check", str(good)]) == 0
    assert "2 steps" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsteps:\n  - screen: home\n  - tapp: home.search\n", encoding="utf-8")
    assert kiosk_main(["scenario", "check", str(good), str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}, line 4: step 2: unknown step kind 'tapp'" in err and "Traceback" not in err


def test_a_broken_configuration_is_exit_2_naming_the_scenario_line(tmp_path, capsys):
    (tmp_path / "broken.toml").write_text("[terminal]\nid = \"T 1\"\nname = \"x\"\n", encoding="utf-8")
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\nconfig: broken.toml\nsteps:\n  - screen: home\n", encoding="utf-8")
    assert kiosk_main(["scenario", "run", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert f"{scenario}, line 2: its configuration cannot be used" in err and "broken.toml, line 2" in err
    assert kiosk_main(["scenario", "run", str(tmp_path / "missing.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_shots_folder_that_is_a_file_is_exit_2(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\nsteps:\n  - shot: a.png\n", encoding="utf-8")
    (tmp_path / "taken").write_text("")
    assert kiosk_main(["scenario", "run", str(scenario), "--shots", str(tmp_path / "taken")]) == 2
    assert "give a folder" in capsys.readouterr().err
