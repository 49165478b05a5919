"""A signature pad: the resident signs a 告知承诺 with a finger.

``SignaturePad`` records each stroke (touch down, moves, up) inside its own area and draws it
as it is written. ``strokes()`` hands the strokes to the core in the pad's unit square (x to the
right, y downwards, both 0–1), where ``kiosk.apply.signature`` turns them into the page image.
``clear()`` starts again. The pad carries ``widget_id`` ``signature.pad``.
"""
from __future__ import annotations

from kivy.graphics import Color, Line
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.widget import Widget


class SignaturePad(Widget):
    widget_id = StringProperty("signature.pad")
    ink_width = NumericProperty(4)
    has_ink = BooleanProperty(False)

    def __init__(self, **kwargs):
        self._strokes: list[list[tuple[float, float]]] = []
        self._lines: list[Line] = []
        super().__init__(**kwargs)
        self.bind(pos=self._redraw, size=self._redraw)  # 长辈模式 or a new layout: the ink moves with the pad

    def _point(self, unit: tuple[float, float]) -> list[float]:
        return [self.x + unit[0] * self.width, self.y + (1.0 - unit[1]) * self.height]

    def _redraw(self, *_args) -> None:
        self.canvas.after.clear()
        self._lines = []
        with self.canvas.after:
            Color(0.07, 0.09, 0.15, 1)
            for stroke in self._strokes:
                points = [coordinate for unit in stroke for coordinate in self._point(unit)]
                self._lines.append(Line(points=points, width=self.ink_width, cap="round", joint="round"))

    def on_touch_down(self, touch):
        if not self.collide_point(*touch.pos) or self.disabled:
            return super().on_touch_down(touch)
        touch.grab(self)
        self._strokes.append([self._unit(*touch.pos)])
        with self.canvas.after:
            Color(0.07, 0.09, 0.15, 1)
            line = Line(points=[*touch.pos], width=self.ink_width, cap="round", joint="round")
        self._lines.append(line)
        return True

    def on_touch_move(self, touch):
        if touch.grab_current is not self:
            return super().on_touch_move(touch)
        x = min(max(touch.x, self.x), self.right)
        y = min(max(touch.y, self.y), self.top)
        self._strokes[-1].append(self._unit(x, y))
        self._lines[-1].points += [x, y]
        self.has_ink = True
        return True

    def on_touch_up(self, touch):
        if touch.grab_current is not self:
            return super().on_touch_up(touch)
        touch.ungrab(self)
        return True

    def _unit(self, x: float, y: float) -> tuple[float, float]:
        width, height = max(1.0, self.width), max(1.0, self.height)
        return (x - self.x) / width, 1.0 - (y - self.y) / height

    def strokes(self) -> list[list[tuple[float, float]]]:
        return [list(stroke) for stroke in self._strokes]

    def clear(self) -> None:
        self._strokes.clear()
        self._lines.clear()
        self.canvas.after.clear()
        self.has_ink = False
