"""Where an installed kiosk keeps its files, inside a root (``/``, or ``DIR`` for ``--root DIR``).

The units and helpers always name the paths as they are on the running kiosk (``/opt/kiosk/…``,
``/etc/kiosk/…``); ``Layout`` gives the same paths under the root that is being installed into.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

OPT = "/opt/kiosk"
CONFIG = "/etc/kiosk/kiosk.toml"
UNIT_DIR = "/etc/systemd/system"
RULES_DIR = "/etc/udev/rules.d"
SYSUSERS = "/etc/sysusers.d/kiosk.conf"

#: unit files installed, and the ones enabled (kiosk-backend.service only with --with-backend)
UNITS = ("kiosk.service", "kiosk-xorg.service", "kiosk-backend.service")
KIOSK_UNITS = ("kiosk-xorg.service", "kiosk.service")
BACKEND_UNIT = "kiosk-backend.service"
MASKED = ("getty@tty1.service",)
RULES = "99-kiosk-devices.rules"
#: helpers that belong to no release: (file in the source's systemd/ folder or kiosk/deploy/, name in /opt/kiosk/bin)
HELPERS = (("kiosk/deploy/releases.py", "kiosk-release"), ("systemd/kiosk-session.sh", "kiosk-session"),
           ("systemd/kiosk-xauth.sh", "kiosk-xauth"))


@dataclass(frozen=True)
class Layout:
    root: Path

    def inside(self, path: str) -> Path:
        """``path`` (absolute, as on the kiosk) under this root."""
        return self.root / path.lstrip("/")

    @property
    def live(self) -> bool:
        """Installing into the running system itself (root ``/``)."""
        return self.root.resolve() == Path("/")

    @property
    def opt(self) -> Path:
        return self.inside(OPT)

    @property
    def bin(self) -> Path:
        return self.opt / "bin"

    @property
    def releases(self) -> Path:
        return self.opt / "releases"

    @property
    def manifest(self) -> Path:
        return self.opt / "install.json"

    @property
    def config(self) -> Path:
        return self.inside(CONFIG)

    @property
    def config_example(self) -> Path:
        return self.config.with_name("kiosk.example.toml")

    @property
    def unit_dir(self) -> Path:
        return self.inside(UNIT_DIR)

    @property
    def rules(self) -> Path:
        return self.inside(RULES_DIR) / RULES

    @property
    def rules_example(self) -> Path:
        return self.config.with_name(RULES + ".example")

    @property
    def sysusers(self) -> Path:
        return self.inside(SYSUSERS)

    @property
    def command_link(self) -> Path:
        """``/usr/local/bin/kiosk``: the technician's ``kiosk`` command, always the current release."""
        return self.inside("/usr/local/bin/kiosk")
