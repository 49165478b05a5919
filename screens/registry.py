"""Which screens exist and which services the home screen offers.

A screen is registered by name with the module and class that build it; a home tile
names a screen, its title/subtitle translation keys and the components it needs (a tile
whose device or network is unavailable is shown disabled with the reason). Only screens
that are really built are listed here.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ScreenEntry:
    name: str
    module: str
    cls: str


@dataclass(frozen=True)
class HomeTile:
    screen: str
    title_key: str
    subtitle_key: str
    needs: tuple[str, ...] = ()


SCREENS: dict[str, ScreenEntry] = {
    entry.name: entry
    for entry in (
        ScreenEntry("home", "screens.home", "HomeScreen"),
        ScreenEntry("help", "screens.help", "HelpScreen"),
        ScreenEntry("search", "screens.search", "SearchScreen"),
        ScreenEntry("guide", "screens.search", "GuideScreen"),
    )
}

# In the order the resident sees them; the last one spans the full width.
HOME_TILES: tuple[HomeTile, ...] = (
    HomeTile("search", "home.tile.search", "home.tile.search_sub"),
    HomeTile("help", "home.tile.help", "home.tile.help_sub"),
)


def screen_class(name: str):
    entry = SCREENS[name]
    return getattr(importlib.import_module(entry.module), entry.cls)


def terminal_offers() -> frozenset[str]:
    """The resident services this build of the kiosk really has (guides only promise these)."""
    return frozenset(name for name in ("apply", "pickup", "follow", "rate") if name in SCREENS)
