"""The base of every kiosk screen: a name, a title, and whether it shows "返回首页"."""
from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen


class KioskScreen(Screen):
    title_key = StringProperty("")
    #: False only on the home screen itself
    shows_home_button = BooleanProperty(True)

    def on_language(self) -> None:
        """Called after the language changed; kv bindings re-render most text already."""
