"""The demo's backend inside the kiosk process: ``start_for_settings(settings) -> EmbeddedBackend``.

The entry layer (``kiosk demo`` / ``kiosk run`` with ``[backend] embedded = true``) calls this
and hands the result to ``kiosk.backend.service.build_backend(settings, embedded=...)``, so the
kiosk core never imports the reference backend. It opens a store (``[backend] embedded_db``,
or in memory), seeds the demo catalogue and the demo people, registers the terminal with a
fresh key, its name and its locker's door count, starts the server on a random loopback port
and logs the clerk's page and password.
"""
from __future__ import annotations

import logging
from typing import Any

from kiosk.backend.models import EmbeddedBackend
from kiosk.backend.signing import generate_key, parse_key
from refbackend.casework import BackendControl, OutageSwitch, seed_demo_cases
from refbackend.seed import DEMO_PEOPLE_PATH
from refbackend.server import prepare_store, start_embedded

log = logging.getLogger(__name__)


def start_for_settings(settings: Any, demo_cases: bool = False) -> EmbeddedBackend:
    """Start the demo backend for this terminal (``settings`` is the kiosk's ``Settings``).

    With ``demo_cases`` (``kiosk demo``) a few cases to follow and one result to collect are
    seeded (``refbackend.casework.seed_demo_cases``). The returned ``control`` is the testers'
    handle (``kiosk sim backend …``): make cases, act as the clerk, take the terminal API down."""
    terminal = settings.terminal
    locker = getattr(getattr(settings, "devices", None), "locker", None)
    key_text = generate_key()
    store = prepare_store(settings.backend.embedded_db or ":memory:", terminals={terminal.id: key_text},
                          terminal_names={terminal.id: terminal.name},
                          terminal_doors={terminal.id: getattr(locker, "doors", 24)}, people=DEMO_PEOPLE_PATH)
    switches: list[OutageSwitch] = []

    def wrap(app: Any) -> OutageSwitch:
        switches.append(OutageSwitch(app))
        return switches[-1]

    try:
        if demo_cases and store.count("cases") == 0:
            seed_demo_cases(store, terminal.id)
        running = start_embedded(store, wrap=wrap)
    except Exception:
        store.close()
        raise
    log.warning("demo backend running: the clerk's page is at %s/clerk (user clerk, password %s)",
                running.url, running.clerk_password)
    return EmbeddedBackend(url=running.url, terminal_key=parse_key(key_text), clerk_password=running.clerk_password,
                           stop=running.stop, control=BackendControl(store, terminal.id, switches[0]))


def start_demo(settings: Any) -> EmbeddedBackend:
    """``start_for_settings`` with the demo cases (what ``kiosk demo`` uses)."""
    return start_for_settings(settings, demo_cases=True)
