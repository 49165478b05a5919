"""``kiosk config check [FILE]``: validate a configuration file and say what is wrong."""
from __future__ import annotations

import argparse

from kiosk.config import DEFAULT_CONFIG_PATH, load_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("config", help="check a configuration file")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate a kiosk.toml and print the effective settings")
    check.add_argument("file", nargs="?", default=str(DEFAULT_CONFIG_PATH))
    check.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    settings = load_settings(args.file)
    print(f"{args.file}: ok (terminal {settings.terminal.id}, {settings.display.width}x{settings.display.height}, "
          f"language {settings.display.language}, idle {settings.session.idle_seconds}s "
          f"+ {settings.session.countdown_seconds}s countdown)")
    return 0
