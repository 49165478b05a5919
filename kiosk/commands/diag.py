"""``kiosk diag [--json] [--level internal|external] [--config F]``: the diagnostics report in a shell.

Opens every configured device the way the kiosk would (simulated ones privately, so a running
demo's simulators are not touched), runs each one's health check at the chosen level
(``external`` prints a test slip and pulses an empty locker door), times a heartbeat to the
backend, lists the serial ports, disk, memory and versions, and prints the report — as text,
or with ``--json`` as the one document described in docs/diagnostics.md.

Exit codes: 0 every configured device is ok or degraded (a device set to ``"none"`` is
``absent`` and does not count); 1 a configured device is at fault; 2 the configuration
cannot be used. Stop the kiosk first for real devices: it holds their ports (they then show
as busy, DEV-009).
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from kiosk.config import DEFAULT_CONFIG_PATH, load_settings
from kiosk.errors import UserFacingError
from kiosk.logs import setup_logging


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("diag", help="diagnostics of every device, the backend and the machine",
                                   description="diagnostics report: every configured device's health, backend "
                                               "reachability, serial ports, disk, memory, versions. Exit 0 healthy, "
                                               "1 a configured device is at fault, 2 configuration error.")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG_PATH), help=f"kiosk.toml (default {DEFAULT_CONFIG_PATH})")
    parser.add_argument("--json", action="store_true", help="print one JSON document (docs/diagnostics.md)")
    parser.add_argument("--level", choices=("internal", "external"), default="internal",
                        help="internal: no physical action (default); external: print a test slip, pulse a lock")
    parser.add_argument("--wait", type=float, default=5.0, help="seconds to give the devices to open (default 5)")
    parser.set_defaults(handler=_diag)


def _backend(settings):
    """The backend services for a heartbeat, or None when none is configured."""
    cfg = settings.backend
    if not (cfg.embedded or cfg.url):
        return None
    from kiosk.backend.crypto import KeyFileError
    from kiosk.backend.service import BackendConfigError, build_backend

    embedded = None
    if cfg.embedded:
        from kiosk.commands.backend import refbackend_module

        embedded = refbackend_module("embed").start_for_settings(settings)
    try:
        return build_backend(settings, embedded=embedded)
    except (BackendConfigError, KeyFileError, ValueError) as exc:
        raise UserFacingError(f"{settings.source}: {exc}", 2) from None


def _diag(args: argparse.Namespace) -> int:
    from kiosk.backend.service import default_state_dir
    from kiosk.devices import DeviceManager
    from kiosk.diagnostics.collect import collect
    from kiosk.health_history import HealthHistory
    from kiosk.runtime import check_backend_settings, device_plans
    from kiosk.status import StatusBoard

    settings = load_settings(args.config)
    check_backend_settings(settings)
    setup_logging("ERROR", "text")
    state_dir = default_state_dir()
    # what the running kiosk saw before, then what this check sees
    history = HealthHistory.load(state_dir / "health-history.json")
    board = StatusBoard()
    started = time.monotonic()
    backend = _backend(settings)
    try:
        with tempfile.TemporaryDirectory(prefix="kiosk-diag-") as private:
            manager = DeviceManager(settings.devices, board, device_plans(settings), sim_dir=private,
                                    control_socket=str(Path(private) / "sim.sock"), history=history,
                                    terminal_id=settings.terminal.id)
            manager.start()
            try:
                names = [plan.name for plan in manager.plans]
                manager.wait_until_settled(args.wait)
                deadline = time.monotonic() + args.wait
                while time.monotonic() < deadline and not all(board.is_available(n) for n in names):
                    time.sleep(0.1)
                report = collect(settings, manager, backend, level=args.level, state_dir=str(state_dir),
                                 started_monotonic=started)
            finally:
                manager.stop()
    finally:
        if backend is not None:
            backend.stop()
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print(report.text())
    return report.exit_code
