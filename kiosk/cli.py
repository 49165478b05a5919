"""The ``kiosk`` command: starts the UI and gives technicians and testers their tools.

Each sub-command lives in its own module under ``kiosk/commands/`` and exposes
``register(subparsers)``; this file discovers them, so adding a command touches nothing
here. A command signals a problem a person can act on by raising ``UserFacingError``
(or ``ConfigError``): the message is printed as one line and the exit code is non-zero,
never with a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from kiosk import __version__
from kiosk.config import ConfigError
from kiosk.errors import UserFacingError

__all__ = ["main", "build_parser", "UserFacingError"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="河易办 self-service terminal")
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    import kiosk.commands as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"kiosk.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    from kiosk.privacy import forbid_core_dumps

    forbid_core_dumps()  # before anything personal can be in memory (kiosk/privacy.py)
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        result = handler(args)
    except ConfigError as exc:
        print(f"kiosk: configuration error: {exc}", file=sys.stderr)
        return 2
    except UserFacingError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
