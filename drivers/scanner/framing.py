"""Line framing for serial scanners: one code per CR, LF or CRLF-terminated line.

``LineFramer.feed`` takes bytes as they arrive and returns complete lines, with the configured
prefix and suffix removed (and a trigger acknowledgement, for scanners that send one). A CRLF
split across two reads is one terminator, empty lines are ignored, and a line that grows
past ``max_length`` is reported once as oversized and then skipped up to its terminator, so
that a stream of garbage can never grow memory without bound.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    raw: bytes
    oversized: bool = False


class LineFramer:
    def __init__(self, max_length: int = 4096, prefix: bytes = b"", suffix: bytes = b"",
                 strip_leading: tuple[bytes, ...] = ()):
        self.max_length = max_length
        self.prefix = bytes(prefix)
        self.suffix = bytes(suffix)
        self.strip_leading = tuple(s for s in strip_leading if s)
        self._buffer = bytearray()
        self._after_cr = False
        self._discarding = False

    def reset(self) -> None:
        self._buffer.clear()
        self._after_cr = False
        self._discarding = False

    def feed(self, data: bytes) -> list[Line]:
        lines: list[Line] = []
        for byte in bytes(data):
            if byte in (0x0D, 0x0A):
                if byte == 0x0A and self._after_cr:
                    self._after_cr = False
                    continue
                self._after_cr = byte == 0x0D
                if self._discarding:
                    self._discarding = False
                elif self._buffer:
                    line = self._clean(bytes(self._buffer))
                    if line:
                        lines.append(Line(line))
                self._buffer.clear()
                continue
            self._after_cr = False
            if self._discarding:
                continue
            self._buffer.append(byte)
            if len(self._buffer) > self.max_length:
                lines.append(Line(bytes(self._buffer[:64]), oversized=True))
                self._buffer.clear()
                self._discarding = True
        return lines

    def _clean(self, line: bytes) -> bytes:
        changed = True
        while changed:
            changed = False
            for lead in self.strip_leading:
                if line.startswith(lead):
                    line = line[len(lead):]
                    changed = True
        if self.prefix and line.startswith(self.prefix):
            line = line[len(self.prefix):]
        if self.suffix and line.endswith(self.suffix):
            line = line[:-len(self.suffix)]
        return line
