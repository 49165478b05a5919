"""Results of playing scenarios, and how they are shown: a line per step, a summary, JSON."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from kiosk.scenario.model import Scenario, Step

VISIBLE_SHOWN = 60  # texts listed in a failure's human output (all of them go into the JSON)


@dataclass
class Failure:
    step: int
    line: int
    kind: str
    expected: str        # what the step wanted, in words
    found: str           # what was there instead, in words
    screen: str          # the screen shown when it failed
    visible: list[str]   # the texts a person could see, top to bottom

    def as_json(self) -> dict[str, Any]:
        return {"step": self.step, "line": self.line, "kind": self.kind, "expected": self.expected,
                "found": self.found, "screen": self.screen, "visible_text": list(self.visible)}


@dataclass
class FileResult:
    scenario: Scenario
    steps_run: int = 0
    failure: Failure | None = None
    error: str = ""                  # the kiosk could not be started or stopped, …
    shots: list[Path] = field(default_factory=list)
    shots_dir: Path | None = None
    idle: bool | None = None         # did the kiosk finish its work after the last step
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.failure is None and not self.error and self.steps_run == len(self.scenario.steps)

    def as_json(self) -> dict[str, Any]:
        return {"file": str(self.scenario.path), "name": self.scenario.name, "passed": self.passed,
                "steps": len(self.scenario.steps), "steps_run": self.steps_run,
                "failure": self.failure.as_json() if self.failure else None,
                "error": self.error or None,
                "shots": [str(path) for path in self.shots],
                "shots_dir": str(self.shots_dir) if self.shots_dir else None,
                "idle_at_end": self.idle, "seconds": round(self.seconds, 2)}


class Reporter:
    """Writes the human-readable progress: a header per file, a line per step, a summary."""

    def __init__(self, out: TextIO):
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def file_started(self, scenario: Scenario, config: Path) -> None:
        self.write(f"{scenario.path}: {scenario.name}")
        self.write(f"  config {config}")

    def step_passed(self, step: Step, seconds: float, note: str = "") -> None:
        extra = f" — {note}" if note else ""
        self.write(f"  ok   {step.number:>3} (line {step.line}) {step.describe()}  [{seconds:.1f} s]{extra}")

    def step_failed(self, step: Step, failure: Failure) -> None:
        self.write(f"  FAIL {step.number:>3} (line {step.line}) {step.describe()}")
        self.write(f"       expected: {failure.expected}")
        self.write(f"       found:    {failure.found}")
        self.write(f"       screen {failure.screen!r} shows:")
        for text in failure.visible[:VISIBLE_SHOWN]:
            self.write("         | " + text.replace("\n", " ⏎ "))
        if len(failure.visible) > VISIBLE_SHOWN:
            self.write(f"         | … and {len(failure.visible) - VISIBLE_SHOWN} more (see --json)")

    def note(self, text: str) -> None:
        self.write(f"  note: {text}")

    def file_finished(self, result: FileResult) -> None:
        total = len(result.scenario.steps)
        if result.error:
            self.write(f"  ERROR {result.error}")
        if result.shots:
            self.write(f"  {len(result.shots)} picture(s) in {result.shots_dir}")
        if result.passed:
            self.write(f"PASSED {result.scenario.path.name}: {total} steps in {result.seconds:.1f} s")
        elif result.failure is not None:
            f = result.failure
            self.write(f"FAILED {result.scenario.path.name} at step {f.step} of {total} (line {f.line}, {f.kind})")
        else:
            self.write(f"FAILED {result.scenario.path.name} after {result.steps_run} of {total} steps")
        self.write("")

    def summary(self, results: list[FileResult]) -> None:
        passed = sum(1 for r in results if r.passed)
        failed = [r for r in results if not r.passed]
        line = f"{len(results)} scenario(s): {passed} passed, {len(failed)} failed"
        self.write(line + (" — " + ", ".join(r.scenario.path.name for r in failed) if failed else ""))


def results_json(results: list[FileResult]) -> dict[str, Any]:
    return {"passed": all(r.passed for r in results), "files": [r.as_json() for r in results]}


def errors_json(errors: list[Exception]) -> dict[str, Any]:
    """Scenario files or configurations that could not be read (exit code 2)."""
    out = []
    for error in errors:
        out.append({"file": getattr(error, "path", None), "line": getattr(error, "line", None),
                    "message": str(error)})
    return {"passed": False, "errors": out, "files": []}
