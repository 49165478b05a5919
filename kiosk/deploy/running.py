"""Which installed release this process runs from, and its confirmation that it reached READY.

An installed kiosk runs from ``/opt/kiosk/releases/<name>/src``; a developer's checkout is no
release. ``confirm_ready()`` is called once the home screen is drawn: it writes the release's
name to ``<state dir>/release-ready``, which ends the release's trial (``kiosk.deploy.releases``).
"""
from __future__ import annotations

import logging
from pathlib import Path

from kiosk import __version__
from kiosk.deploy.releases import release_of_source, write_ready_marker

log = logging.getLogger(__name__)

SOURCE_ROOT = Path(__file__).resolve().parents[2]


def running_release(source_root: Path = SOURCE_ROOT) -> str:
    """The release's name (e.g. ``0.1.0-f90256f``), or "" when not run from an installed release."""
    return release_of_source(source_root)


def software_version(source_root: Path = SOURCE_ROOT) -> str:
    """What the heartbeat reports: the installed release's name, else the package version."""
    return (running_release(source_root) or __version__)[:40]


def confirm_ready(state_dir: Path | None = None, source_root: Path = SOURCE_ROOT) -> str:
    """Record that this release reached READY; returns its name ("" for a checkout: nothing written)."""
    release = running_release(source_root)
    if not release:
        return ""
    if state_dir is None:
        from kiosk.backend.service import default_state_dir

        state_dir = default_state_dir()
    try:
        write_ready_marker(Path(state_dir), release)
    except OSError as exc:
        log.error("could not record that this release is ready", extra={"fields": {"error": str(exc)}})
    return release
