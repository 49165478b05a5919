"""The live camera preview: frames drawn through one texture, the page outline on top.

``CameraPreview`` creates its texture once (again only if the frame size changes) and
updates it with ``blit_buffer`` — no new texture or image object per frame. Frames are
shown letterboxed at their aspect. ``show_outline(corners, frame_size, state)`` draws the
detected page outline (TL, TR, BR, BL in frame pixels) over the picture: amber while the
resident should hold still, green when it is steady or captured, nothing when no page is
seen. ``attach(latest_frame, latest_result)`` polls a camera and a ``LiveDetector`` on the
Kivy clock, so the detection itself never runs on the UI thread.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np
from kivy.clock import Clock
from kivy.graphics.texture import Texture
from kivy.lang import Builder
from kivy.properties import ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.widget import Widget

KV_FILE = Path(__file__).resolve().parent / "preview.kv"

OUTLINE_COLOURS = {
    "hold_still": (0.96, 0.62, 0.04, 1.0),  # amber
    "ready": (0.09, 0.64, 0.29, 1.0),  # green
    "captured": (0.09, 0.64, 0.29, 1.0),
    "found": (0.96, 0.62, 0.04, 1.0),
}


class CameraPreview(Widget):
    texture = ObjectProperty(None, allownone=True)
    #: where the frame is drawn inside the widget: x, y, width, height
    display_rect = ListProperty([0, 0, 0, 0])
    outline_points = ListProperty([])
    outline_colour = ListProperty([0, 0, 0, 0])
    outline_width = NumericProperty(4)
    hint_state = StringProperty("searching")
    #: frames wider than this are scaled down before upload (the preview needs no more)
    max_width = NumericProperty(1280)

    def __init__(self, **kwargs: Any):
        self.frame_size: tuple[int, int] | None = None
        self.textures_created = 0
        self.frames_shown = 0
        self._outline: tuple[np.ndarray | None, tuple[int, int] | None] = (None, None)
        self._poll = None
        self._last_seq = -1
        self._last_result = None
        super().__init__(**kwargs)
        self.bind(pos=self._layout, size=self._layout)

    # -- frames ----------------------------------------------------------------------------
    def show_frame(self, image: np.ndarray) -> None:
        """Upload a BGR (or grey) frame into the texture."""
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        h, w = image.shape[:2]
        if w > self.max_width:
            scale = self.max_width / w
            image = cv2.resize(image, (int(self.max_width), max(1, round(h * scale))), interpolation=cv2.INTER_LINEAR)
            h, w = image.shape[:2]
        image = np.ascontiguousarray(image)
        if self.texture is None or self.texture.size != (w, h):
            texture = Texture.create(size=(w, h), colorfmt="bgr", bufferfmt="ubyte")
            texture.flip_vertical()  # frames are stored top row first
            self.textures_created += 1
            self.texture = texture
            self.frame_size = (w, h)
            self._layout()
        self.texture.blit_buffer(image.reshape(-1), colorfmt="bgr", bufferfmt="ubyte")
        self.frames_shown += 1
        self.canvas.ask_update()

    # -- outline ---------------------------------------------------------------------------
    def show_outline(self, corners, frame_size: tuple[int, int] | None, state: str = "found") -> None:
        """Draw the page outline; ``corners`` in pixels of a frame of ``frame_size`` (w, h)."""
        self.hint_state = state
        self._outline = (None if corners is None else np.asarray(corners, np.float32), frame_size)
        self._draw_outline()

    def widget_point(self, x: float, y: float, frame_size: tuple[int, int]) -> tuple[float, float]:
        """Where frame pixel (x, y) (y down) appears in the widget (y up)."""
        dx, dy, dw, dh = self.display_rect
        fw, fh = frame_size
        return dx + x * dw / fw, dy + (fh - y) * dh / fh

    def _draw_outline(self) -> None:
        corners, frame_size = self._outline
        if corners is None or frame_size is None or self.display_rect[2] <= 0:
            self.outline_points = []
            self.outline_colour = [0, 0, 0, 0]
            return
        points: list[float] = []
        for x, y in corners:
            points.extend(self.widget_point(float(x), float(y), frame_size))
        self.outline_points = points
        self.outline_colour = list(OUTLINE_COLOURS.get(self.hint_state, OUTLINE_COLOURS["found"]))

    def _layout(self, *_args: Any) -> None:
        if self.frame_size is None:
            self.display_rect = [self.x, self.y, 0, 0]
            return
        fw, fh = self.frame_size
        scale = min(self.width / fw, self.height / fh) if fw and fh else 0
        w, h = fw * scale, fh * scale
        self.display_rect = [self.x + (self.width - w) / 2, self.y + (self.height - h) / 2, w, h]
        self._draw_outline()

    # -- feeding from a camera -------------------------------------------------------------
    def attach(self, latest_frame: Callable[[], Any], latest_result: Callable[[], Any] | None = None,
               fps: float = 30.0) -> None:
        """Poll ``latest_frame()`` (objects with ``image`` and ``seq``) and ``latest_result()``
        (``kiosk.vision.live.LiveResult`` or None) on the Kivy clock."""
        self.detach()

        def tick(_dt: float) -> None:
            frame = latest_frame()
            if frame is not None and frame.seq != self._last_seq:
                self._last_seq = frame.seq
                self.show_frame(frame.image)
            result = latest_result() if latest_result is not None else None
            if result is not self._last_result:
                self._last_result = result
                if result is None or result.detection is None:
                    self.show_outline(None, None, "searching")
                else:
                    state = result.hint.state if result.hint is not None else "found"
                    if state == "hold_still" and result.hint.progress >= 1.0:
                        state = "ready"  # steady: green even when auto-capture has already fired
                    self.show_outline(result.detection.corners, result.frame_size, state)

        self._poll = Clock.schedule_interval(tick, 1.0 / fps)

    def detach(self) -> None:
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None


if str(KV_FILE) not in Builder.files:
    Builder.load_file(str(KV_FILE))
