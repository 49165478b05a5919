"""The receipt printer: ESC/POS encoder, status parser, transports, device and simulator.

``create_printer(**keys)`` builds a real ESC/POS ``ReceiptPrinter`` on the transport the keys
of a ``[devices.printer]`` section name; ``simulated_printer(**keys)`` builds one backed by an
in-process ``PrinterSimulator``. Which of the two a kiosk gets is decided by the composition
root (``kiosk.runtime``), never here.
"""
from __future__ import annotations

from typing import Any, Callable

from drivers.base import UnsupportedError
from drivers.printer.device import (PAPER_COLUMNS, PAPER_DOTS, CoverOpenError, PaperOutError, PrinterFault,
                                    PrinterOfflineError, PrintResult, ReceiptPrinter)
from drivers.printer.status import Paper, PrinterStatus
from drivers.printer.transports import SimulatorLink, make_link

__all__ = ["ReceiptPrinter", "create_printer", "simulated_printer", "PrintResult", "PrinterFault", "PaperOutError", "CoverOpenError",
           "PrinterOfflineError", "Paper", "PrinterStatus", "PAPER_DOTS", "PAPER_COLUMNS"]


def create_printer(*, transport: str = "file", paper_width: int = 80,
                   encoding: str = "gb18030", profile: str = "default", qr: str = "auto",
                   usb_vendor_id: int = 0, usb_product_id: int = 0, usb_in_endpoint: int = 0x82,
                   usb_out_endpoint: int = 0x01, serial_port: str = "", serial_baudrate: int = 9600,
                   network_host: str = "", network_port: int = 9100, file_path: str = "",
                   timeout_seconds: float = 2.0, job_timeout_seconds: float = 30.0,
                   name: str = "printer", test_page: Callable[[ReceiptPrinter], bytes] | None = None,
                   **ignored: Any) -> ReceiptPrinter:
    """A real ESC/POS ``ReceiptPrinter`` on the given transport (not opened yet).

    Unknown keys (e.g. ``logo``, which the receipt layouts use) are accepted and ignored.
    """
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
    return ReceiptPrinter(link, profile=profile, paper_width=paper_width, encoding=encoding, qr=qr, name=name,
                          status_timeout=timeout_seconds, job_timeout=job_timeout_seconds, test_page=test_page)


def simulated_printer(*, paper_width: int = 80, encoding: str = "gb18030", profile: str = "default",
                      qr: str = "auto", simulator_out: str = "", timeout_seconds: float = 2.0,
                      job_timeout_seconds: float = 30.0, name: str = "printer",
                      test_page: Callable[[ReceiptPrinter], bytes] | None = None,
                      **ignored: Any) -> ReceiptPrinter:
    """A ``ReceiptPrinter`` backed by an in-process ``PrinterSimulator`` (``printer.link.simulator``)
    that saves each cut receipt as a PNG in ``simulator_out``."""
    from drivers.printer.simulator import PrinterSimulator

    link = SimulatorLink(PrinterSimulator(paper_width, encoding, out_dir=simulator_out or None))
    return ReceiptPrinter(link, profile=profile, paper_width=paper_width, encoding=encoding, qr=qr, name=name,
                          status_timeout=timeout_seconds, job_timeout=job_timeout_seconds, test_page=test_page)
