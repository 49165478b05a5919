"""``kiosk install``: install a source tree as a new release, side by side, and switch to it.

One call does a first install and an upgrade alike:

1. build the release (``release_build``): its own source copy and venv;
2. smoke-test it (``kiosk --version``; ``kiosk config check`` of the existing configuration) —
   a release that fails is removed and nothing else changes;
3. write the system files (``system_files``): units, sysusers, helpers, configuration from the
   template when missing (kept otherwise), udev rules when missing;
4. switch ``/opt/kiosk/current`` to it atomically; the old one becomes ``previous`` and the new
   one is on trial until the kiosk reports READY (``releases``: rolled back otherwise);
5. remove releases beyond the ``keep`` newest (never ``current`` or ``previous``);
6. enable the services (inside a root: the wants symlinks); on the running system also create
   the users, reload systemd and udev and restart a running kiosk.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.deploy.layout import Layout
from kiosk.deploy.release_build import BuildError, Release, build_release, smoke_test
from kiosk.deploy.releases import Releases
from kiosk.deploy.system_files import activate_live, enable_services, install_files


@dataclass
class InstallOptions:
    root: Path = Path("/")
    source: Path = Path(__file__).resolve().parents[2]
    release: str = ""
    extras: tuple[str, ...] = ()
    with_backend: bool = False
    python: str = ""
    wheelhouse: Path | None = None
    deps_from: Path | None = None
    keep: int = 3
    restart: bool = True


@dataclass
class InstallReport:
    release: str
    previous: str
    version: str
    trial: bool
    files: dict[str, list[str]] = field(default_factory=dict)
    enabled: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    live: list[str] = field(default_factory=list)


def install(options: InstallOptions, log=print) -> InstallReport:
    layout = Layout(Path(options.root))
    releases = Releases(layout.opt)
    extras = tuple(dict.fromkeys(options.extras + (("refbackend",) if options.with_backend else ())))
    release = build_release(options.source, layout.releases, name=options.release, extras=extras,
                            python=options.python, wheelhouse=options.wheelhouse, deps_from=options.deps_from,
                            log=log)
    try:
        version = smoke_test(release, layout.config if layout.config.exists() else None)
    except BuildError:
        shutil.rmtree(release.path, ignore_errors=True)
        raise
    log(f"release {release.name} starts: {version}")
    files = install_files(layout, release.src)
    old = releases.current()
    releases.switch_to(release.name, trial=True)
    log(f"current → {release.name}" + (f" (previous: {old}; on trial until the kiosk reports READY)" if old else ""))
    removed = prune(releases, options.keep)
    enabled = enable_services(layout, options.with_backend)
    _write_manifest(layout, release, files, enabled)
    live = activate_live(layout, options.restart)
    return InstallReport(release=release.name, previous=old, version=release.version, trial=bool(old),
                         files=files, enabled=enabled, removed=removed, live=live)


def prune(releases: Releases, keep: int) -> list[str]:
    """Remove the oldest releases beyond ``keep`` (at least 2); ``current`` and ``previous`` stay."""
    keep = max(2, keep)
    names = releases.names()
    protected = {releases.current(), releases.previous()}
    removed = []
    for name in names[:-keep] if len(names) > keep else []:
        if name not in protected:
            shutil.rmtree(releases.releases / name, ignore_errors=True)
            removed.append(name)
    return removed


def _write_manifest(layout: Layout, release: Release, files: dict[str, list[str]], enabled: list[str]) -> None:
    units = sorted(str(p.relative_to(layout.root)) for p in map(Path, files["written"]) if p.suffix == ".service")
    manifest = {"release": release.name, "units": ["/" + u for u in units], "enabled": enabled}
    layout.manifest.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def installed_units(layout: Layout) -> list[Path]:
    """The unit files the last install wrote, inside the root."""
    try:
        manifest = json.loads(layout.manifest.read_text("utf-8"))
    except (OSError, ValueError):
        return []
    return [layout.inside(u) for u in manifest.get("units", [])]
