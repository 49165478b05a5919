"""Slips for a printer: the test page of a ``ReceiptPrinter``, and ``build_slip``, which compiles
any slip for a printer or for a paper width without one (the CLI's ``kiosk receipt render``)."""
from __future__ import annotations

from datetime import datetime

from drivers.printer import ReceiptPrinter
from kiosk.receipts import samples
from kiosk.receipts.layout import CompiledReceipt, Receipt, Target, compile_receipt
from kiosk.receipts.templates import (PrinterTestData, acceptance_receipt, diagnostics_slip, pickup_slip,
                                      printer_test_page)

KINDS = ("acceptance", "pickup", "test", "diagnostics")


def printer_status_text(printer: ReceiptPrinter) -> str:
    detail = printer.status.detail
    if not detail.get("status_readable"):
        return "unknown (this transport cannot read back)"
    return f"{printer.status.state.value}: paper {detail.get('paper')}, cover {detail.get('cover')}"


def test_page_for(printer: ReceiptPrinter, terminal_id: str, logo: str = "") -> CompiledReceipt:
    data = PrinterTestData(
        terminal_id=terminal_id,
        printed_at=datetime.now().replace(second=0, microsecond=0),
        printer_model=f"{printer.profile.vendor} {printer.profile.model}".strip(),
        profile=printer.profile.name,
        transport=printer.link.description,
        paper_width=printer.paper_width,
        encoding=printer.encoding,
        qr_mode="native (GS ( k)" if printer.native_qr else "raster (GS v 0)",
        status=printer_status_text(printer),
    )
    return compile_receipt(printer_test_page(data, logo), Target.for_printer(printer))


def sample_slip(kind: str, target: Target, logo: str = "") -> Receipt:
    """The slip ``kind`` filled with sample data."""
    if kind == "acceptance":
        return acceptance_receipt(samples.sample_acceptance(), logo)
    if kind == "pickup":
        return pickup_slip(samples.sample_pickup(), logo)
    if kind == "test":
        return printer_test_page(samples.sample_test_page(target.paper_width, target.encoding, target.native_qr), logo)
    if kind == "diagnostics":
        return diagnostics_slip(samples.sample_diagnostics())
    raise ValueError(f"unknown slip {kind!r}; one of {', '.join(KINDS)}")


def build_slip(kind: str, target: Target, logo: str = "") -> CompiledReceipt:
    return compile_receipt(sample_slip(kind, target, logo), target)
