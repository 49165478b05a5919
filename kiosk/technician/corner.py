"""The hidden gesture: ``taps`` touches in one corner of the screen within ``seconds``.

``CornerTaps.touch(x, y, width, height)`` is fed every touch (window coordinates, y from the
bottom as Kivy counts); it returns True on the touch that completes the gesture. A touch
elsewhere starts the count again, so ordinary use of the screen never opens it.
"""
from __future__ import annotations

import time
from typing import Callable

CORNERS = ("top_left", "top_right", "bottom_left", "bottom_right")


class CornerTaps:
    def __init__(self, corner: str = "top_left", size: float = 150, taps: int = 5, seconds: float = 3.0,
                 clock: Callable[[], float] = time.monotonic):
        if corner not in CORNERS:
            raise ValueError(f"corner must be one of {', '.join(CORNERS)}")
        self.corner, self.size, self.taps, self.seconds, self.clock = corner, size, taps, seconds, clock
        self._times: list[float] = []

    def in_corner(self, x: float, y: float, width: float, height: float) -> bool:
        left = x <= self.size
        right = x >= width - self.size
        top = y >= height - self.size
        bottom = y <= self.size
        return {"top_left": left and top, "top_right": right and top, "bottom_left": left and bottom,
                "bottom_right": right and bottom}[self.corner]

    def touch(self, x: float, y: float, width: float, height: float) -> bool:
        now = self.clock()
        if not self.in_corner(x, y, width, height):
            self._times.clear()
            return False
        self._times = [t for t in self._times if now - t <= self.seconds] + [now]
        if len(self._times) >= self.taps:
            self._times.clear()
            return True
        return False
