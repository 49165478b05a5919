"""Sizes and colours of the kiosk's visual style, in normal and elderly (长辈模式) mode.

All sizes are pixels for a 1080-px-wide portrait screen and scale with the screen's
shorter side, so a 1920×1080 landscape kiosk looks the same. No text is smaller than 32 px
and no touch target smaller than 90 × 90 px; elderly mode enlarges everything by
``ELDERLY_FACTOR`` (text ≥ 43 px, primary buttons ≥ 140 px high) and keeps the same strong
contrast. ``screens.accessibility`` measures this on the drawn screens.
"""
from __future__ import annotations

from dataclasses import dataclass


def rgba(hex_colour: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    hex_colour = hex_colour.lstrip("#")
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return (r, g, b, alpha)


ELDERLY_FACTOR = 1.35


@dataclass(frozen=True)
class Theme:
    elderly: bool
    scale: float
    # colours (contrast of text on its background ≥ 7:1 for body text)
    background = rgba("#EEF3F9")
    surface = rgba("#FFFFFF")
    text = rgba("#111827")
    text_muted = rgba("#374151")
    primary = rgba("#0B4EA2")
    primary_dark = rgba("#083A7A")
    primary_text = rgba("#FFFFFF")
    accent = rgba("#C8102E")
    ok = rgba("#1B7F3B")
    ok_dark = rgba("#14532D")
    bad_surface = rgba("#FEE2E2")
    bad_dark = rgba("#7F1D1D")
    warn = rgba("#B45309")
    bad = rgba("#B91C1C")
    unknown = rgba("#6B7280")
    overlay = rgba("#000000", 0.72)

    disabled_surface = rgba("#E5E7EB")
    disabled_text = rgba("#4B5563")

    def button_colours(self, kind: str, down: bool, disabled: bool):
        """(background, text, border) of a ``KioskButton`` of ``kind``; text contrast ≥ 4.5:1 in every case."""
        none = (0, 0, 0, 0)
        if disabled:
            return self.disabled_surface, self.disabled_text, none
        if kind == "secondary":
            return (rgba("#DBEAFE") if down else self.surface), self.primary, self.primary
        if kind == "signout":
            return (rgba("#FFFFFF", 0.30) if down else rgba("#FFFFFF", 0.16)), self.primary_text, self.primary_text
        if kind in ("call", "danger"):
            return (rgba("#8F0D24") if down else self.accent), self.primary_text, none
        return (self.primary_dark if down else self.primary), self.primary_text, none

    def px(self, value: float) -> float:
        return round(value * self.scale * (ELDERLY_FACTOR if self.elderly else 1.0))

    # type
    @property
    def font_title(self) -> float: return self.px(64)
    @property
    def font_heading(self) -> float: return self.px(44)
    @property
    def font_body(self) -> float: return self.px(32)
    @property
    def font_small(self) -> float:
        """Secondary text: set apart by colour and weight, never by a size below body text."""
        return self.px(32)
    @property
    def font_huge(self) -> float: return self.px(160)
    # touch targets and spacing
    @property
    def min_touch(self) -> float:
        """The smallest touch target: 90 px on a 1080-px-wide screen, more in elderly mode."""
        return self.px(90)
    @property
    def button_height(self) -> float: return max(60.0, self.px(104))
    @property
    def tile_height(self) -> float: return max(60.0, self.px(200))
    @property
    def bar_height(self) -> float: return max(60.0, self.px(120))
    @property
    def top_bar_height(self) -> float: return self.px(120)
    @property
    def padding(self) -> float: return self.px(32)
    @property
    def spacing(self) -> float: return self.px(24)
    @property
    def radius(self) -> float: return self.px(18)


def theme_for(width: int, height: int, elderly: bool) -> Theme:
    return Theme(elderly=elderly, scale=min(width, height) / 1080)
