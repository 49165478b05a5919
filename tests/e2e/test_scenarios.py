"""``kiosk scenario run`` as a tester runs it: every shipped scenario passes; faults are reported.

The shipped scenarios (``tests/scenarios/*.yaml``) are played in batches of ``BATCH`` files,
one invocation per batch (so that no single test waits for all of them), each file on a
fresh kiosk, and every one must pass (exit 0). The deliberately failing files in
``tests/e2e/scenario_faults/`` must fail at the known step with exit 1, and the malformed
ones must be refused with exit 2 naming the line, before anything is played.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "tests" / "scenarios").glob("*.yaml"))
FAULTS = ROOT / "tests" / "e2e" / "scenario_faults"
KIOSK = [sys.executable, "-m", "kiosk.cli", "scenario"]

# each batch of the suite runs in the first test that asks for it
pytestmark = pytest.mark.timeout(600)
BATCH = 8
BATCHES = [SCENARIOS[start:start + BATCH] for start in range(0, len(SCENARIOS), BATCH)]


def _batch_group(path: Path) -> pytest.MarkDecorator:
    """Under ``pytest -n N --dist loadgroup`` a batch's tests share a worker (played once there),
    and different batches run on different workers."""
    return pytest.mark.xdist_group(f"scenario-batch-{next(i for i, b in enumerate(BATCHES) if path in b)}")


def run(args: list[str], tmp_path: Path, timeout: float = 540) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["XDG_RUNTIME_DIR"] = str(tmp_path)  # whatever the runner forgets to isolate lands here, not in a demo's
    return subprocess.run(KIOSK + args, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


@pytest.fixture(scope="session")
def suite(tmp_path_factory):
    """``suite(path)`` → (result, report, shots) of the batch holding ``path``, played once per
    worker; ``--dist loadgroup`` keeps a batch on one worker (tests/conftest.py stops the run if not)."""
    played: dict[int, tuple] = {}

    def batch_of(path: Path) -> tuple:
        index = next(i for i, batch in enumerate(BATCHES) if path in batch)
        if index not in played:
            tmp_path = tmp_path_factory.mktemp(f"scenarios{index}")
            shots = tmp_path / "shots"
            result = run(["run", *map(str, BATCHES[index]), "--json", "--shots", str(shots)], tmp_path)
            try:
                report = json.loads(result.stdout)
            except json.JSONDecodeError:
                pytest.fail(f"no JSON from kiosk scenario run (exit {result.returncode}):\n{result.stderr[-4000:]}")
            played[index] = (result, report, shots)
        return played[index]
    return batch_of


def test_the_suite_ships_scenarios_for_what_exists():
    names = {path.stem for path in SCENARIOS}
    assert {"search-initials", "browse-life-event", "help-screen", "elderly-and-english", "device-unplugged",
            "idle-countdown", "identify-id-card", "agent-grid-worker", "call-staff"} <= names


@pytest.mark.parametrize("path", [pytest.param(p, marks=_batch_group(p)) for p in SCENARIOS],
                         ids=[p.stem for p in SCENARIOS])
def test_every_scenario_passes(suite, path):
    _result, report, _shots = suite(path)
    entry = next((f for f in report["files"] if f["file"] == str(path.resolve())), None)
    assert entry is not None, f"{path.name} was not played"
    assert entry["passed"], json.dumps(entry["failure"] or entry["error"], ensure_ascii=False, indent=2)
    assert entry["steps_run"] == entry["steps"] > 0


@_batch_group(ROOT / "tests" / "scenarios" / "search-initials.yaml")
def test_the_suite_exits_0_and_writes_its_pictures(suite):
    path = next(p for p in SCENARIOS if p.stem == "search-initials")
    result, report, shots = suite(path)
    batch = next(b for b in BATCHES if path in b)
    assert result.returncode == 0, result.stderr[-4000:]
    assert report["passed"] is True
    # progress goes to stderr with --json: a line per step and the summary
    assert "ok     1 (line" in result.stderr and f"{len(batch)} scenario(s): {len(batch)} passed" in result.stderr
    guide = shots / "search-initials" / "02-guide.png"
    assert str(guide) in next(f for f in report["files"] if f["name"].startswith("find 高龄津贴"))["shots"]
    image = Image.open(guide)
    assert image.size == (1080, 1920)
    top, margin = image.getpixel((540, 10)), image.getpixel((8, 1000))
    assert top[2] > top[0] + 40 and sum(margin[:3]) > 600  # the dark blue top bar over a light page


def test_a_failing_step_is_exit_1_with_its_number_line_and_the_screen(tmp_path):
    result = run(["run", str(FAULTS / "fail-see.yaml"), "--shots", str(tmp_path / "shots")], tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "FAIL   3 (line 5) see: 这句话不在屏幕上" in out
    assert "FAILED fail-see.yaml at step 3 of 4 (line 5, see)" in out
    assert "screen 'help' shows:" in out and "| 使用帮助" in out  # what a person would have seen instead
    assert (tmp_path / "shots" / "fail-see" / "FAILED-step-3.png").is_file()
    assert "Traceback" not in out + result.stderr


FAILING = {
    # file: (step, line, kind, words in what was found)
    "fail-see.yaml": (3, 5, "see", "is not on screen"),
    "fail-not-see.yaml": (2, 4, "not_see", "is on screen"),
    "fail-tap-missing.yaml": (2, 4, "tap", "there is no nav.home on the home screen"),
    "fail-tap-hidden.yaml": (3, 5, "tap", "search.clear is hidden"),
    "fail-tap-disabled.yaml": (3, 5, "tap", "kb.candidates.prev is disabled"),
    "fail-tap-text.yaml": (2, 4, "tap_text", "nothing on screen shows"),
    "fail-type-key.yaml": (2, 4, "type", "pinyin page has no such key"),
    "fail-sim.yaml": (2, 4, "sim", "no card 'nobody-at-all'"),
}


def test_each_deliberate_failure_is_reported_where_it_happens(tmp_path):
    files = [str(FAULTS / name) for name in FAILING]
    result = run(["run", *files, "--json", "--shots", str(tmp_path / "shots")], tmp_path)
    assert result.returncode == 1, result.stderr[-4000:]
    report = json.loads(result.stdout)
    assert report["passed"] is False and len(report["files"]) == len(FAILING)
    for entry in report["files"]:
        name = Path(entry["file"]).name
        step, line, kind, words = FAILING[name]
        failure = entry["failure"]
        assert not entry["passed"] and entry["steps_run"] == step, name
        assert (failure["step"], failure["line"], failure["kind"]) == (step, line, kind), name
        assert words in failure["found"], (name, failure["found"])
        assert failure["visible_text"] and failure["screen"], name
        assert any(shot.endswith(f"FAILED-step-{step}.png") for shot in entry["shots"]), name


@pytest.mark.parametrize("name, line, words", [
    ("malformed-kind.yaml", 4, "unknown step kind 'press'"),
    ("malformed-timeout.yaml", 5, "positive number"),
    ("malformed-config.yaml", 2, "does not exist"),
    ("malformed-yaml.yaml", 5, "YAML syntax error"),
    ("malformed-key.yaml", 4, "is not a key combination"),  # issue 13: the simulator panel's keys
])
def test_a_malformed_file_is_exit_2_naming_the_line(tmp_path, name, line, words):
    result = run(["run", str(FAULTS / name)], tmp_path, timeout=60)
    assert result.returncode == 2
    assert f"{name}, line {line}: " in result.stderr and words in result.stderr
    assert "Traceback" not in result.stderr


def test_one_malformed_file_stops_the_run_before_anything_plays(tmp_path):
    result = run(["run", str(SCENARIOS[0]), str(FAULTS / "malformed-kind.yaml"), "--json"], tmp_path, timeout=60)
    assert result.returncode == 2
    report = json.loads(result.stdout)
    assert report["files"] == [] and report["errors"][0]["line"] == 4
    assert "nothing was played" in result.stderr


def test_a_missing_file_is_exit_2(tmp_path):
    result = run(["run", str(tmp_path / "nowhere.yaml")], tmp_path, timeout=60)
    assert result.returncode == 2 and "does not exist" in result.stderr
