"""``kiosk idcard read|status``: read a card, or check a reader, through a GA/T 467 reader.

For technicians and tests: ``--port`` is a real reader (``/dev/ttyUSB0``) or a simulator's
pseudo-terminal. ``read --json`` prints the card as one JSON object (see
``drivers.idcard.card.IdCard.to_json``); without ``--json`` personal fields are masked unless
``--unmasked`` is given. No card, no answer or a malformed reply ends with exit code 1 and
one line naming the cause.
"""
from __future__ import annotations

import argparse
import json

from drivers.base import DeviceError
from drivers.idcard.card import CardType
from drivers.idcard.photo import photo_for
from drivers.idcard.reader import Ga467Reader
from kiosk.errors import UserFacingError
from kiosk.privacy import mask_address, mask_id_number, mask_name

CARD_TYPE_NAMES = {
    CardType.RESIDENT: "居民身份证",
    CardType.HK_MO_TW_PERMIT: "港澳台居民居住证",
    CardType.FOREIGN_PERMANENT_2017: "外国人永久居留身份证 (2017)",
    CardType.FOREIGN_PERMANENT_2023: "外国人永久居留身份证 (2023)",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("idcard", help="read an ID card or check a GA/T 467 reader")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    read = actions.add_parser("read", help="read one card (find → select → read)")
    _port_options(read)
    read.add_argument("--json", action="store_true", help="print the card as one JSON object")
    read.add_argument("--wait", type=float, default=5.0, metavar="SECONDS",
                      help="how long to wait for a card to be placed (default 5; 0 = look once)")
    read.add_argument("--fingerprint", action="store_true", help="also read the fingerprint template (30 10)")
    read.add_argument("--unmasked", action="store_true", help="show name, number and address in full")
    read.set_defaults(handler=_read)

    status = actions.add_parser("status", help="check that the reader and its SAM answer")
    _port_options(status)
    status.set_defaults(handler=_status)


def _port_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", required=True, help="serial port of the reader, e.g. /dev/ttyUSB0")
    parser.add_argument("--baud", type=int, default=115200, help="line speed (default 115200)")
    parser.add_argument("--timeout", type=float, default=1.0, metavar="SECONDS",
                        help="seconds to wait for each answer (default 1)")


def _reader(args: argparse.Namespace, **kwargs) -> Ga467Reader:
    reader = Ga467Reader(args.port, args.baud, timeout=args.timeout, **kwargs)
    try:
        reader.open()
    except DeviceError as exc:
        raise UserFacingError(f"reader on {args.port}: {exc}", 1) from None
    return reader


def _read(args: argparse.Namespace) -> int:
    reader = _reader(args, read_fingerprint=args.fingerprint)
    try:
        if reader.last_error is not None:
            raise UserFacingError(f"reader on {args.port}: {reader.last_error}", 1)
        card = reader.read_card(wait=max(0.0, args.wait))
    except DeviceError as exc:
        raise UserFacingError(f"card not read: {exc}", 1) from None
    finally:
        reader.close()
    if args.json:
        print(json.dumps(card.to_json(), ensure_ascii=False))
        return 0
    show_name = (lambda v: v) if args.unmasked else mask_name
    show_number = (lambda v: v) if args.unmasked else mask_id_number
    show_address = (lambda v: v) if args.unmasked else mask_address
    rows = [("card type", f"{card.card_type.value} ({CARD_TYPE_NAMES[card.card_type]})"),
            ("name", show_name(card.name))]
    if card.english_name and card.chinese_name:
        rows.append(("english name", show_name(card.english_name)))
    rows.append(("gender", card.gender))
    if card.nation:
        rows.append(("nation", card.nation))
    if card.nationality:
        rows.append(("nationality", card.nationality))
    rows.append(("birth date", card.birth_date))
    if card.address:
        rows.append(("address", show_address(card.address)))
    if card.appended_address:
        rows.append(("appended address", show_address(card.appended_address)))
    rows.append(("number", show_number(card.id_number)))
    if card.pass_number:
        rows.append(("pass number", show_number(card.pass_number)))
    if card.issue_count is not None:
        rows.append(("issue count", str(card.issue_count)))
    if card.issuer:
        rows.append(("issuer", card.issuer))
    rows.append(("valid", f"{card.valid_from} – {card.valid_to}" + ("  (EXPIRED)" if card.is_expired() else "")))
    photo = photo_for(card.photo_wlt)
    rows.append(("photo", f"{len(card.photo_wlt)} bytes WLT; "
                          + ("decoded" if photo.decoded else "no WLT decoder installed: silhouette shown")))
    if card.fingerprint:
        rows.append(("fingerprint", f"{len(card.fingerprint)} bytes"))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    return 0


def _status(args: argparse.Namespace) -> int:
    reader = _reader(args)
    try:
        report = reader.check_health("internal")
    finally:
        reader.close()
    print(report.text())
    return 0 if report.ok else 1
