"""``kiosk install``, ``kiosk release`` and ``kiosk udev-rule``: putting the kiosk on a kiosk PC.

``kiosk install [--root DIR]`` installs this source tree (or ``--source``) as a new release under
``/opt/kiosk`` with its own venv, writes the units, rules and configuration, switches to it and
enables the services, then runs ``systemd-analyze verify`` on the units it wrote
(``kiosk install --verify`` runs only that). ``kiosk release status|rollback`` shows the
releases or goes back to the previous one. ``kiosk udev-rule NAME DEVICE`` prints the udev line
that names a plugged-in device ``/dev/kiosk-NAME``. See docs/deploy.md.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from kiosk.errors import UserFacingError


def register(subparsers: argparse._SubParsersAction) -> None:
    summary = "install this kiosk as a new release under /opt/kiosk (or upgrade), with units and rules"
    parser = subparsers.add_parser("install", help=summary, description=summary)
    parser.add_argument("--root", type=Path, default=Path("/"),
                        help="install into this folder instead of / (e.g. to build an image, or to test)")
    parser.add_argument("--source", type=Path, default=None, help="the source tree to install (default: this one)")
    parser.add_argument("--release", default="", help="the release's name (default VERSION-COMMIT)")
    parser.add_argument("--with-backend", action="store_true",
                        help="also install the reference backend's packages and enable kiosk-backend.service")
    parser.add_argument("--extras", default="", help="more optional packages, comma-separated (e.g. hid)")
    parser.add_argument("--python", default="", help="the Python the release's venv is made from "
                                                     "(default: the one running this command)")
    parser.add_argument("--wheelhouse", type=Path, default=None,
                        help="install Python packages only from this folder of wheels (offline)")
    parser.add_argument("--deps-from", type=Path, default=None, metavar="VENV",
                        help="developers and tests: use VENV's packages instead of installing them")
    parser.add_argument("--keep", type=int, default=3, help="releases kept (at least current and previous; default 3)")
    parser.add_argument("--no-restart", action="store_true", help="do not restart a running kiosk (root / only)")
    parser.add_argument("--verify", action="store_true",
                        help="only run systemd-analyze verify on the units installed in --root")
    parser.set_defaults(handler=_install)

    release = subparsers.add_parser("release", help="the installed releases: status, rollback",
                                    description="the releases installed under /opt/kiosk")
    release.add_argument("action", choices=("status", "rollback"))
    release.add_argument("--root", type=Path, default=Path("/"))
    release.set_defaults(handler=_release)

    rule = subparsers.add_parser("udev-rule", help="print the udev rule that names a plugged-in device /dev/kiosk-NAME",
                                 description="print the udev rule line for /etc/udev/rules.d/99-kiosk-devices.rules")
    rule.add_argument("name", choices=("idcard", "scanner", "locker", "printer"))
    rule.add_argument("device", help="the device as the kernel named it, e.g. /dev/ttyUSB0")
    rule.add_argument("--by", choices=("auto", "serial", "port"), default="auto",
                      help="match by serial number or by USB port (default: serial when the device has one)")
    rule.set_defaults(handler=_udev_rule)


def _install(args: argparse.Namespace) -> int:
    from kiosk.deploy.install import InstallOptions, install, installed_units
    from kiosk.deploy.layout import Layout
    from kiosk.deploy.release_build import BuildError
    from kiosk.deploy.system_files import SystemFilesError
    from kiosk.deploy.verify import verify_units

    layout = Layout(args.root)
    if args.verify:
        return _print_verify(verify_units(installed_units(layout), layout.root))
    if layout.live and os.geteuid() != 0:
        raise UserFacingError("installing into / needs root: sudo make install (or kiosk install --root DIR)", 2)
    extras = tuple(e.strip() for e in args.extras.split(",") if e.strip())
    options = InstallOptions(root=args.root, release=args.release, extras=extras, with_backend=args.with_backend,
                             python=args.python, wheelhouse=args.wheelhouse, deps_from=args.deps_from,
                             keep=args.keep, restart=not args.no_restart)
    if args.source is not None:
        options.source = args.source
    try:
        report = install(options, log=lambda text: print(f"kiosk install: {text}", flush=True))
    except (BuildError, SystemFilesError) as exc:
        raise UserFacingError(str(exc), 1) from None
    for path in report.files.get("kept", []):
        print(f"kiosk install: kept {path} (the new example is next to it)")
    if report.removed:
        print(f"kiosk install: removed old releases {', '.join(report.removed)}")
    print(f"kiosk install: enabled {', '.join(report.enabled)}")
    status = _print_verify(verify_units(installed_units(layout), layout.root))
    print(f"kiosk install: release {report.release} is current" + (f", {report.previous} kept" if report.previous
                                                                      else ""))
    return status


def _print_verify(result) -> int:
    if result.ok:
        print(f"systemd-analyze verify: {', '.join(result.units)}: ok")
        return 0
    print(f"systemd-analyze verify: {', '.join(result.units) or 'no units'}:\n{result.output}")
    return 1


def _release(args: argparse.Namespace) -> int:
    from kiosk.deploy.layout import Layout
    from kiosk.deploy.releases import Releases

    layout = Layout(args.root)
    releases = Releases(layout.opt)
    if args.action == "status":
        print(json.dumps(releases.status(layout.inside("/var/lib/kiosk")), ensure_ascii=False, indent=1))
        return 0
    try:
        now = releases.rollback("rolled back by hand")
    except ValueError as exc:
        raise UserFacingError(str(exc), 1) from None
    print(f"release {now} is current; restart the kiosk: systemctl restart kiosk")
    return 0


def _udev_rule(args: argparse.Namespace) -> int:
    from kiosk.deploy.udev import UdevError, attribute_walk, rule_for

    try:
        print(rule_for(args.name, attribute_walk(args.device), args.by))
    except UdevError as exc:
        raise UserFacingError(str(exc), 1) from None
    return 0
