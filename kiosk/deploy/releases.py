#!/usr/bin/python3
"""Releases side by side under ``/opt/kiosk``, the atomic switch, and the automatic rollback.

Layout (``opt`` is ``/opt/kiosk``, or ``DIR/opt/kiosk`` for ``kiosk install --root DIR``)::

    opt/releases/<name>/src        the release's source tree (code, assets, units)
    opt/releases/<name>/venv       its own Python environment
    opt/releases/<name>/release.json
    opt/current  -> releases/<name>   what the units run (a relative symlink, switched atomically)
    opt/previous -> releases/<name>   the release before it, kept for a rollback
    opt/trial.json                 a release switched to that has not yet reached READY

The kiosk writes its release's name to ``<state dir>/release-ready`` once its home screen is
drawn (``write_ready_marker``). ``guard`` runs before every start of ``kiosk.service``: it
counts the starts of a release on trial; when the kiosk has confirmed it, the trial ends; when
it was started ``max_starts`` times without confirming (each start limited by the unit's
``TimeoutStartSec``), ``current`` goes back to ``previous`` and the release is marked failed.

This file uses the standard library only: ``kiosk install`` copies it to
``/opt/kiosk/bin/kiosk-release``, where it runs with the system's Python, so that a broken new
release cannot break its own rollback. Commands: ``guard``, ``status``, ``rollback``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

RELEASES = "releases"
CURRENT = "current"
PREVIOUS = "previous"
TRIAL = "trial.json"
RELEASE_FILE = "release.json"
FAILED_FILE = "FAILED"
READY_MARKER = "release-ready"
DEFAULT_MAX_STARTS = 2


def atomic_symlink(link: Path, target: str) -> None:
    """Point ``link`` at ``target`` in one rename: a reader sees the old target or the new one."""
    temporary = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    try:
        temporary.unlink()
    except FileNotFoundError:
        pass
    os.symlink(target, temporary)
    os.replace(temporary, link)
    _sync_dir(link.parent)


def _sync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_json(path: Path, data: dict) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _sync_dir(path.parent)


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_ready_marker(state_dir: Path, release: str) -> None:
    """Record that ``release`` reached READY (written by the kiosk, read by ``guard``)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    temporary = state_dir / f".{READY_MARKER}.tmp"
    temporary.write_text(release + "\n", encoding="utf-8")
    os.replace(temporary, state_dir / READY_MARKER)


def read_ready_marker(state_dir: Path) -> str:
    try:
        return (state_dir / READY_MARKER).read_text("utf-8").strip()
    except OSError:
        return ""


def release_of_source(source_root: Path) -> str:
    """The name of the installed release whose ``src`` is ``source_root``; "" for a checkout."""
    info = _read_json(source_root.parent / RELEASE_FILE)
    if info is None or source_root.name != "src":
        return ""
    return str(info.get("name", ""))


class Releases:
    """The releases under one ``opt`` folder and the two symlinks that choose between them."""

    def __init__(self, opt: Path):
        self.opt = Path(opt)
        self.releases = self.opt / RELEASES

    # -- what is there ---------------------------------------------------------------------
    def names(self) -> list[str]:
        """Every installed release, oldest first."""
        if not self.releases.is_dir():
            return []
        found = [p for p in self.releases.iterdir() if (p / RELEASE_FILE).is_file()]
        return [p.name for p in sorted(found, key=lambda p: (self.info(p.name).get("installed_at", 0), p.name))]

    def info(self, name: str) -> dict:
        return _read_json(self.releases / name / RELEASE_FILE) or {}

    def _link(self, which: str) -> str:
        try:
            target = os.readlink(self.opt / which)
        except OSError:
            return ""
        return Path(target).name

    def current(self) -> str:
        return self._link(CURRENT)

    def previous(self) -> str:
        return self._link(PREVIOUS)

    def failed(self, name: str) -> str:
        try:
            return (self.releases / name / FAILED_FILE).read_text("utf-8").strip()
        except OSError:
            return ""

    def trial(self) -> dict | None:
        return _read_json(self.opt / TRIAL)

    # -- changing it -----------------------------------------------------------------------
    def switch_to(self, name: str, trial: bool = True) -> None:
        """Make ``name`` current and the old current previous; with ``trial`` the new release
        must reach READY before ``guard`` stops watching it."""
        if not (self.releases / name / RELEASE_FILE).is_file():
            raise ValueError(f"no release {name!r} in {self.releases}")
        old = self.current()
        if old == name:
            return
        if old:
            atomic_symlink(self.opt / PREVIOUS, f"{RELEASES}/{old}")
        if trial and old:
            _write_json(self.opt / TRIAL, {"release": name, "previous": old, "starts": 0,
                                           "switched_at": time.time()})
        else:
            self.end_trial()
        atomic_symlink(self.opt / CURRENT, f"{RELEASES}/{name}")

    def end_trial(self) -> None:
        try:
            (self.opt / TRIAL).unlink()
        except FileNotFoundError:
            pass

    def rollback(self, reason: str) -> str:
        """Go back to ``previous``; the release left is marked failed with ``reason``. Returns
        the release now current. Raises ``ValueError`` when there is nothing to go back to."""
        bad, good = self.current(), self.previous()
        if not good or not (self.releases / good / RELEASE_FILE).is_file():
            raise ValueError("no previous release to go back to")
        if bad:
            (self.releases / bad / FAILED_FILE).write_text(reason + "\n", encoding="utf-8")
        atomic_symlink(self.opt / CURRENT, f"{RELEASES}/{good}")
        if bad:
            atomic_symlink(self.opt / PREVIOUS, f"{RELEASES}/{bad}")
        self.end_trial()
        return good

    def guard(self, state_dir: Path, max_starts: int = DEFAULT_MAX_STARTS) -> str:
        """Run before each start of the kiosk. Returns what it did, one line for the journal."""
        trial = self.trial()
        if trial is None:
            return ""
        release = str(trial.get("release", ""))
        if release != self.current():  # someone switched by hand: nothing to watch
            self.end_trial()
            return f"trial of {release} ended: {self.current() or 'no release'} is current"
        if read_ready_marker(state_dir) == release:
            self.end_trial()
            return f"release {release} reached READY: trial passed"
        starts = int(trial.get("starts", 0))
        if starts >= max_starts:
            previous = self.rollback(f"did not reach READY in {starts} starts")
            return f"release {release} did not reach READY in {starts} starts: rolled back to {previous}"
        trial["starts"] = starts + 1
        _write_json(self.opt / TRIAL, trial)
        return f"release {release} on trial: start {starts + 1} of {max_starts}"

    def status(self, state_dir: Path | None = None) -> dict:
        return {"current": self.current(), "previous": self.previous(), "trial": self.trial(),
                "ready": read_ready_marker(state_dir) if state_dir else None,
                "releases": [{"name": n, "version": self.info(n).get("version", ""),
                              "failed": self.failed(n)} for n in self.names()]}


def _default_opt() -> Path:
    """``/opt/kiosk`` when run as the installed ``/opt/kiosk/bin/kiosk-release``."""
    return Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kiosk-release", description="the kiosk's installed releases")
    parser.add_argument("--opt", type=Path, default=None, help="the installation (default: this file's /opt/kiosk)")
    actions = parser.add_subparsers(dest="action", required=True)
    guard = actions.add_parser("guard", help="before each start: watch a new release, roll back if it never got READY")
    guard.add_argument("--state-dir", type=Path, required=True, help="the kiosk's state folder (release-ready)")
    guard.add_argument("--max-starts", type=int, default=DEFAULT_MAX_STARTS)
    status = actions.add_parser("status", help="releases, current, previous, trial (JSON)")
    status.add_argument("--state-dir", type=Path, default=None)
    actions.add_parser("rollback", help="make the previous release current again")
    args = parser.parse_args(argv)
    releases = Releases(args.opt or _default_opt())
    if args.action == "guard":
        try:
            message = releases.guard(args.state_dir, max(1, args.max_starts))
        except OSError as exc:  # never keep the kiosk from starting
            message = f"release guard could not run: {exc}"
        if message:
            print(f"kiosk-release: {message}", file=sys.stderr, flush=True)
        return 0
    if args.action == "status":
        print(json.dumps(releases.status(args.state_dir), ensure_ascii=False, indent=1))
        return 0
    try:
        now = releases.rollback("rolled back by hand")
    except ValueError as exc:
        print(f"kiosk-release: {exc}", file=sys.stderr)
        return 1
    print(f"kiosk-release: {now} is current; restart the kiosk: systemctl restart kiosk")
    return 0


if __name__ == "__main__":
    sys.exit(main())
