"""Measure what an elderly resident needs from the screen as it is drawn right now.

``audit(size, elderly, pixels)`` walks every widget a person can see (the shell, the current
screen, the keyboard, overlays) and measures:

- **text size**: the font size of every visible text (labels, buttons, fields);
- **touch targets**: width and height of everything that reacts to a touch (buttons, tiles,
  rows, fields);
- **primary buttons**: the height of the main actions (filled buttons and tiles);
- **contrast**: of every visible text against the background actually drawn behind it,
  read from the window's pixels (the most common colour in the text's box that is not the
  text's own colour), as the WCAG 2 contrast ratio.

Thresholds are for a 1080×1920 portrait screen and scale with the screen's shorter side:
text ≥ 32 px (≥ 43 px in elderly mode), touch targets ≥ 90 × 90 px, primary buttons ≥ 120 px
high in elderly mode, contrast ≥ 4.5:1. ``Report.problems`` lists what falls short,
``Report.minima`` the smallest value of each figure.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from kivy.core.window import Window
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.textinput import TextInput

BASE_SIDE = 1080
TEXT_PX, TEXT_PX_ELDERLY = 32, 43
TOUCH_PX = 90
PRIMARY_PX_ELDERLY = 120
CONTRAST = 4.5


@dataclass
class Report:
    scale: float
    elderly: bool
    minima: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)

    def note(self, figure: str, value: float, limit: float, what: str) -> None:
        self.counts[figure] += 1
        if figure not in self.minima or value < self.minima[figure]:
            self.minima[figure] = round(value, 2)
        if value + 1e-6 < limit:
            self.problems.append(f"{figure} {value:.1f} < {limit:.1f}: {what}")


def luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def shown(widget) -> bool:
    """Visible to a person: it and every parent opaque and of some size, and inside the window."""
    node = widget
    while node is not None:
        if node.opacity <= 0.01 or node.width <= 0.5 or node.height <= 0.5:
            return False
        if node.parent is node or node.parent is None:
            break
        node = node.parent
    x, y = widget.to_window(widget.x, widget.y)
    right, top = widget.to_window(widget.right, widget.top)
    if right <= 0 or top <= 0 or x >= Window.width or y >= Window.height:
        return False
    return _inside_scroll_views(widget, x, y, right, top)


def _clipped(widget, x: float, y: float, right: float, top: float) -> tuple[float, float, float, float]:
    """The part of (x, y, right, top) that the scroll views around ``widget`` let show."""
    from kivy.uix.scrollview import ScrollView

    node = widget.parent
    while node is not None and node.parent is not node:
        if isinstance(node, ScrollView):
            sx, sy = node.to_window(node.x, node.y)
            sr, st = node.to_window(node.right, node.top)
            x, y, right, top = max(x, sx), max(y, sy), min(right, sr), min(top, st)
        node = node.parent
    return x, y, right, top


def _inside_scroll_views(widget, x: float, y: float, right: float, top: float) -> bool:
    from kivy.uix.scrollview import ScrollView

    node = widget.parent
    while node is not None and node.parent is not node:
        if isinstance(node, ScrollView):
            sx, sy = node.to_window(node.x, node.y)
            sr, st = node.to_window(node.right, node.top)
            if right <= sx or x >= sr or top <= sy or y >= st:
                return False
        node = node.parent
    return True


def visible_widgets():
    """Every visible widget a person can read or touch.

    With an overlay open (a ``ModalView``: the inactivity countdown) only the overlay counts:
    what lies under its dark veil is not meant to be read. Widgets under the shown toast are
    covered by it for a few seconds and are skipped too, and so are widgets under a window-level
    panel that declares ``covers_below`` (the testers' simulator panel): their own states measure them.
    """
    overlays = [child for child in Window.children if isinstance(child, ModalView)]
    tops = overlays or list(Window.children)
    covers = [widget for top in tops for widget in top.walk(restrict=False)
              if getattr(widget, "shown", False) is True and type(widget).__name__ == "Toast"]
    covers += [top for top in tops if getattr(top, "covers_below", False) is True]
    for top in tops:
        for widget in top.walk(restrict=False):
            if shown(widget) and not any(_under(widget, cover) for cover in covers):
                yield widget


def _under(widget, cover) -> bool:
    node = widget
    while node is not None:  # the cover's own widgets are not under it
        if node is cover:
            return False
        node = node.parent if node.parent is not node else None
    x, y = widget.to_window(widget.x, widget.y)
    right, top = widget.to_window(widget.right, widget.top)
    cx, cy = cover.to_window(cover.x, cover.y)
    cr, ct = cover.to_window(cover.right, cover.top)
    return x < cr and right > cx and y < ct and top > cy


def _text_colour(widget) -> tuple[float, float, float, float]:
    if isinstance(widget, TextInput):
        return tuple(widget.foreground_color)
    colour = widget.disabled_color if widget.disabled else widget.color
    return tuple(colour)


class Pixels:
    """The window's current frame as RGB rows, for reading the background behind a text."""

    def __init__(self, image):
        self.image = image.convert("RGB")
        self.width, self.height = self.image.size

    @classmethod
    def capture(cls, path) -> "Pixels":
        from PIL import Image

        Window.dispatch("on_draw")  # draw the current tree into the buffer that is read back
        written = Window.screenshot(name=str(path))
        return cls(Image.open(written))

    def background(self, box: tuple[int, int, int, int], text_rgb: tuple[int, int, int]) -> tuple[int, int, int]:
        """The most common colour in ``box`` (window coordinates, y up) that is not close to the text's."""
        left, bottom, right, top = box
        left, right = max(0, left), min(self.width, right)
        bottom, top = max(0, bottom), min(self.height, top)
        counts: Counter = Counter()
        step = max(1, int(((right - left) * (top - bottom)) ** 0.5 / 60))
        for wy in range(bottom, top, step):
            row = self.height - 1 - wy
            for wx in range(left, right, step):
                pixel = self.image.getpixel((wx, row))
                if sum(abs(pixel[i] - text_rgb[i]) for i in range(3)) > 60:
                    counts[(pixel[0] // 4 * 4, pixel[1] // 4 * 4, pixel[2] // 4 * 4)] += 1
        if not counts:
            return (255, 255, 255) if luminance(tuple(c / 255 for c in text_rgb)) < 0.5 else (0, 0, 0)
        return counts.most_common(1)[0][0]


def _is_primary(widget) -> bool:
    from screens.widgets import KioskButton, Tile

    if isinstance(widget, Tile):
        return True
    return isinstance(widget, KioskButton) and widget.kind in ("primary", "call", "danger")


def _label_text(widget) -> str:
    text = getattr(widget, "text", "")
    if isinstance(widget, TextInput):
        return text or widget.hint_text
    return text if isinstance(text, str) else ""


def audit(elderly: bool, pixels: Pixels | None = None, where: str = "") -> Report:
    side = min(Window.width, Window.height)
    scale = side / BASE_SIDE
    report = Report(scale, elderly)
    text_limit = (TEXT_PX_ELDERLY if elderly else TEXT_PX) * scale
    for widget in visible_widgets():
        name = f"{where} {type(widget).__name__} {getattr(widget, 'widget_id', '') or _label_text(widget)[:24]!r}"
        if isinstance(widget, (ButtonBehavior, TextInput)) and not isinstance(widget, ModalView):
            if not widget.disabled or isinstance(widget, TextInput):
                report.note("touch_px", min(widget.width, widget.height), TOUCH_PX * scale, name)
            if elderly and _is_primary(widget):
                report.note("primary_height_px", widget.height, PRIMARY_PX_ELDERLY * scale, name)
        text = _label_text(widget).strip()
        if not text or not isinstance(widget, (Label, TextInput)):
            continue
        if isinstance(widget, Label) and not widget.texture_size[0]:
            continue
        report.note("text_px", float(widget.font_size), text_limit, name)
        if pixels is not None:
            colour = _text_colour(widget)
            x, y = widget.to_window(widget.x, widget.y)
            right, top = widget.to_window(widget.right, widget.top)
            x, y, right, top = _clipped(widget, x, y, right, top)  # what a list scrolled half out of view shows
            text_rgb = tuple(int(c * 255) for c in colour[:3])
            background = pixels.background((int(x), int(y), int(right), int(top)), text_rgb)
            alpha = colour[3] if len(colour) > 3 else 1.0
            seen = tuple((c * alpha + (b / 255) * (1 - alpha)) for c, b in zip(colour[:3], background))
            report.note("contrast", contrast(seen, tuple(b / 255 for b in background)), CONTRAST, name)
    return report
