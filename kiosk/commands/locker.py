"""``kiosk locker open N`` and ``kiosk locker status``: drive a pickup locker's boards directly.

``--board kerong`` (Kerong CU, 19200 baud) or ``--board 8a`` (the 0x8A board, 9600 baud);
``--address`` is the first board's address as set on its switches, ``--doors`` how many doors
the cabinet has. A jammed lock or a silent board ends with exit code 1 and one line.
"""
from __future__ import annotations

import argparse
import json

from drivers.base import DeviceError
from drivers.locker.locker import SerialLocker
from kiosk.errors import UserFacingError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("locker", help="open a locker door or show the doors")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    open_ = actions.add_parser("open", help="unlock one door")
    open_.add_argument("door", type=int, help="door number, from 1")
    _options(open_)
    open_.set_defaults(handler=_open)
    status = actions.add_parser("status", help="show every door: closed/open, item present")
    _options(status)
    status.add_argument("--json", action="store_true", help="one JSON object")
    status.set_defaults(handler=_status)


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", required=True, help="serial port of the RS-485 adapter")
    parser.add_argument("--board", choices=("kerong", "8a"), required=True, help="board protocol")
    parser.add_argument("--address", type=int, default=None,
                        help="first board address (default: kerong 0, 8a 1)")
    parser.add_argument("--doors", type=int, default=16, help="number of doors (default 16)")
    parser.add_argument("--baud", type=int, default=None, help="line speed (default: the board's)")
    parser.add_argument("--timeout", type=float, default=0.5, help="seconds to wait for an answer")


def _locker(args: argparse.Namespace) -> SerialLocker:
    try:
        locker = SerialLocker(args.port, args.board, address=args.address, doors=args.doors, baud=args.baud,
                              timeout=args.timeout)
    except ValueError as exc:
        raise UserFacingError(str(exc), 2) from None
    try:
        locker.open()
    except DeviceError as exc:
        raise UserFacingError(f"locker on {args.port}: {exc}", 1) from None
    return locker


def _open(args: argparse.Namespace) -> int:
    if not 1 <= args.door <= args.doors:
        raise UserFacingError(f"door must be 1–{args.doors}", 2)
    locker = _locker(args)
    try:
        state = locker.open_door(args.door)
    except DeviceError as exc:
        raise UserFacingError(str(exc), 1) from None
    finally:
        locker.close()
    item = "" if state.item_present is None else (", item inside" if state.item_present else ", empty")
    print(f"door {args.door} opened{item}")
    return 0


def _status(args: argparse.Namespace) -> int:
    locker = _locker(args)
    try:
        states = locker.query_all()
    except DeviceError as exc:
        raise UserFacingError(str(exc), 1) from None
    finally:
        locker.close()
    if args.json:
        print(json.dumps({"board": args.board, "doors": {
            str(door): {"closed": state.closed, "item_present": state.item_present}
            for door, state in sorted(states.items())}}, ensure_ascii=False))
        return 0
    for door, state in sorted(states.items()):
        item = "unknown" if state.item_present is None else ("item" if state.item_present else "empty")
        print(f"door {door:>3}  {'closed' if state.closed else 'OPEN  '}  {item}")
    return 0
