"""What a person sees on the kiosk's window, read from the widget tree (for scenarios).

``survey()`` walks every widget on the window — the current screen, the top and bottom
bars, the keyboard dock and any open overlay (ModalView) — and notes for each whether a
person could see it: not transparent (its own and its parents' opacity), not zero-size,
inside the window and not scrolled out of a ScrollView's viewport (any StencilView
clips). For the visible ones it keeps the part that shows, in window coordinates, and
the text as read: Kivy markup removed and its escapes (``&amp;``, ``&bl;``, ``&br;``)
resolved, so a highlighted search result reads as its plain name; a password field reads
as its dots.

``View`` answers the questions a scenario asks: the visible texts top to bottom, the
widgets with a ``widget_id``, the actionable widget whose text contains some words.
It only reads; touching is the player's job.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from kivy.core.window import Window
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.stencilview import StencilView
from kivy.uix.textinput import TextInput
from kivy.uix.widget import Widget

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1 in window coordinates

_MARKUP_SPLIT = re.compile(r"(\[.*?\])")
_PAIRED = ("b", "i", "u", "s", "sub", "sup")
_VALUED = ("size", "color", "font", "font_family", "font_context", "font_features", "text_language", "ref")
_SPACE = re.compile(r"\s+")


def _is_tag(item: str) -> bool:
    """Whether ``[…]`` is a tag Kivy's markup renderer consumes (anything else is shown)."""
    inner = item[1:-1]
    if inner.startswith("/"):
        return inner[1:] in _PAIRED or inner[1:] in _VALUED
    if inner in _PAIRED:
        return True
    name, equals, _ = inner.partition("=")
    return bool(equals) and (name in _VALUED or name == "anchor")


def plain_text(text: str, markup: bool = True) -> str:
    """The text a person reads in a label showing ``text``."""
    if not markup:
        return text
    shown = [part for part in _MARKUP_SPLIT.split(text) if part and not (part.startswith("[") and _is_tag(part))]
    return "".join(part.replace("&bl;", "[").replace("&br;", "]").replace("&amp;", "&") for part in shown)


def normalised(text: str) -> str:
    """Runs of spaces and line breaks read as one space."""
    return _SPACE.sub(" ", text).strip()


def contains(haystack: str, needle: str) -> bool:
    return needle in haystack or normalised(needle) in normalised(haystack)


@dataclass
class Seen:
    """One widget on the window and whether (and where) it shows."""

    widget: Widget
    box: Rect                      # the whole widget
    visible: Rect | None           # the part that shows; None when hidden
    hidden_because: str            # "" when visible
    text: str = ""                 # its own text as read ("" when it shows none)
    actionable_parent: "Seen | None" = None
    texts_inside: list[str] = field(default_factory=list)  # actionable: its own and its children's visible texts
    all_texts_inside: list[str] = field(default_factory=list)  # the same, shown or not

    @property
    def widget_id(self) -> str:
        value = getattr(self.widget, "widget_id", "")
        return value if isinstance(value, str) else ""

    @property
    def actionable(self) -> bool:
        return isinstance(self.widget, (ButtonBehavior, TextInput))

    @property
    def enabled(self) -> bool:
        return not self.widget.disabled

    @property
    def centre(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.visible or self.box
        return (x0 + x1) / 2, (y0 + y1) / 2

    def reading_key(self) -> tuple[float, float]:
        x0, _y0, _x1, y1 = self.visible or self.box
        return -round(y1), round(x0)

    def description(self) -> str:
        label = self.widget_id or type(self.widget).__name__
        shown = " / ".join(t for t in self.texts_inside or [self.text] if t)
        return f"{label} \"{normalised(shown)[:60]}\"" if shown else label


def _intersect(a: Rect | None, b: Rect | None) -> Rect | None:
    if a is None or b is None:
        return None
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _box(widget: Widget) -> Rect:
    x0, y0 = widget.to_window(widget.x, widget.y)
    x1, y1 = widget.to_window(widget.right, widget.top)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _own_text(widget: Widget) -> str:
    if isinstance(widget, Label):
        if not widget.text or (len(widget.color) > 3 and widget.color[3] <= 0.01):
            return ""
        return plain_text(widget.text, bool(widget.markup))
    if isinstance(widget, TextInput):
        if widget.text and widget.password:
            return widget.password_mask * len(widget.text)  # a PIN shows as dots, so it reads as dots
        return widget.text or widget.hint_text or ""
    return ""


def survey() -> list[Seen]:
    """Every widget on the window, in drawing order, with what a person could see of it."""
    window: Rect = (0.0, 0.0, float(Window.width), float(Window.height))
    found: list[Seen] = []

    def walk(widget: Widget, opacity: float, clip: Rect | None, scrolled: bool, owner: Seen | None) -> None:
        opacity *= widget.opacity
        box = _box(widget)
        visible, why = None, ""
        if opacity <= 0.01:
            why = "transparent"
        elif box[2] - box[0] <= 0 or box[3] - box[1] <= 0:
            why = "zero size"
        else:
            visible = _intersect(box, clip)
            if visible is None:
                why = "scrolled out of view" if scrolled else "outside the window"
        seen = Seen(widget, box, visible, why, actionable_parent=owner)
        text = _own_text(widget)
        if visible is not None:
            seen.text = text
        found.append(seen)
        if seen.actionable:
            owner = seen
        holder: Seen | None = owner if text else None
        while holder is not None:  # the nearest actionable widget around this text, and the ones around it
            holder.all_texts_inside.append(text)
            if seen.text:
                holder.texts_inside.append(text)
            holder = holder.actionable_parent
        stencil = isinstance(widget, StencilView)  # a ScrollView's viewport clips what is inside
        inner = _intersect(clip, box) if stencil else clip
        for child in reversed(widget.children):
            walk(child, opacity, inner, scrolled or stencil, owner)

    for root in reversed(Window.children):
        walk(root, 1.0, window, False, None)
    return found


class View:
    """One look at the window: built fresh for every question a step asks."""

    def __init__(self) -> None:
        self.seen = survey()

    def texts(self) -> list[str]:
        """The texts a person can read, top to bottom, then left to right."""
        shown = [s for s in self.seen if s.visible is not None and s.text.strip()]
        return [s.text for s in sorted(shown, key=Seen.reading_key)]

    def find_text(self, needle: str) -> str | None:
        return next((text for text in self.texts() if contains(text, needle)), None)

    def with_id(self, widget_id: str) -> list[Seen]:
        return [s for s in self.seen if s.widget_id == widget_id]

    def ids_shown(self) -> list[str]:
        ids = {s.widget_id for s in self.seen if s.widget_id and s.visible is not None}
        return sorted(ids)

    def by_text(self, needle: str, shown_only: bool = True) -> list[Seen]:
        """Actionable widgets whose text (their own and their labels') contains ``needle``,
        innermost first; exact matches before partial ones; then top to bottom. With
        ``shown_only=False`` hidden widgets and hidden texts count too (to explain a miss)."""
        def texts(s: Seen) -> list[str]:
            return s.texts_inside if shown_only else s.all_texts_inside
        matches = [s for s in self.seen if s.actionable and any(contains(t, needle) for t in texts(s))]
        nested = {id(s.actionable_parent) for s in matches if s.actionable_parent is not None}
        innermost = [s for s in matches if id(s) not in nested]
        exact = normalised(needle)

        def order(s: Seen):
            return (0 if any(normalised(t) == exact for t in texts(s)) else 1,) + s.reading_key()
        return sorted(innermost, key=order)
