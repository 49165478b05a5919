"""A private set of folders for one scenario, so no run shares state with another.

``isolated(settings)`` makes a temporary folder and, for as long as the ``with`` block
lasts, points the kiosk's state folder (``KIOSK_STATE_DIR``: outbox, its key, catalogue
cache), its runtime folder (``XDG_RUNTIME_DIR``: the simulators' pseudo-terminal links),
the scratch folder, the catalogue's click counts and the simulator control socket into
it. Simulated devices get automatic port links there; the embedded reference backend
keeps its data in memory. Real devices and the rebuildable caches (pinyin lexicon) are
left as configured. On leaving, the environment is restored and the folder removed.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from kiosk.config import Settings
from kiosk.tempdirs import process_tempdir, sweep_stale

ENV_KEYS = ("KIOSK_STATE_DIR", "XDG_RUNTIME_DIR")
SOCKET_PATH_MAX = 100  # a Unix socket's path must stay below 108 bytes


@dataclasses.dataclass(frozen=True)
class Workdir:
    root: Path
    settings: Settings   # the scenario's settings, pointed into ``root``

    @property
    def sim_socket(self) -> Path:
        return Path(self.settings.devices.sim_control)


def isolated_settings(settings: Settings, root: Path, socket_path: Path) -> Settings:
    """``settings`` with every per-run folder and the control socket inside ``root``."""
    session = dataclasses.replace(settings.session, scratch_dir=str(root / "scratch"))
    catalog = dataclasses.replace(settings.catalog, state_dir=str(root / "state" / "catalog"))
    backend = dataclasses.replace(settings.backend, outbox_path="", outbox_key_file="", catalog_cache_path="",
                                  embedded_db="")
    devices = settings.devices
    changes = {}
    for field in dataclasses.fields(devices):
        section = getattr(devices, field.name)
        if dataclasses.is_dataclass(section) and getattr(section, "driver", "") == "simulator" \
                and hasattr(section, "port"):
            changes[field.name] = dataclasses.replace(section, port="")
    devices = dataclasses.replace(devices, sim_control=str(socket_path), **changes)
    return dataclasses.replace(settings, session=session, catalog=catalog, backend=backend, devices=devices)


@contextmanager
def isolated(settings: Settings, state_dir: Path | None = None) -> Iterator[Workdir]:
    """``state_dir``: use this state folder (outbox, its key, catalogue cache) instead of a
    temporary one, and keep it (``kiosk scenario run --state DIR``: what a scenario left in the
    outbox can be looked at, or drained, afterwards)."""
    sweep_stale("kiosk-scenario-")  # folders of killed runs (kiosk/tempdirs.py)
    sweep_stale("ks-", "/tmp")
    root = process_tempdir("kiosk-scenario-")
    socket_dir = root / "run"
    extra_dir = None
    if len(str(socket_dir / "sim.sock").encode()) > SOCKET_PATH_MAX:
        extra_dir = process_tempdir("ks-", "/tmp")
        socket_dir = extra_dir
    for sub in ("state", "run", "scratch"):
        (root / sub).mkdir(mode=0o700, exist_ok=True)
    saved = {key: os.environ.get(key) for key in ENV_KEYS}
    if state_dir is not None:
        Path(state_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ["KIOSK_STATE_DIR"] = str(state_dir or root / "state")
    os.environ["XDG_RUNTIME_DIR"] = str(root / "run")
    try:
        yield Workdir(root, isolated_settings(settings, root, socket_dir / "sim.sock"))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(root, ignore_errors=True)
        if extra_dir is not None:
            shutil.rmtree(extra_dir, ignore_errors=True)
