"""The code scanner interface: every scanner, whatever its wire, delivers ``ScanEvent`` objects.

Serial, HID-wedge and camera scanners all publish a ``ScanEvent`` through ``subscribe_scans``:
the bytes of one code (``raw``), its symbology where the scanner knows it (``format``, e.g.
``QR_CODE`` from the camera; ``""`` from a serial or HID scanner), and the text that the one
code decoder (``drivers.codetext``) finds in the bytes. A scan with no trustworthy text, or
one that grew past the length limit without a terminator, is still delivered, with ``text``
None and ``error`` set, so that the kiosk can tell the resident it could not read the code;
classifying payloads is the kiosk's job (``kiosk.payloads``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from drivers.base import Device, Listeners, Subscription
from drivers.codetext import decode_code_text

log = logging.getLogger(__name__)

#: The longest code a scanner may send: a QR code holds at most 2,953 bytes of binary data.
MAX_SCAN_BYTES = 4096

#: ``ScanEvent.error`` values: the decoder's problems (``drivers.codetext``) and "oversized".
OVERSIZED = "oversized"


@dataclass(frozen=True, repr=False)
class ScanEvent:
    text: str | None  # None when the bytes hold no trustworthy text
    raw: bytes = field(default=b"")
    source: str = ""  # the scanner's name
    encoding: str = ""  # as drivers.codetext reports it ("ascii", "utf-8", "gb18030", …); "" when refused
    error: str = ""  # "", "empty", "undecodable", "garbage" or "oversized"
    format: str = ""  # the symbology (QR_CODE, EAN_13, …) where the scanner knows it

    def __repr__(self) -> str:  # a payload may carry personal data: never in a log line
        return f"ScanEvent(source={self.source!r}, {len(self.raw)} bytes, format={self.format!r}, " \
               f"encoding={self.encoding!r}, error={self.error!r})"

    @classmethod
    def from_bytes(cls, raw: bytes, source: str, *, format: str = "", oversized: bool = False) -> "ScanEvent":
        """The event for one code's bytes, decoded by ``drivers.codetext`` (the first 64 bytes if oversized)."""
        if oversized:
            return cls(None, bytes(raw[:64]), source, "", OVERSIZED, format)
        decoded = decode_code_text(raw)
        return cls(decoded.text, bytes(raw), source, decoded.encoding, decoded.problem, format)


class CodeScanner(Device):
    """Interface of every code scanner driver (serial, HID wedge, camera)."""

    device_class = "scanner"

    def __init__(self, name: str | None = None):
        super().__init__(name)
        self._scan_listeners: Listeners[ScanEvent] = Listeners("scan", self.name)

    def subscribe_scans(self, listener: Callable[[ScanEvent], None]) -> Subscription:
        return self._scan_listeners.add(listener)

    def unsubscribe_scans(self, listener: Callable[[ScanEvent], None]) -> None:
        self._scan_listeners.remove(listener)

    def _publish_scan(self, event: ScanEvent) -> None:
        self.count("scans" if not event.error else "bad_scans")
        self._scan_listeners.publish(event)
