"""GA/T 467 frames: the SAM protocol spoken by second-generation ID card readers over serial.

Request  ``AA AA AA 96 69 | Len(2, BE) | CMD | Para | Data | CHK``
Response ``AA AA AA 96 69 | Len(2, BE) | SW1 SW2 SW3 | Data | CHK``

``Len`` counts every byte after itself, CHK included. ``CHK`` is the XOR of every byte after
the preamble (the length bytes included) except CHK itself. So "find card" is
``AA AA AA 96 69 00 03 20 01 22``.

``FrameDecoder`` turns a byte stream into frames. It skips garbage before a preamble, waits
for a frame's declared length, and reports a bad checksum or an impossible length as an
error item carrying the raw bytes, then carries on with the next preamble: it never raises
and never waits for more than one declared frame.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from drivers.base import ChecksumError, ProtocolError

PREAMBLE = b"\xAA\xAA\xAA\x96\x69"
HEADER_LEN = len(PREAMBLE) + 2
#: The largest frame a reader sends: text + photo + fingerprint (256 + 1024 + 1024) and lengths.
MAX_LEN = 4096

# Commands (CMD, Para)
RESET_SAM = (0x10, 0xFF)
SAM_STATUS = (0x11, 0xFF)
SAM_ID = (0x12, 0xFF)
FIND_CARD = (0x20, 0x01)
SELECT_CARD = (0x20, 0x02)
READ_TEXT_PHOTO = (0x30, 0x01)
READ_APPENDED_ADDRESS = (0x30, 0x03)
READ_TEXT_PHOTO_FINGERPRINT = (0x30, 0x10)
SET_BAUD = 0x60  # Para 00..04
SET_MAX_RF_BYTES = (0x61, 0xFF)

#: Para of SET_BAUD → line speed.
BAUD_PARAS = {0x00: 115200, 0x01: 57600, 0x02: 38400, 0x03: 19200, 0x04: 9600}

# SW3 values
SW_OK = 0x90
SW_CARD_FOUND = 0x9F
SW_NO_CARD = 0x80
SW_SELECT_FAILED = 0x81
SW_NO_CONTENT = 0x91
SW_CHECKSUM = 0x10
SW_LENGTH = 0x11
SW_BAD_COMMAND = 0x21
SW_UNAUTHORISED = 0x23
SW_UNRECOGNISED = 0x24
SW_AUTH_1 = 0x31
SW_AUTH_2 = 0x32
SW_AUTH_3 = 0x33
SW_UNKNOWN_CARD = 0x40
SW_READ_FAILED = 0x41
SW_RANDOM_FAILED = 0x47
SW_SAM_SELF_TEST = 0x60
SW_SAM_NOT_AUTHORISED = 0x66

SW3_MEANINGS: dict[int, str] = {
    SW_OK: "ok",
    SW_CARD_FOUND: "card found",
    SW_NO_CARD: "no card on the reader",
    SW_SELECT_FAILED: "card select failed",
    SW_NO_CONTENT: "no content",
    SW_CHECKSUM: "the reader saw a checksum error in our frame",
    SW_LENGTH: "the reader saw a length error in our frame",
    SW_BAD_COMMAND: "command not accepted by the reader",
    SW_UNAUTHORISED: "operation not authorised",
    SW_UNRECOGNISED: "command not recognised",
    SW_AUTH_1: "card authentication of the SAM failed",
    SW_AUTH_2: "SAM authentication of the card failed",
    SW_AUTH_3: "information verification failed",
    SW_UNKNOWN_CARD: "unknown card type",
    SW_READ_FAILED: "reading the card failed",
    SW_RANDOM_FAILED: "getting a random number failed",
    SW_SAM_SELF_TEST: "SAM self-test failed",
    SW_SAM_NOT_AUTHORISED: "SAM not authorised",
}


def checksum(body: bytes) -> int:
    """XOR of ``body`` (everything after the preamble, before CHK)."""
    value = 0
    for byte in body:
        value ^= byte
    return value


def _frame(payload: bytes) -> bytes:
    length = len(payload) + 1  # + CHK
    body = length.to_bytes(2, "big") + payload
    return PREAMBLE + body + bytes([checksum(body)])


def encode_request(cmd: int, para: int, data: bytes = b"") -> bytes:
    return _frame(bytes([cmd & 0xFF, para & 0xFF]) + bytes(data))


def encode_response(sw3: int, data: bytes = b"", sw1: int = 0x00, sw2: int = 0x00) -> bytes:
    return _frame(bytes([sw1 & 0xFF, sw2 & 0xFF, sw3 & 0xFF]) + bytes(data))


@dataclass(frozen=True)
class Request:
    cmd: int
    para: int
    data: bytes
    raw: bytes = field(repr=False, default=b"")


@dataclass(frozen=True)
class Response:
    sw1: int
    sw2: int
    sw3: int
    data: bytes = field(repr=False)
    raw: bytes = field(repr=False, default=b"")

    @property
    def meaning(self) -> str:
        return SW3_MEANINGS.get(self.sw3, f"unknown status {self.sw3:02X}")


@dataclass(frozen=True)
class FrameFault:
    """A frame that could not be used; ``error`` carries the raw bytes."""

    error: ProtocolError


Item = Union[Request, Response, FrameFault]


class FrameDecoder:
    """Incremental decoder for one direction: ``kind`` is "request" or "response"."""

    def __init__(self, kind: str = "response", max_len: int = MAX_LEN):
        if kind not in ("request", "response"):
            raise ValueError(kind)
        self.kind = kind
        self.max_len = max_len
        self.min_len = 3 if kind == "request" else 4  # CMD Para CHK | SW1 SW2 SW3 CHK
        self._buffer = bytearray()
        self.skipped = 0  # garbage bytes dropped so far
        self.skipped_bytes = bytearray()  # the most recent garbage (bounded), for error reports

    def reset(self) -> None:
        self._buffer.clear()
        self.skipped = 0
        self.skipped_bytes.clear()

    @property
    def pending(self) -> bytes:
        return bytes(self._buffer)

    def _skip(self, count: int) -> None:
        dropped = self._buffer[:count]
        self.skipped += len(dropped)
        self.skipped_bytes += dropped
        del self.skipped_bytes[:-256]
        del self._buffer[:count]

    def feed(self, data: bytes) -> list[Item]:
        self._buffer += data
        items: list[Item] = []
        while True:
            start = self._buffer.find(PREAMBLE)
            if start < 0:
                # keep a tail that may be the start of a preamble split across reads
                keep = 0
                for size in range(min(len(PREAMBLE) - 1, len(self._buffer)), 0, -1):
                    if self._buffer.endswith(PREAMBLE[:size]):
                        keep = size
                        break
                self._skip(len(self._buffer) - keep)
                return items
            if start:
                self._skip(start)
            if len(self._buffer) < HEADER_LEN:
                return items
            length = int.from_bytes(self._buffer[5:7], "big")
            if length < self.min_len or length > self.max_len:
                raw = bytes(self._buffer[:HEADER_LEN])
                items.append(FrameFault(ProtocolError(
                    f"impossible length field {length} in a {self.kind} frame", raw=raw)))
                self._skip(len(PREAMBLE))  # resynchronise on the next preamble
                continue
            total = HEADER_LEN + length
            if len(self._buffer) < total:
                return items
            raw = bytes(self._buffer[:total])
            del self._buffer[:total]
            body = raw[len(PREAMBLE):-1]
            if checksum(body) != raw[-1]:
                items.append(FrameFault(ChecksumError(
                    f"{self.kind} checksum {raw[-1]:02X}, expected {checksum(body):02X}", raw=raw)))
                continue
            payload = raw[HEADER_LEN:-1]
            if self.kind == "request":
                items.append(Request(payload[0], payload[1], bytes(payload[2:]), raw))
            else:
                items.append(Response(payload[0], payload[1], payload[2], bytes(payload[3:]), raw))


def format_sam_id(data: bytes) -> str:
    """The SAM's 16-byte id as vendors print it: ``05.01-20101216-0000012345-1234567890``."""
    if len(data) < 16:
        raise ProtocolError(f"SAM id has {len(data)} bytes, expected 16", raw=data)
    a = int.from_bytes(data[0:2], "little")
    b = int.from_bytes(data[2:4], "little")
    c = int.from_bytes(data[4:8], "little")
    d = int.from_bytes(data[8:12], "little")
    e = int.from_bytes(data[12:16], "little")
    return f"{a:02d}.{b:02d}-{c:08d}-{d:010d}-{e:010d}"


def encode_sam_id(a: int, b: int, c: int, d: int, e: int) -> bytes:
    return (a.to_bytes(2, "little") + b.to_bytes(2, "little") + c.to_bytes(4, "little")
            + d.to_bytes(4, "little") + e.to_bytes(4, "little"))
