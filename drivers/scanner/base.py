"""The code scanner interface: every scanner, whatever its wire, delivers ``ScanEvent`` objects.

A scan is delivered raw (the bytes of one code) and decoded: UTF-8 first, GB18030 where the
bytes are not UTF-8. A scan that is neither, or that grew past the length limit without a
terminator, is still delivered, with ``error`` set, so that the kiosk can tell the resident
it could not read the code; classifying payloads is the kiosk's job (``kiosk.payloads``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from drivers.base import Device, Listeners, Subscription

log = logging.getLogger(__name__)

#: The longest code a scanner may send: a QR code holds at most 2,953 bytes of binary data.
MAX_SCAN_BYTES = 4096


@dataclass(frozen=True, repr=False)
class ScanEvent:
    text: str | None  # None when the bytes could not be decoded
    raw: bytes = field(default=b"")
    source: str = ""  # the scanner's name
    encoding: str = ""  # "utf-8", "gb18030" or "" when undecodable
    error: str = ""  # "", "undecodable" or "oversized"

    def __repr__(self) -> str:  # a payload may carry personal data: never in a log line
        return f"ScanEvent(source={self.source!r}, {len(self.raw)} bytes, encoding={self.encoding!r}, " \
               f"error={self.error!r})"


def decode_payload(raw: bytes) -> tuple[str | None, str]:
    """(text, encoding): UTF-8 (a BOM is dropped), else GB18030, else (None, "")."""
    data = bytes(raw)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        return None, ""


def make_event(raw: bytes, source: str, oversized: bool = False) -> ScanEvent:
    if oversized:
        return ScanEvent(None, bytes(raw[:64]), source, "", "oversized")
    text, encoding = decode_payload(raw)
    if text is None:
        return ScanEvent(None, bytes(raw), source, "", "undecodable")
    return ScanEvent(text, bytes(raw), source, encoding)


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
