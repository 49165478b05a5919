"""``kiosk scenario run|check FILE...``: testers' scenarios played against the real screens.

``run`` reads every file and its configuration first (a problem in any of them: exit 2,
naming the file and line, nothing is played), then plays them one after the other, each
on a fresh kiosk in this process, headless (a private Xvfb when there is no display, or
with ``--xvfb``). It prints a line per step and a summary, or with ``--json`` one JSON
document. Exit 0 when every step of every file passed, 1 when a step failed (each file
stops at its first failing step; the other files still run). ``check`` only reads the
files.

The Kivy UI is imported lazily, only by ``run`` (``screens.launcher.play_scenarios``).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from kiosk.commands.sim import call_simulator, parse_sim_words
from kiosk.config import DEMO_CONFIG_PATH, ConfigError, load_settings
from kiosk.errors import UserFacingError
from kiosk.logs import setup_logging
from kiosk.scenario.model import Plan, Scenario, ScenarioError
from kiosk.scenario.parse import load_scenario
from kiosk.scenario.report import Reporter, errors_json, results_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("scenario", help="play testers' scenario files against the real screens",
                                   description="play testers' scenario files (YAML) against the real screens; "
                                               "see docs/scenarios.md")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    run = actions.add_parser("run", help="play scenario files headless; exit 0 when every step passes",
                             description="play scenario files headless, each on a fresh kiosk. Exit codes: 0 every "
                                         "step passed, 1 a step failed, 2 a file or configuration cannot be used.")
    run.add_argument("files", nargs="+", metavar="FILE", help="scenario files (.yaml)")
    run.add_argument("--config", help="configuration for files that name none with `config:` "
                                      f"(default: the demo configuration, {DEMO_CONFIG_PATH})")
    run.add_argument("--shots", metavar="DIR", help="folder for `shot:` pictures; each scenario's go into "
                                                    "DIR/<scenario file name>/ (default: shots/ next to the "
                                                    "scenario, or a temporary folder when that is not writable)")
    run.add_argument("--json", action="store_true", help="print one JSON document with the results (progress "
                                                         "lines go to stderr)")
    run.add_argument("--verbose", action="store_true", help="also show the kiosk's own log lines (stderr)")
    run.add_argument("--watch", action="store_true", help="draw every frame, to watch the run on a display "
                                                          "(slower; by default the window is drawn only for "
                                                          "pictures)")
    run.add_argument("--xvfb", action="store_true", help="play on a private virtual screen (Xvfb) even when "
                                                         "there is a display")
    run.set_defaults(handler=_run)
    check = actions.add_parser("check", help="read scenario files and report problems, without playing them")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--config", help="configuration for files that name none (checked too)")
    check.set_defaults(handler=_check)
    # -- the flight recorder (issue 13) --
    from_log = actions.add_parser("from-log", help="turn a session's flight-recorder log into a scenario",
                                  description="turn a flight-recorder log (<state dir>/flight/*.jsonl) into a "
                                              "scenario that replays its screens, taps, typing and simulator "
                                              "requests")
    from_log.add_argument("log", metavar="LOG", help="a .jsonl log of the flight recorder")
    from_log.add_argument("--out", help="write the scenario here (default: standard output)")
    from_log.set_defaults(handler=_from_log)


def _screens() -> list[str]:
    from screens.registry import SCREENS  # names only: no Kivy import

    return sorted(SCREENS)


def read_scenarios(files: list[str], default_config: str | None) -> tuple[list[tuple[Scenario, Path, object]],
                                                                            list[Exception]]:
    """Every file with its configuration's settings, and every problem found on the way."""
    screens = _screens()
    read, problems = [], []
    settings_cache: dict[Path, object] = {}
    for name in files:
        try:
            scenario = load_scenario(name, screens=screens, check_sim=parse_sim_words)
        except ScenarioError as exc:
            problems.append(exc)
            continue
        config = scenario.config or Path(default_config or DEMO_CONFIG_PATH).expanduser().resolve()
        try:
            if config not in settings_cache:
                settings_cache[config] = _load_config(config)
        except ConfigError as exc:
            if scenario.config is not None:
                exc = ScenarioError(scenario.path, f"its configuration cannot be used: {exc}", scenario.config_line)
            problems.append(exc)
            continue
        read.append((scenario, config, settings_cache[config]))
    return read, problems


def _load_config(path: Path):
    from kiosk.runtime import check_backend_settings

    settings = load_settings(path)
    check_backend_settings(settings)
    return settings


def _embed_backend(settings):
    """What starts the embedded reference backend, as ``kiosk demo`` gets it (exit 2 without
    the refbackend extra)."""
    from kiosk.commands.ui import _embed_backend as for_settings

    return for_settings(settings)


def _shots_dirs(scenarios: list[Scenario], shots: str | None) -> list[Path]:
    """Where each scenario's pictures go: DIR/<stem>/, by default <scenario folder>/shots/<stem>/."""
    out, used = [], set()
    temporary: Path | None = None
    if shots:
        chosen = Path(shots).expanduser().resolve()
        if chosen.exists() and not chosen.is_dir():
            raise UserFacingError(f"--shots {shots}: that is a file; give a folder for the pictures", 2)
        if not _writable(chosen):
            raise UserFacingError(f"--shots {shots}: cannot write there; give a folder you can write to", 2)
    for scenario in scenarios:
        stem = scenario.path.stem
        if shots:
            base = chosen
        else:
            base = scenario.path.parent / "shots"
            if not _writable(base):
                temporary = temporary or Path(tempfile.mkdtemp(prefix="kiosk-shots-"))
                base = temporary
        folder, n = base / stem, 2
        while folder in used:
            folder, n = base / f"{stem}-{n}", n + 1
        used.add(folder)
        out.append(folder)
    return out


def _writable(folder: Path) -> bool:
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK)


def _print_problems(problems: list[Exception], as_json: bool) -> int:
    if as_json:
        print(json.dumps(errors_json(problems), ensure_ascii=False, indent=2))
    for problem in problems:
        prefix = "configuration error: " if isinstance(problem, ConfigError) else ""
        print(f"kiosk scenario: {prefix}{problem}", file=sys.stderr)
    print(f"kiosk scenario: {len(problems)} problem(s); nothing was played", file=sys.stderr)
    return 2


def _run(args: argparse.Namespace) -> int:
    read, problems = read_scenarios(args.files, args.config)
    if problems:
        return _print_problems(problems, args.json)
    shots = _shots_dirs([scenario for scenario, _c, _s in read], args.shots)
    first_settings = read[0][2]
    setup_logging(first_settings.logging.level if args.verbose else "ERROR", "text")
    plans = [Plan(scenario, settings, config, folder, embed_backend=_embed_backend(settings))
             for (scenario, config, settings), folder in zip(read, shots)]
    reporter = Reporter(sys.stderr if args.json else sys.stdout)
    from screens.launcher import play_scenarios

    results = play_scenarios(plans, reporter, call_simulator, watch=args.watch, private_display=args.xvfb)
    reporter.summary(results)
    if args.json:
        print(json.dumps(results_json(results), ensure_ascii=False, indent=2))
    return 0 if all(result.passed for result in results) else 1


def _check(args: argparse.Namespace) -> int:
    read, problems = read_scenarios(args.files, args.config)
    for scenario, config, _settings in read:
        print(f"ok {scenario.path}: {len(scenario.steps)} steps, config {config}")
    if problems:
        return _print_problems(problems, False)
    return 0


def _from_log(args: argparse.Namespace) -> int:
    from kiosk.flight import scenario_from_log

    try:
        text = scenario_from_log(args.log, check_sim=parse_sim_words)
    except OSError as exc:
        raise UserFacingError(f"cannot read {args.log}: {exc.strerror or exc}", 2) from None
    except ValueError as exc:
        raise UserFacingError(str(exc), 2) from None
    if args.out:
        try:
            Path(args.out).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UserFacingError(f"cannot write {args.out}: {exc.strerror or exc}", 2) from None
    else:
        sys.stdout.write(text)
    return 0
