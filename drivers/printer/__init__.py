"""The receipt printer: ESC/POS encoder, status parser, transports, device and simulator.

``create_printer(**settings)`` builds a ``ReceiptPrinter`` from the keys of the
``[devices.printer]`` config section (``kiosk.config.PrinterSettings``), so the device
manager registers it with ``create_printer(**dataclasses.asdict(settings.devices.printer))``.
With ``driver = "simulator"`` the printer is backed by an in-process ``PrinterSimulator``
(``printer.link.simulator``) that saves each cut receipt as a PNG in ``simulator_out``.
"""
from __future__ import annotations

from typing import Any, Callable

from drivers.base import UnsupportedError
from drivers.printer.device import (PAPER_COLUMNS, PAPER_DOTS, CoverOpenError, PaperOutError, PrinterFault,
                                    PrinterOfflineError, PrintResult, ReceiptPrinter)
from drivers.printer.status import Paper, PrinterStatus
from drivers.printer.transports import SimulatorLink, make_link

__all__ = ["ReceiptPrinter", "create_printer", "PrintResult", "PrinterFault", "PaperOutError", "CoverOpenError",
           "PrinterOfflineError", "Paper", "PrinterStatus", "PAPER_DOTS", "PAPER_COLUMNS"]


def create_printer(*, driver: str = "escpos", transport: str = "file", paper_width: int = 80,
                   encoding: str = "gb18030", profile: str = "default", qr: str = "auto",
                   usb_vendor_id: int = 0, usb_product_id: int = 0, usb_in_endpoint: int = 0x82,
                   usb_out_endpoint: int = 0x01, serial_port: str = "", serial_baudrate: int = 9600,
                   network_host: str = "", network_port: int = 9100, file_path: str = "",
                   timeout_seconds: float = 2.0, job_timeout_seconds: float = 30.0, simulator_out: str = "",
                   name: str = "printer", test_page: Callable[[ReceiptPrinter], bytes] | None = None,
                   **ignored: Any) -> ReceiptPrinter:
    """A ``ReceiptPrinter`` for one ``[devices.printer]`` section (not opened yet).

    Unknown keys (e.g. ``logo``, which the receipt layouts use) are accepted and ignored.
    """
    if driver == "simulator":
        from drivers.printer.simulator import PrinterSimulator

        simulator = PrinterSimulator(paper_width, encoding, out_dir=simulator_out or None)
        link = SimulatorLink(simulator)
    elif driver == "escpos":
        if transport == "usb":
            if not usb_vendor_id or not usb_product_id:
                raise UnsupportedError("usb transport needs usb_vendor_id and usb_product_id")
            link = make_link("usb", vendor_id=usb_vendor_id, product_id=usb_product_id, in_ep=usb_in_endpoint,
                             out_ep=usb_out_endpoint, timeout=timeout_seconds)
        elif transport == "serial":
            if not serial_port:
                raise UnsupportedError("serial transport needs serial_port")
            link = make_link("serial", port=serial_port, baudrate=serial_baudrate, timeout=timeout_seconds)
        elif transport == "network":
            if not network_host:
                raise UnsupportedError("network transport needs network_host")
            link = make_link("network", host=network_host, port=network_port, timeout=timeout_seconds)
        elif transport == "file":
            if not file_path:
                raise UnsupportedError("file transport needs file_path")
            link = make_link("file", path=file_path)
        else:
            raise UnsupportedError(f"unknown printer transport {transport!r}")
    else:
        raise UnsupportedError(f"unknown printer driver {driver!r}; use escpos or simulator")
    return ReceiptPrinter(link, profile=profile, paper_width=paper_width, encoding=encoding, qr=qr, name=name,
                          status_timeout=timeout_seconds, job_timeout=job_timeout_seconds, test_page=test_page)
