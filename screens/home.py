"""The home screen: a welcome, the sign-in card, and one large tile per journey the kiosk offers.

The sign-in card (``home.identify``) invites the resident to place their ID card or show an
identity code, and greets them by their masked name once they have. A tile whose journey
cannot run now (``kiosk.flows.availability``) is disabled and says why.
"""
from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty, StringProperty

from kiosk.flows.availability import journey_state
from screens.base import KioskScreen
from screens.registry import HOME_TILES
from screens.ui_thread import kivy_deliver
from screens.widgets import Tile


class HomeScreen(KioskScreen):
    shows_home_button = BooleanProperty(False)
    identify_title = StringProperty("")
    identify_sub = StringProperty("")
    identify_reason = StringProperty("")  # why identification is unavailable, when it is

    def on_kv_post(self, base_widget):
        app = App.get_running_app()
        self.build_tiles()
        app.bind(tr=lambda *_: self.refresh(), signed_in=lambda *_: self.refresh(),
                 elderly=lambda *_: self.refresh())
        self._subscription = None

    def on_pre_enter(self, *_args) -> None:
        app = App.get_running_app()
        self._subscription = app.kiosk.status.subscribe(lambda _item: kivy_deliver(self.refresh))
        # results now waiting in this locker (the backend's heartbeat answer) show on the pickup tile
        self._waiting = app.kiosk.subscribe_pickups_waiting(lambda _n: kivy_deliver(self.refresh))
        self.refresh()

    def on_leave(self, *_args) -> None:
        if self._subscription is not None:
            self._subscription.cancel()
            self._subscription = None
        if getattr(self, "_waiting", None) is not None:
            self._waiting.cancel()
            self._waiting = None

    def build_tiles(self) -> None:
        grid = self.ids.tiles
        grid.clear_widgets()
        for spec in HOME_TILES:
            # the tile's id names the journey: home.pickup opens the screen pickup.list
            tile = Tile(screen=spec.screen, widget_id=f"home.{spec.screen.split('.', 1)[0]}")
            tile.spec = spec
            tile.bind(on_release=self.open_tile, content_height=lambda *_: self._even_tiles())
            grid.add_widget(tile)
        self.refresh()

    def _even_tiles(self) -> None:
        """Tiles two to a row line up: each is as tall as the tallest one needs."""
        tiles = list(self.ids.tiles.children)
        tallest = max((tile.content_height for tile in tiles), default=0)
        for tile in tiles:
            tile.even_height = tallest

    def refresh(self) -> None:
        app = App.get_running_app()
        if app is None:
            return
        kiosk = app.kiosk
        for tile in self.ids.tiles.children:
            spec = tile.spec
            state = journey_state(spec.screen, kiosk.status)
            # 长辈模式: titles only (each on one line), so that every service is in view without scrolling
            tile.compact = app.elderly
            tile.title = app.tr(spec.short_title_key if app.elderly and spec.short_title_key else spec.title_key)
            tile.subtitle = "" if app.elderly else app.tr(spec.subtitle_key)
            waiting = kiosk.pickups_waiting() if spec.screen == "pickup.list" else None
            if waiting:  # the last heartbeat said results wait in this locker
                tile.subtitle = app.tr("home.tile.pickup_waiting", n=waiting)
            tile.disabled = not state.available
            tile.disabled_reason = app.tr(state.reason) if not state.available else ""
        session = kiosk.session
        if session.signed_in:
            banner = session.signed_in_banner()
            values = banner[1]
            self.identify_title = app.tr("home.signed_in_title", name=values["name"])
            self.identify_sub = (app.tr("home.signed_in_agent_sub", agent=values["agent"]) if "agent" in values
                                 else app.tr("home.signed_in_sub"))
            self.identify_reason = ""
        else:
            state = journey_state("identify", kiosk.status)
            self.identify_title = app.tr("home.identify_title")
            self.identify_sub = app.tr("home.identify_sub")
            self.identify_reason = "" if state.available else app.tr(state.reason)

    def open_tile(self, tile: Tile) -> None:
        app = App.get_running_app()
        target = tile.spec.opens or tile.screen
        app.go(target)
        screen = app.screens.get_screen(target)
        if hasattr(screen, "open_for"):
            screen.open_for(tile.screen)

    def open_identify(self) -> None:
        app = App.get_running_app()
        if not app.signed_in:
            app.go("identify")
