"""``kiosk config check [FILE]``: validate a configuration file and say what is wrong.
``kiosk config set-pin [--config FILE] [--pin-file F]``: set the technician PIN (stored hashed)."""
from __future__ import annotations

import argparse

from kiosk.config import DEFAULT_CONFIG_PATH, load_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("config", help="check a configuration file")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate a kiosk.toml and print the effective settings")
    check.add_argument("file", nargs="?", default=str(DEFAULT_CONFIG_PATH))
    check.set_defaults(handler=_check)
    # -- technicians (issue 13) --
    set_pin = actions.add_parser("set-pin", help="set the technician PIN of the hidden diagnostics entry (stored "
                                                 "as a hash in the configuration)")
    set_pin.add_argument("--config", default=str(DEFAULT_CONFIG_PATH), help=f"kiosk.toml (default {DEFAULT_CONFIG_PATH})")
    set_pin.add_argument("--pin-file", help="read the PIN from this file's first line instead of asking twice")
    set_pin.set_defaults(handler=_set_pin)


def _check(args: argparse.Namespace) -> int:
    settings = load_settings(args.file)
    print(f"{args.file}: ok (terminal {settings.terminal.id}, {settings.display.width}x{settings.display.height}, "
          f"language {settings.display.language}, idle {settings.session.idle_seconds}s "
          f"+ {settings.session.countdown_seconds}s countdown)")
    return 0


def _set_pin(args: argparse.Namespace) -> int:
    import getpass
    import sys

    from kiosk.errors import UserFacingError
    from kiosk.technician.config_file import set_pin_hash
    from kiosk.technician.pin import PinError, check_pin_rules, hash_pin

    if args.pin_file:
        try:
            pin = open(args.pin_file, encoding="utf-8").readline().strip()
        except OSError as exc:
            raise UserFacingError(f"cannot read {args.pin_file}: {exc.strerror or exc}", 2) from None
    elif sys.stdin.isatty():
        pin = getpass.getpass("new technician PIN (6-12 digits): ")
        if getpass.getpass("the same PIN again: ") != pin:
            raise UserFacingError("the two PINs differ; nothing was changed", 2)
    else:
        pin = sys.stdin.readline().strip()
    try:
        check_pin_rules(pin)
    except PinError as exc:
        raise UserFacingError(f"{exc}; nothing was changed", 2) from None
    set_pin_hash(args.config, hash_pin(pin))
    print(f"{args.config}: technician PIN set ([technician] pin_hash); restart the kiosk to use it")
    return 0
