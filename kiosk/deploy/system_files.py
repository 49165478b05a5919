"""The files a release puts into the system, and enabling the services.

Written on every install or upgrade (they belong to the software): the units in
``/etc/systemd/system``, ``/etc/sysusers.d/kiosk.conf``, the helpers in ``/opt/kiosk/bin``, the
``/usr/local/bin/kiosk`` link, and the examples ``/etc/kiosk/kiosk.example.toml`` and
``/etc/kiosk/99-kiosk-devices.rules.example``. Written only when missing (they belong to the
terminal, and upgrades keep them): ``/etc/kiosk/kiosk.toml`` and
``/etc/udev/rules.d/99-kiosk-devices.rules``. Local changes to a unit go into a drop-in
(``systemctl edit kiosk``), which upgrades keep too.

Enabling uses ``systemctl --root=ROOT enable``: inside a root that is the wants symlinks
(``graphical.target.wants/kiosk.service`` …) and the mask of ``getty@tty1.service``.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from kiosk.deploy.layout import BACKEND_UNIT, HELPERS, KIOSK_UNITS, MASKED, OPT, RULES, UNITS, Layout


class SystemFilesError(Exception):
    pass


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.chmod(mode)
    os.replace(temporary, path)


def install_files(layout: Layout, src: Path) -> dict[str, list[str]]:
    """Write the system files from a release's ``src``; returns what was written and what was kept."""
    written: list[str] = []
    kept: list[str] = []
    for unit in UNITS:
        _write(layout.unit_dir / unit, (src / "systemd" / unit).read_bytes(), 0o644)
        written.append(str(layout.unit_dir / unit))
    _write(layout.sysusers, (src / "systemd" / "kiosk.sysusers").read_bytes(), 0o644)
    written.append(str(layout.sysusers))
    for source_path, name in HELPERS:
        _write(layout.bin / name, (src / source_path).read_bytes(), 0o755)
        written.append(str(layout.bin / name))
    example = (src / "assets" / "kiosk.example.toml").read_bytes()
    _write(layout.config_example, example, 0o644)
    written.append(str(layout.config_example))
    rules = (src / "systemd" / RULES).read_bytes()
    _write(layout.rules_example, rules, 0o644)
    written.append(str(layout.rules_example))
    for path, data in ((layout.config, example), (layout.rules, rules)):
        if path.exists():
            kept.append(str(path))
        else:
            _write(path, data, 0o644)
            written.append(str(path))
    link = layout.command_link
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(f"{OPT}/current/venv/bin/kiosk")
    written.append(str(link))
    return {"written": written, "kept": kept}


def _systemctl() -> str:
    found = shutil.which("systemctl")
    if not found:
        raise SystemFilesError("systemctl is missing (Debian package systemd)")
    return found


def enable_services(layout: Layout, with_backend: bool) -> list[str]:
    """Enable the kiosk's units (and the backend's) and mask the getty on tty1 inside the root;
    returns the unit names enabled."""
    units = list(KIOSK_UNITS) + ([BACKEND_UNIT] if with_backend else [])
    root = str(layout.root.resolve())
    for args in (["enable", *units], ["mask", *MASKED]):
        result = subprocess.run([_systemctl(), f"--root={root}", *args], capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise SystemFilesError(f"systemctl {' '.join(args)} failed: {result.stderr.strip()}")
    return units


def activate_live(layout: Layout, restart: bool = True) -> list[str]:
    """Only on the running system (root ``/``): create the users, reload systemd and udev, and
    restart the kiosk when it runs (so that it runs the new release). Returns what was done."""
    if not layout.live:
        return []
    done = []
    for step, command in (("users", ["systemd-sysusers", str(layout.sysusers)]),
                          ("udev rules", ["udevadm", "control", "--reload"]),
                          ("udev devices", ["udevadm", "trigger", "--action=change", "--subsystem-match=tty",
                                             "--subsystem-match=usb", "--subsystem-match=input"])):
        if shutil.which(command[0]):
            subprocess.run(command, capture_output=True, timeout=60)
            done.append(step)
    if Path("/run/systemd/system").is_dir():  # systemd is running
        subprocess.run([_systemctl(), "daemon-reload"], capture_output=True, timeout=60)
        done.append("daemon-reload")
        if restart:
            subprocess.run([_systemctl(), "try-restart", "kiosk.service", BACKEND_UNIT], capture_output=True,
                           timeout=120)
            done.append("try-restart")
    return done
