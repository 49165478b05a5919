"""The home screen: a welcome and one large tile per service the kiosk offers."""
from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty

from screens.base import KioskScreen
from screens.registry import HOME_TILES
from screens.widgets import Tile


class HomeScreen(KioskScreen):
    shows_home_button = BooleanProperty(False)

    def on_kv_post(self, base_widget):
        self.build_tiles()
        App.get_running_app().bind(tr=lambda *_: self.refresh_tiles())

    def build_tiles(self) -> None:
        grid = self.ids.tiles
        grid.clear_widgets()
        for spec in HOME_TILES:
            tile = Tile(screen=spec.screen, widget_id=f"home.{spec.screen}")
            tile.spec = spec
            tile.bind(on_release=self.open_tile)
            grid.add_widget(tile)
        self.refresh_tiles()

    def refresh_tiles(self) -> None:
        app = App.get_running_app()
        for tile in self.ids.tiles.children:
            spec = tile.spec
            tile.title = app.tr(spec.title_key)
            tile.subtitle = app.tr(spec.subtitle_key)
            missing = [need for need in spec.needs if not app.kiosk.status.is_available(need)]
            tile.disabled = bool(missing)
            tile.disabled_reason = app.tr("home.unavailable") if missing else ""

    def open_tile(self, tile: Tile) -> None:
        App.get_running_app().go(tile.screen)
