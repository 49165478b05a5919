"""The demo's backend inside the kiosk process: ``start_for_settings(settings) -> EmbeddedBackend``.

The entry layer (``kiosk demo`` / ``kiosk run`` with ``[backend] embedded = true``) calls this
and hands the result to ``kiosk.backend.service.build_backend(settings, embedded=...)``, so the
kiosk core never imports the reference backend. It opens a store (``[backend] embedded_db``,
or in memory), seeds the demo catalogue and the demo people, registers the terminal with a
fresh key, its name and its locker's door count, starts the server on a random loopback port,
writes the clerk's password to ``clerk-password`` (mode 0600) in the kiosk's state folder and
logs the clerk's page and where the password is (never the password itself); the file goes
when the backend stops. The kiosk reaches it through a ``FaultProxy`` (the
``control`` of the ``EmbeddedBackend``), which ``kiosk sim backend down|up|slow|error`` switches.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from kiosk.backend.models import EmbeddedBackend
from kiosk.backend.signing import generate_key, parse_key
from refbackend.casework import BackendControl, seed_demo_cases
from refbackend.clerk_desk import ClerkApi
from refbackend.faults import FaultProxy
from refbackend.seed import DEMO_PEOPLE_PATH
from refbackend.server import prepare_store, start_embedded, write_secret_file

log = logging.getLogger(__name__)


def start_for_settings(settings: Any, demo_cases: bool = False) -> EmbeddedBackend:
    """Start the demo backend for this terminal (``settings`` is the kiosk's ``Settings``).

    With ``demo_cases`` (``kiosk demo``) a few cases to follow and one result to collect are
    seeded (``refbackend.casework.seed_demo_cases``). The returned ``control`` is the testers'
    handle (``kiosk sim backend …``): make cases, act as the clerk, take the network down."""
    terminal = settings.terminal
    locker = getattr(getattr(settings, "devices", None), "locker", None)
    key_text = generate_key()
    store = prepare_store(settings.backend.embedded_db or ":memory:", terminals={terminal.id: key_text},
                          terminal_names={terminal.id: terminal.name},
                          terminal_doors={terminal.id: getattr(locker, "doors", 24)}, people=DEMO_PEOPLE_PATH)
    try:
        if demo_cases and store.count("cases") == 0:
            seed_demo_cases(store, terminal.id)
        running = start_embedded(store)
    except Exception:
        store.close()
        raise
    # the kiosk talks through a fault switch (kiosk sim backend down|up|slow|error); the clerk's
    # page is reached directly
    proxy = FaultProxy(running.port).start()
    # scenarios act as the clerk through the clerk's own API, past the network switch
    desk = ClerkApi(running.url, running.clerk_password)

    password_file = _clerk_password_file(running.clerk_password)

    def stop() -> None:
        desk.close()
        proxy.stop()
        running.stop()
        if password_file is not None:
            password_file.unlink(missing_ok=True)  # the password of a stopped backend opens nothing

    log.warning("demo backend running: the clerk's page is at %s/clerk (user clerk, password in %s)",
                running.url, password_file or "the EmbeddedBackend only: the state folder is not writable")
    return EmbeddedBackend(url=proxy.url, terminal_key=parse_key(key_text), clerk_password=running.clerk_password,
                           stop=stop, control=BackendControl(store, terminal.id, proxy, desk), direct_url=running.url)


def _clerk_password_file(password: str) -> Path | None:
    """Write the demo clerk's password to ``clerk-password`` (0600) in the kiosk's state folder
    (``KIOSK_STATE_DIR``), else the user's runtime folder (``XDG_RUNTIME_DIR``), else
    ``~/.local/state/kiosk``; None when none can be written."""
    folder = os.environ.get("KIOSK_STATE_DIR") or os.environ.get("XDG_RUNTIME_DIR") \
        or str(Path.home() / ".local" / "state" / "kiosk")
    try:
        return write_secret_file(Path(folder) / "clerk-password", password)
    except OSError:
        return None


def start_demo(settings: Any) -> EmbeddedBackend:
    """``start_for_settings`` with the demo cases (what ``kiosk demo`` uses)."""
    return start_for_settings(settings, demo_cases=True)
