"""``kiosk printer status | test-page | simulate | render``: the receipt printer from a shell.

``status`` and ``test-page`` use the printer configured in ``[devices.printer]``;
``simulate`` runs the printer simulator on a TCP port (or a pty) with a control port for
faults, for a tester to point a kiosk (or ``nc``) at; ``render`` prints a captured ESC/POS
stream from any program on the simulator and saves the paper (PNG) and its text.
"""
from __future__ import annotations

import argparse
import re
import signal
import threading
from pathlib import Path

from drivers.base import DeviceError
from kiosk.errors import UserFacingError
from kiosk.config import DEFAULT_CONFIG_PATH, load_settings
from kiosk.logs import setup_logging


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("printer", help="receipt printer: status, test page, simulator")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    status = actions.add_parser("status", help="ask the configured printer for its status (DLE EOT)")
    status.add_argument("--config", default=str(DEFAULT_CONFIG_PATH), help=f"default {DEFAULT_CONFIG_PATH}")
    status.set_defaults(handler=_status)
    test = actions.add_parser("test-page", help="print the test page on the configured printer")
    test.add_argument("--config", default=str(DEFAULT_CONFIG_PATH), help=f"default {DEFAULT_CONFIG_PATH}")
    test.add_argument("--png", help="with driver = \"simulator\": save the printed page as PNG")
    test.set_defaults(handler=_test_page)
    simulate = actions.add_parser("simulate", help="run the printer simulator on 127.0.0.1 until Ctrl-C",
                                  description="run the printer simulator: ESC/POS in, PNG receipts out")
    where = simulate.add_mutually_exclusive_group()
    where.add_argument("--tcp", default="127.0.0.1:9100", metavar="HOST:PORT",
                       help="raw printer port to listen on (default 127.0.0.1:9100)")
    where.add_argument("--pty", action="store_true", help="listen on a pseudo-terminal instead (serial)")
    simulate.add_argument("--control", type=int, default=9101, metavar="PORT",
                          help="control port for faults on 127.0.0.1 (default 9101; 0 for none)")
    simulate.add_argument("--width", type=int, choices=(58, 80), default=80)
    simulate.add_argument("--encoding", choices=("gb18030", "gbk", "utf-8"), default="gb18030")
    simulate.add_argument("--out", default="printer-out", help="folder for one PNG per cut receipt")
    simulate.set_defaults(handler=_simulate)
    render = actions.add_parser("render", help="render any ESC/POS stream (a captured print job) to PNG and text",
                                description="render an ESC/POS byte stream captured from any program: the paper as "
                                            "PNG, its text lines, and the commands that were not rendered (stderr)")
    render.add_argument("file", metavar="FILE.bin", help="the printer bytes (\"-\" reads standard input)")
    render.add_argument("--png", required=True, metavar="OUT.png", help="the paper as a picture")
    render.add_argument("--text", metavar="OUT.txt", help="the printed text, one line per printed line")
    render.add_argument("--width", type=int, choices=(58, 80), default=80, help="paper width in mm (default 80)")
    render.add_argument("--encoding", choices=("gb18030", "gbk", "utf-8"), default="gb18030",
                        help="how the printer reads Chinese (default gb18030)")
    render.add_argument("--chinese", choices=("auto", "on", "off"), default="auto",
                        help="text outside FS &: auto (bytes that read as common Chinese print as Chinese, as on "
                             "printers whose Chinese mode is on by default; default), on (always), off (code page)")
    render.set_defaults(handler=_render)


def _open_printer(config: str):
    settings = load_settings(config)
    setup_logging("WARNING", "text")
    from kiosk.runtime import build_printer

    if settings.devices.printer.driver == "none":
        raise UserFacingError(f"{config}: no printer configured ([devices.printer] driver = \"none\")", 3)
    try:
        printer = build_printer(settings)
        printer.open()
    except ValueError as exc:
        raise UserFacingError(f"printer: {exc}", 3) from None
    except DeviceError as exc:
        raise UserFacingError(f"printer: {exc} ({exc.explanation})", 3) from None
    return settings, printer


def _status(args: argparse.Namespace) -> int:
    _settings, printer = _open_printer(args.config)
    try:
        report = printer.check_health("internal")
    finally:
        printer.close()
    print(report.text())
    return 0 if report.ok else 1


def _test_page(args: argparse.Namespace) -> int:
    settings, printer = _open_printer(args.config)
    from kiosk.receipts.printing import test_page_for

    try:
        slip = test_page_for(printer, settings.terminal.id, settings.devices.printer.logo)
        result = printer.print_job(slip.data)
        if args.png and hasattr(printer.link, "simulator"):
            printer.link.simulator.render(args.png)
    except DeviceError as exc:
        raise UserFacingError(f"printer: {exc} ({exc.explanation})", 3) from None
    finally:
        printer.close()
    how = "printed and confirmed by the printer" if result.confirmed else "sent (this printer cannot confirm)"
    print(f"test page {how}: {result.bytes_sent} bytes in {result.seconds:.2f} s; paper {result.paper.value}")
    return 0


def _render(args: argparse.Namespace) -> int:
    import sys

    from drivers.printer.simulator import PrinterSimulator

    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        raise UserFacingError(f"cannot read {args.file}: {exc.strerror or exc}", 2) from None
    simulator = PrinterSimulator(args.width, args.encoding, chinese_default=args.chinese == "on",
                                 chinese_auto=args.chinese == "auto")
    simulator.feed(data)
    simulator.finish()
    try:
        image = simulator.render(args.png)
        if args.text:
            Path(args.text).write_text("".join(line + "\n" for line in simulator.text_lines), encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise UserFacingError(f"cannot write the output: {exc}", 2) from None
    report = simulator.report()
    print(f"{args.png}: {image.width}x{image.height} px, {len(data)} bytes, {report['lines_printed']} text lines, "
          f"{len(simulator.codes)} code(s), {report['cuts']} cut(s); {len(report['unknown'])} command(s) not "
          f"rendered, {len(report['ignored'])} without visible effect")
    for line in report["unknown"]:
        print(f"unknown {line}", file=sys.stderr)
    for line in report["ignored"]:
        print(f"ignored {line}", file=sys.stderr)
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from drivers.printer.simulator import PrinterSimulator
    from drivers.printer.simulator.server import ControlServer, PtyPrinterServer, TcpPrinterServer

    simulator = PrinterSimulator(args.width, args.encoding, out_dir=Path(args.out))
    servers = []
    try:
        if args.pty:
            server = PtyPrinterServer(simulator)
            print(f"simulated printer on serial port {server.port}")
        else:
            match = re.fullmatch(r"(127(?:\.\d{1,3}){3}|localhost):(\d{1,5})", args.tcp)
            if not match:
                raise UserFacingError("--tcp must be a loopback address, e.g. 127.0.0.1:9100", 2)
            server = TcpPrinterServer(simulator, match.group(1), int(match.group(2)))
            print(f"simulated printer on tcp {server.host}:{server.port}")
        servers.append(server.start())
        if args.control:
            control = ControlServer(simulator, "127.0.0.1", args.control)
            servers.append(control.start())
            print(f"faults: echo 'paper out' | nc 127.0.0.1 {control.port}   (send 'help' for the list)")
    except OSError as exc:
        for running in servers:
            running.stop()
        raise UserFacingError(f"cannot listen: {exc.strerror or exc}", 2) from None
    print(f"receipts are saved in {args.out}/ at each cut; Ctrl-C stops")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for running in servers:
            running.stop()
        simulator.finish()
        report = simulator.report()
        print(f"received {report['bytes_received']} bytes, {report['cuts']} cut(s), "
              f"{len(report['unknown'])} unknown command(s)")
        for line in report["unknown"]:
            print(f"  unknown {line}")
    return 0
