"""``kiosk receipt render KIND``: build a slip from sample data, as ESC/POS bytes and as PNG.

For testers and technicians: the .bin file is exactly what the kiosk sends to the printer
(``cat FILE.bin > /dev/usb/lp0`` prints it); the PNG is what the simulator prints from it.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from kiosk.errors import UserFacingError
from kiosk.receipts.layout import Target
from kiosk.receipts.printing import KINDS, build_slip


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("receipt", help="build receipts from sample data (ESC/POS and PNG)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    render = actions.add_parser("render", help="write a sample slip as ESC/POS bytes, and optionally as PNG",
                                description="write a sample slip as ESC/POS bytes, and optionally as PNG")
    render.add_argument("kind", choices=KINDS, help="which slip")
    render.add_argument("--out", required=True, help="file for the ESC/POS bytes (.bin)")
    render.add_argument("--png", help="also print it on the simulator and save the paper as PNG")
    render.add_argument("--width", type=int, choices=(58, 80), default=80, help="paper width in mm (default 80)")
    render.add_argument("--encoding", choices=("gb18030", "gbk", "utf-8"), default="gb18030")
    render.add_argument("--qr", choices=("native", "raster"), default="native",
                        help="native GS ( k QR (default) or a raster image")
    render.add_argument("--logo", default="", help="PNG logo (default: the bundled one; \"none\" for no logo)")
    render.set_defaults(handler=_render)


def _render(args: argparse.Namespace) -> int:
    if args.logo and args.logo != "none" and not Path(args.logo).is_file():
        raise UserFacingError(f"logo {args.logo} does not exist", 2)
    target = Target(args.width, args.encoding, native_qr=args.qr == "native")
    slip = build_slip(args.kind, target, args.logo)
    _write(Path(args.out), slip.data)
    print(f"{args.out}: {args.kind}, {len(slip.data)} bytes, {args.width} mm, {args.encoding}, {args.qr} QR, "
          f"{len(slip.lines)} text lines")
    if args.png:
        from drivers.printer.simulator import PrinterSimulator

        simulator = PrinterSimulator(args.width, args.encoding)
        simulator.feed(slip.data)
        simulator.finish()
        try:
            image = simulator.render(args.png)
        except (OSError, ValueError) as exc:
            raise UserFacingError(f"cannot write {args.png}: {exc}", 2) from None
        report = simulator.report()
        print(f"{args.png}: {image.width}x{image.height} px, "
              f"{report['cuts']} cut(s), unknown commands: {len(report['unknown'])}")
        for line in report["unknown"]:
            print(f"  unknown {line}")
    return 0


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise UserFacingError(f"cannot write {path}: {exc.strerror}", 2) from None
