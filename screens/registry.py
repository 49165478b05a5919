"""Which screens exist and which services the home screen offers.

A screen is registered by name with the module and class that build it; a home tile
names a screen (which is also the journey's name in ``kiosk.flows.availability``, where
what it needs is decided) and its title/subtitle translation keys. Only screens that are
really built are listed here. The names are part of the testers' scenario contract
(docs/scenarios.md): renaming one is a breaking change.
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
    screen: str  # the journey (and the tile's id: home.<screen>)
    title_key: str
    subtitle_key: str
    #: the screen the tile opens when it is not the journey's own (``home.apply`` opens ``search``);
    #: that screen's ``open_for(journey)`` is told which journey it serves
    opens: str = ""
    #: the title in 长辈模式, where tiles show their titles only and each must fit one line
    short_title_key: str = ""


SCREENS: dict[str, ScreenEntry] = {
    entry.name: entry
    for entry in (
        ScreenEntry("home", "screens.home", "HomeScreen"),
        ScreenEntry("help", "screens.help", "HelpScreen"),
        ScreenEntry("search", "screens.search", "SearchScreen"),
        ScreenEntry("guide", "screens.search", "GuideScreen"),
        ScreenEntry("identify", "screens.identify", "IdentifyScreen"),
        ScreenEntry("agent", "screens.agent", "AgentScreen"),
        # -- issue 11: applying at the kiosk --
        ScreenEntry("apply.form", "screens.apply", "ApplyFormScreen"),
        ScreenEntry("apply.materials", "screens.apply", "ApplyMaterialsScreen"),
        ScreenEntry("apply.consent", "screens.apply", "ApplyConsentScreen"),
        ScreenEntry("apply.delivery", "screens.apply", "ApplyDeliveryScreen"),
        ScreenEntry("apply.review", "screens.apply", "ApplyReviewScreen"),
        ScreenEntry("apply.done", "screens.apply", "ApplyDoneScreen"),
        # following, collecting and rating (issue 12)
        ScreenEntry("follow.list", "screens.follow", "FollowListScreen"),
        ScreenEntry("follow.case", "screens.follow", "FollowCaseScreen"),
        ScreenEntry("pickup.list", "screens.pickup", "PickupListScreen"),
        ScreenEntry("pickup.open", "screens.pickup", "PickupOpenScreen"),
        ScreenEntry("pickup.done", "screens.pickup", "PickupDoneScreen"),
        ScreenEntry("rate", "screens.rating", "RatingScreen"),
        # -- technicians (issue 13): behind the hidden corner gesture and the PIN --
        ScreenEntry("tech_pin", "screens.technician", "TechPinScreen"),
        ScreenEntry("diag", "screens.technician", "DiagScreen"),
    )
}

# In the order the resident sees them (below the sign-in card, ``home.identify``).
HOME_TILES: tuple[HomeTile, ...] = (
    HomeTile("apply", "home.tile.apply", "home.tile.apply_sub", opens="search"),  # issue 11
    HomeTile("search", "home.tile.search", "home.tile.search_sub", short_title_key="home.tile.search_short"),
    HomeTile("follow.list", "home.tile.follow", "home.tile.follow_sub"),  # issue 12
    HomeTile("pickup.list", "home.tile.pickup", "home.tile.pickup_sub"),  # issue 12
    HomeTile("agent", "home.tile.agent", "home.tile.agent_sub"),
    HomeTile("rate", "home.tile.rate", "home.tile.rate_sub"),  # issue 12
    HomeTile("help", "home.tile.help", "home.tile.help_sub"),
)


def screen_class(name: str):
    entry = SCREENS[name]
    return getattr(importlib.import_module(entry.module), entry.cls)


def terminal_offers() -> frozenset[str]:
    """The resident services this build of the kiosk really has (guides only promise these): a
    service is offered when a screen has its name, or its name before a dot (``pickup.list``)."""
    journeys = {name.split(".", 1)[0] for name in SCREENS}
    return frozenset(name for name in ("apply", "pickup", "follow", "rate") if name in journeys)
