"""``kiosk devices status``: open every configured device once and say what works and why not.

For technicians at a shell. Uses the same device manager as the kiosk, so what it prints is
what the kiosk would show. Stop the kiosk first: a running kiosk holds the serial ports
(the command then says the port is in use). Simulated devices are started privately for the
check and do not touch a running demo's simulators. Exit code 0 when every configured
device is available, 1 otherwise.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from kiosk.config import DEFAULT_CONFIG_PATH, load_settings
from kiosk.devices import DeviceManager
from kiosk.runtime import device_plans
from kiosk.status import StatusBoard


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("devices", help="check the configured devices")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    status = actions.add_parser("status", help="open each configured device and report")
    status.add_argument("--config", default=str(DEFAULT_CONFIG_PATH), help="kiosk.toml to read")
    status.add_argument("--wait", type=float, default=5.0, help="seconds to give the devices (default 5)")
    status.set_defaults(handler=_status)


def _status(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    board = StatusBoard()
    with tempfile.TemporaryDirectory(prefix="kiosk-check-") as private:
        manager = DeviceManager(settings.devices, board, device_plans(settings), sim_dir=private,
                                control_socket=str(Path(private) / "sim.sock"))
        manager.start()
        try:
            names = [plan.name for plan in manager.plans]
            if not names:
                print("no devices configured")
                return 0
            manager.wait_until_settled(args.wait)
            deadline = time.monotonic() + args.wait
            while time.monotonic() < deadline and not all(board.is_available(n) for n in names):
                time.sleep(0.1)
            infos = manager.describe()
            reports = {report.device: report for report in manager.check_health("internal")}
        finally:
            manager.stop()
    for info in infos:
        mark = "OK " if info.available else "-- "
        where = f"{info.driver} on {info.port}" if info.port else info.driver
        line = f"{mark}{info.name:<8} {where}: {info.state}"
        if info.error:
            line += f" — {info.error}"
        print(line)
        report = reports.get(info.name)
        if report is not None and not info.available and info.state not in ("closed", "offline", "no_device"):
            print("    " + report.text().replace("\n", "\n    "))
    return 0 if all(info.available for info in infos) else 1
