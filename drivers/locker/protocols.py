"""Lock-control board protocols, as strategies the locker driver and simulator share.

**Kerong CU** (KR-CU16 style, 19200 8N1): ``02 ADDR CMD 03 SUM``, SUM = low byte of the sum
of all preceding bytes. ADDR carries the board in its high nibble and the lock (0–15) in
its low nibble. CMD 0x31 unlocks one lock, 0x30 queries one, 0x32 queries the whole board.
The board answers ``02 ADDR 35|36 L1-8 L9-16 I1-8 I9-16 03 SUM``: latch (hook) and infrared
(item present) bitmaps for its 16 locks, bit 0 = lock 0. Latch bit 1 = locked (closed).

**The common "0x8A" board** (9600 8N1, up to 24 locks a board, locks numbered from 1):
``8A board lock 11 XOR`` unlocks and is answered ``8A board lock status XOR`` (00 = opened,
11 = still locked); ``80 board lock 33 XOR`` queries one lock, answered
``80 board lock status XOR`` (11 = closed, 00 = open); ``80 board 00 33 XOR`` queries all and
is answered ``80 board L17-24 L9-16 L1-8 33 XOR`` (bit 1 = closed). XOR covers every byte
before it. These boards report latches only, no item sensor.

Boards differ in their latch feedback wiring; ``latch_inverted`` in the driver flips the
meaning of the latch bit for boards wired the other way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from drivers.base import ChecksumError, ProtocolError

UNLOCK, QUERY, QUERY_ALL = "unlock", "query", "query_all"


@dataclass(frozen=True)
class BoardState:
    """What one reply says: latch closed per lock (protocol numbering), items where sensed."""

    board: int
    closed: dict[int, bool]
    items: dict[int, bool] | None = None
    unlock_ok: bool | None = None  # 0x8A unlock replies say so directly
    raw: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class BoardRequest:
    kind: str
    board: int
    lock: int | None
    raw: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class Fault:
    error: ProtocolError


Decoded = Union[BoardState, BoardRequest, Fault]


def xor(data: bytes) -> int:
    value = 0
    for byte in data:
        value ^= byte
    return value


def low_sum(data: bytes) -> int:
    return sum(data) & 0xFF


class _FixedFrames:
    """Scans a stream for fixed-length frames that start with one of ``heads`` and check out."""

    def __init__(self, heads: tuple[int, ...], length: int, check, parse, max_buffer: int = 1024):
        self.heads = heads
        self.length = length
        self.check = check  # frame -> str | None (the problem)
        self.parse = parse  # frame -> Decoded
        self.max_buffer = max_buffer
        self.buffer = bytearray()
        self.skipped = 0

    def feed(self, data: bytes) -> list[Decoded]:
        self.buffer += data
        out: list[Decoded] = []
        while True:
            start = next((i for i, b in enumerate(self.buffer) if b in self.heads), -1)
            if start < 0:
                self.skipped += len(self.buffer)
                self.buffer.clear()
                return out
            if start:
                self.skipped += start
                del self.buffer[:start]
            if len(self.buffer) < self.length:
                if len(self.buffer) > self.max_buffer:
                    self.buffer.clear()
                return out
            frame = bytes(self.buffer[:self.length])
            problem = self.check(frame)
            if problem:
                # not a frame here (or a damaged one): report it, then look one byte further
                out.append(Fault(ChecksumError(problem, raw=frame) if "checksum" in problem
                                 else ProtocolError(problem, raw=frame)))
                self.skipped += 1
                del self.buffer[:1]
                continue
            del self.buffer[:self.length]
            out.append(self.parse(frame))


class BoardProtocol:
    name = ""
    default_baud = 9600
    locks_per_board = 16
    first_lock = 0
    has_item_sensor = False
    board_range = (0, 255)

    def locate(self, door: int, address: int) -> tuple[int, int]:
        """(board, lock) of door ``door`` (1-based) when the first board has ``address``."""
        index = door - 1
        return address + index // self.locks_per_board, self.first_lock + index % self.locks_per_board

    def request(self, kind: str, board: int, lock: int | None = None) -> bytes:
        raise NotImplementedError

    def reply_decoder(self, kind: str) -> _FixedFrames:
        raise NotImplementedError

    def request_decoder(self) -> _FixedFrames:
        raise NotImplementedError

    def reply(self, kind: str, board: int, lock: int | None, closed: dict[int, bool],
              items: dict[int, bool], unlock_ok: bool = True) -> bytes:
        raise NotImplementedError


class KerongCU(BoardProtocol):
    name = "kerong"
    default_baud = 19200
    locks_per_board = 16
    first_lock = 0
    has_item_sensor = True
    board_range = (0, 15)
    STX, ETX = 0x02, 0x03
    COMMANDS = {UNLOCK: 0x31, QUERY: 0x30, QUERY_ALL: 0x32}
    REPLIES = (0x35, 0x36)

    def request(self, kind: str, board: int, lock: int | None = None) -> bytes:
        address = ((board & 0x0F) << 4) | ((lock or 0) & 0x0F)
        body = bytes([self.STX, address, self.COMMANDS[kind], self.ETX])
        return body + bytes([low_sum(body)])

    def _check(self, frame: bytes) -> str | None:
        if frame[-2] != self.ETX:
            return "no ETX where the frame should end"
        if low_sum(frame[:-1]) != frame[-1]:
            return f"checksum {frame[-1]:02X}, expected {low_sum(frame[:-1]):02X}"
        return None

    def reply_decoder(self, kind: str) -> _FixedFrames:
        def check(frame: bytes) -> str | None:
            if frame[2] not in self.REPLIES:
                return f"command byte {frame[2]:02X} is not a status reply"
            return self._check(frame)

        def parse(frame: bytes) -> BoardState:
            latches = frame[3] | (frame[4] << 8)
            sensors = frame[5] | (frame[6] << 8)
            return BoardState(frame[1] >> 4, {i: bool(latches >> i & 1) for i in range(16)},
                              {i: bool(sensors >> i & 1) for i in range(16)}, None, frame)

        return _FixedFrames((self.STX,), 9, check, parse)

    def request_decoder(self) -> _FixedFrames:
        by_code = {code: kind for kind, code in self.COMMANDS.items()}

        def check(frame: bytes) -> str | None:
            if frame[2] not in by_code:
                return f"unknown command {frame[2]:02X}"
            return self._check(frame)

        def parse(frame: bytes) -> BoardRequest:
            kind = by_code[frame[2]]
            return BoardRequest(kind, frame[1] >> 4, None if kind == QUERY_ALL else frame[1] & 0x0F, frame)

        return _FixedFrames((self.STX,), 5, check, parse)

    def reply(self, kind: str, board: int, lock: int | None, closed: dict[int, bool],
              items: dict[int, bool], unlock_ok: bool = True) -> bytes:
        latches = sum(1 << i for i in range(16) if closed.get(i))
        sensors = sum(1 << i for i in range(16) if items.get(i))
        address = ((board & 0x0F) << 4) | ((lock or 0) & 0x0F)
        command = 0x36 if kind == QUERY_ALL else 0x35
        body = bytes([self.STX, address, command, latches & 0xFF, latches >> 8, sensors & 0xFF, sensors >> 8,
                      self.ETX])
        return body + bytes([low_sum(body)])


class Board8A(BoardProtocol):
    name = "8a"
    default_baud = 9600
    locks_per_board = 24
    first_lock = 1
    has_item_sensor = False
    board_range = (1, 32)
    UNLOCK_HEAD, QUERY_HEAD = 0x8A, 0x80
    UNLOCK_FN, QUERY_FN = 0x11, 0x33
    CLOSED, OPEN = 0x11, 0x00

    def request(self, kind: str, board: int, lock: int | None = None) -> bytes:
        if kind == UNLOCK:
            body = bytes([self.UNLOCK_HEAD, board, lock or 0, self.UNLOCK_FN])
        elif kind == QUERY:
            body = bytes([self.QUERY_HEAD, board, lock or 0, self.QUERY_FN])
        else:
            body = bytes([self.QUERY_HEAD, board, 0x00, self.QUERY_FN])
        return body + bytes([xor(body)])

    @staticmethod
    def _check_xor(frame: bytes) -> str | None:
        if xor(frame[:-1]) != frame[-1]:
            return f"checksum {frame[-1]:02X}, expected {xor(frame[:-1]):02X}"
        return None

    def reply_decoder(self, kind: str) -> _FixedFrames:
        if kind == QUERY_ALL:
            def check(frame: bytes) -> str | None:
                if frame[5] != self.QUERY_FN:
                    return "query-all reply without 33 before its checksum"
                return self._check_xor(frame)

            def parse(frame: bytes) -> BoardState:
                bits = frame[4] | (frame[3] << 8) | (frame[2] << 16)
                return BoardState(frame[1], {i + 1: bool(bits >> i & 1) for i in range(24)}, None, None, frame)

            return _FixedFrames((self.QUERY_HEAD,), 7, check, parse)

        head = self.UNLOCK_HEAD if kind == UNLOCK else self.QUERY_HEAD

        def check_one(frame: bytes) -> str | None:
            if frame[3] not in (self.CLOSED, self.OPEN):
                return f"lock status {frame[3]:02X} is neither 00 nor 11"
            return self._check_xor(frame)

        def parse_one(frame: bytes) -> BoardState:
            closed = frame[3] == self.CLOSED
            return BoardState(frame[1], {frame[2]: closed}, None, (not closed) if kind == UNLOCK else None, frame)

        return _FixedFrames((head,), 5, check_one, parse_one)

    def request_decoder(self) -> _FixedFrames:
        def check(frame: bytes) -> str | None:
            expected = self.UNLOCK_FN if frame[0] == self.UNLOCK_HEAD else self.QUERY_FN
            if frame[3] != expected:
                return f"function {frame[3]:02X} does not go with header {frame[0]:02X}"
            return self._check_xor(frame)

        def parse(frame: bytes) -> BoardRequest:
            if frame[0] == self.UNLOCK_HEAD:
                return BoardRequest(UNLOCK, frame[1], frame[2], frame)
            if frame[2] == 0:
                return BoardRequest(QUERY_ALL, frame[1], None, frame)
            return BoardRequest(QUERY, frame[1], frame[2], frame)

        return _FixedFrames((self.UNLOCK_HEAD, self.QUERY_HEAD), 5, check, parse)

    def reply(self, kind: str, board: int, lock: int | None, closed: dict[int, bool],
              items: dict[int, bool], unlock_ok: bool = True) -> bytes:
        if kind == QUERY_ALL:
            bits = sum(1 << (i - 1) for i in range(1, 25) if closed.get(i))
            body = bytes([self.QUERY_HEAD, board, bits >> 16 & 0xFF, bits >> 8 & 0xFF, bits & 0xFF, self.QUERY_FN])
        elif kind == UNLOCK:
            body = bytes([self.UNLOCK_HEAD, board, lock or 0, self.OPEN if unlock_ok else self.CLOSED])
        else:
            body = bytes([self.QUERY_HEAD, board, lock or 0, self.CLOSED if closed.get(lock or 0) else self.OPEN])
        return body + bytes([xor(body)])


PROTOCOLS: dict[str, type[BoardProtocol]] = {"kerong": KerongCU, "8a": Board8A}


def protocol_for(board: str) -> BoardProtocol:
    try:
        return PROTOCOLS[board]()
    except KeyError:
        raise ValueError(f"unknown locker board {board!r}: {', '.join(PROTOCOLS)}") from None
