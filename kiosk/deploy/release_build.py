"""Build one release under ``/opt/kiosk/releases/<name>``: the source, its own venv, a launcher.

``src/`` is a copy of the source tree's code, assets, units and documentation (the code finds
its assets next to itself, so the tree is kept whole). ``venv/`` is a new virtual environment:

- by default the project's dependencies (``pyproject.toml``, with the chosen extras) are
  installed into it with pip — from the package index, or only from ``wheelhouse`` (offline);
- with ``deps_from`` (developers' machines and tests) nothing is installed: the venv reads the
  packages of that other venv, so the release depends on it staying where it is.

The project itself is not pip-installed: a ``.pth`` file puts ``src`` on the path (relative, so
a root built elsewhere still works when moved to ``/``), and ``venv/bin/kiosk`` is a launcher
for ``python -m kiosk.cli``. ``smoke_test`` runs the new release's ``kiosk --version`` and, when
there is a configuration, ``kiosk config check`` before anything is switched to it.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from kiosk.deploy.releases import RELEASE_FILE

#: what a release's src/ holds (top-level entries of the source tree)
SOURCE_ENTRIES = ("pyproject.toml", "README.md", "kiosk", "drivers", "screens", "refbackend", "assets",
                  "systemd", "docs")
REQUIRED_ENTRIES = ("pyproject.toml", "kiosk", "drivers", "screens", "assets", "systemd")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".pytest-tmp", "screenshots")

LAUNCHER = """#!/bin/sh
# 河易办 kiosk, release {name}: run it with this release's own Python environment.
exec "$(dirname "$0")/python" -P -m kiosk.cli "$@"
"""


class BuildError(Exception):
    """A release could not be built or does not start; the message says which step and why."""


@dataclass(frozen=True)
class Release:
    name: str
    version: str
    path: Path

    @property
    def src(self) -> Path:
        return self.path / "src"

    @property
    def venv(self) -> Path:
        return self.path / "venv"

    @property
    def kiosk(self) -> Path:
        return self.venv / "bin" / "kiosk"


def source_version(source: Path) -> str:
    """The ``__version__`` written in ``source/kiosk/__init__.py`` (read, not imported)."""
    text = (source / "kiosk" / "__init__.py").read_text("utf-8")
    match = re.search(r"^__version__\s*=\s*[\"']([^\"']+)[\"']", text, re.M)
    if not match:
        raise BuildError(f"{source}/kiosk/__init__.py has no __version__")
    return match.group(1)


def _git_commit(source: Path) -> str:
    try:
        result = subprocess.run(["git", "-C", str(source), "rev-parse", "--short=8", "HEAD"], capture_output=True,
                                text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def release_name(source: Path, releases: Path, wanted: str = "") -> str:
    """``wanted``, or ``<version>-<git commit>``; ``-2``, ``-3`` … when that name is taken."""
    base = wanted or "-".join(part for part in (source_version(source), _git_commit(source)) if part)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,60}", base):
        raise BuildError(f"release name {base!r}: letters, digits, '.', '_', '+', '-' only")
    name, n = base, 1
    while (releases / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def check_source(source: Path) -> None:
    missing = [entry for entry in REQUIRED_ENTRIES if not (source / entry).exists()]
    if missing:
        raise BuildError(f"{source} is not a kiosk source tree (missing {', '.join(missing)})")


def dependencies(source: Path, extras: tuple[str, ...] = ()) -> list[str]:
    """The requirement strings of ``pyproject.toml``: the dependencies and those of ``extras``."""
    project = tomllib.loads((source / "pyproject.toml").read_text("utf-8"))["project"]
    found = list(project.get("dependencies", []))
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            raise BuildError(f"no extra {extra!r} in pyproject.toml (known: {', '.join(sorted(optional))})")
        found += optional[extra]
    return found


def _run(step: str, command: list[str], timeout: float = 1800, env: dict | None = None) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildError(f"{step}: {exc}") from None
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise BuildError(f"{step} failed (exit {result.returncode}): " + " | ".join(detail))
    return result.stdout


def _site_packages(venv: Path) -> Path:
    out = _run("finding the venv's site-packages",
               [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    return Path(out.strip())


def build_release(source: Path, releases: Path, *, name: str = "", extras: tuple[str, ...] = (),
                  python: str = "", wheelhouse: Path | None = None, deps_from: Path | None = None,
                  log=print) -> Release:
    """Copy ``source`` and make its venv under ``releases/<name>``; nothing is switched here.

    It is built in place (scripts that pip writes name their interpreter by its final path);
    ``release.json`` is written last, and a folder without it is no release. On any failure the
    half-built folder is removed and ``BuildError`` raised."""
    source = Path(source).resolve()
    check_source(source)
    releases.mkdir(parents=True, exist_ok=True)
    name = release_name(source, releases, name)
    release = Release(name, source_version(source), releases / name)
    try:
        _build_into(source, release.path, release, extras, python or _default_python(), wheelhouse, deps_from, log)
    except BaseException:
        shutil.rmtree(release.path, ignore_errors=True)
        raise
    return release


def _default_python() -> str:
    return getattr(sys, "_base_executable", "") or sys.executable


def _build_into(source: Path, target: Path, release: Release, extras: tuple[str, ...], python: str,
                wheelhouse: Path | None, deps_from: Path | None, log) -> None:
    src = target / "src"
    log(f"copying {source} to release {release.name}")
    src.mkdir(parents=True)
    for entry in SOURCE_ENTRIES:
        path = source / entry
        if path.is_dir():
            shutil.copytree(path, src / entry, ignore=_IGNORE, symlinks=True)
        elif path.is_file():
            shutil.copy2(path, src / entry)
    venv = target / "venv"
    log(f"creating its Python environment with {python}")
    _run("creating the venv", [python, "-m", "venv"] + (["--without-pip"] if deps_from else []) + [str(venv)])
    site = _site_packages(venv)
    if deps_from is not None:
        deps_site = _deps_site(Path(deps_from))
        (site / "10-kiosk-deps.pth").write_text(str(deps_site) + "\n", encoding="utf-8")
    else:
        requirements = dependencies(src, extras)
        log(f"installing {len(requirements)} Python packages" + (f" from {wheelhouse}" if wheelhouse else ""))
        index = ["--no-index", "--find-links", str(wheelhouse)] if wheelhouse else []
        _run("installing the Python packages", [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                                                "--disable-pip-version-check", *index, *requirements])
    # src on the path, relative to site-packages: …/venv/lib/pythonX.Y/site-packages → ../../../../src
    relative = os.path.relpath(src, site)
    (site / "00-kiosk-release.pth").write_text(relative + "\n", encoding="utf-8")
    launcher = venv / "bin" / "kiosk"
    launcher.write_text(LAUNCHER.format(name=release.name), encoding="utf-8")
    launcher.chmod(0o755)
    _run("compiling the release's Python files", [str(venv / "bin" / "python"), "-m", "compileall", "-q",
                                                   "-j", "0", str(src / "kiosk"), str(src / "drivers"),
                                                   str(src / "screens"), str(src / "refbackend")])
    info = {"name": release.name, "version": release.version, "installed_at": time.time(),
            "source": str(source), "extras": list(extras), "deps_from": str(deps_from) if deps_from else ""}
    (target / RELEASE_FILE).write_text(json.dumps(info, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _deps_site(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        raise BuildError(f"--deps-from {venv}: no bin/python there")
    out = _run("reading --deps-from", [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    return Path(out.strip())


def smoke_test(release: Release, config: Path | None = None) -> str:
    """Start the new release's command: ``--version``, then ``config check`` of ``config``.
    Returns the version line; raises ``BuildError`` with what it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    version = _run(f"starting release {release.name}", [str(release.kiosk), "--version"], timeout=120, env=env).strip()
    if config is not None and config.is_file():
        _run(f"release {release.name} checking {config}", [str(release.kiosk), "config", "check", str(config)],
             timeout=120, env=env)
    return version
