"""``kiosk scanner listen``: print each code a scanner reads, classified by the payload parser.

``--port`` is a serial/USB-CDC scanner (or a simulator's pseudo-terminal); with ``--hid`` it is
an input device (``/dev/input/event*``) of a keyboard-wedge scanner. One line per code:
``receipt 37050320260612000123  370503-20260612-000123`` (kind, value, text), or with
``--json`` one JSON object per code. Stops after ``--count`` codes or ``--seconds``, or Ctrl-C.
"""
from __future__ import annotations

import argparse
import json
import queue
import time

from drivers.base import DeviceError, State
from kiosk.errors import UserFacingError
from kiosk.payloads import classify


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("scanner", help="listen to a code scanner")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listen = actions.add_parser("listen", help="print each scanned code, classified")
    listen.add_argument("--port", required=True, help="serial port, or the input device with --hid")
    listen.add_argument("--baud", type=int, default=9600, help="line speed (default 9600)")
    listen.add_argument("--hid", action="store_true", help="the port is a keyboard-wedge input device (evdev)")
    listen.add_argument("--trigger", choices=("none", "honeywell", "newland"), default="none",
                        help="send this trigger command set (scanners that scan on command)")
    listen.add_argument("--prefix", default="", help="prefix the scanner adds (removed)")
    listen.add_argument("--suffix", default="", help="suffix the scanner adds (removed)")
    listen.add_argument("--count", type=int, default=0, help="stop after this many codes (default: never)")
    listen.add_argument("--seconds", type=float, default=0.0, help="stop after this many seconds (default: never)")
    listen.add_argument("--json", action="store_true", help="one JSON object per code")
    listen.set_defaults(handler=_listen)


def _scanner(args: argparse.Namespace):
    if args.hid:
        from drivers.scanner.hid import HidWedgeScanner

        return HidWedgeScanner(args.port)
    from drivers.scanner.serial_scanner import SerialScanner

    return SerialScanner(args.port, args.baud, prefix=args.prefix, suffix=args.suffix, trigger=args.trigger)


def _listen(args: argparse.Namespace) -> int:
    scanner = _scanner(args)
    events: "queue.Queue" = queue.Queue()
    scanner.subscribe_scans(events.put)
    scanner.subscribe(lambda event: events.put(event) if event.current.state is State.OFFLINE else None)
    try:
        scanner.open()
        scanner.enable()
    except DeviceError as exc:
        raise UserFacingError(f"scanner on {args.port}: {exc}", 1) from None
    deadline = time.monotonic() + args.seconds if args.seconds > 0 else None
    seen = 0
    try:
        while not args.count or seen < args.count:
            wait = 0.5 if deadline is None else min(0.5, deadline - time.monotonic())
            if wait <= 0:
                break
            try:
                event = events.get(timeout=wait)
            except queue.Empty:
                continue
            if not hasattr(event, "raw"):  # a status event: the port went away
                raise UserFacingError(f"scanner on {args.port} went offline: {scanner.last_error}", 1)
            payload = classify(event)
            seen += 1
            if args.json:
                print(json.dumps(payload.to_json(), ensure_ascii=False), flush=True)
            elif payload.accepted:
                print(f"{payload.kind:<11} {payload.value or '-':<24} {payload.text}", flush=True)
            else:
                print(f"{payload.kind:<11} {payload.problem:<24} {payload.detail}", flush=True)
    finally:
        scanner.close()
    return 0
