"""Reusable kiosk widgets: buttons, tiles, the top and bottom bars, toasts, the idle countdown."""
from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.widget import Widget


class KioskLabel(Label):
    """A label that wraps to its width and grows to its text's height."""


class KioskButton(Button):
    #: "primary", "secondary", "toggle_on", "danger" (a red action), "call" (呼叫工作人员),
    #: "signout" (退出 on the dark top bar): colours in ``Theme.button_colours``
    kind = StringProperty("primary")
    widget_id = StringProperty("")  # the scenario contract's name, e.g. "nav.home"


class Tile(ButtonBehavior, BoxLayout):
    """A large home-screen service tile with a title and a one-line explanation."""

    title = StringProperty("")
    subtitle = StringProperty("")
    screen = StringProperty("")
    disabled_reason = StringProperty("")
    widget_id = StringProperty("")  # the scenario contract's name, e.g. "home.search"
    content_height = NumericProperty(0)  # what its title and subtitle need
    compact = BooleanProperty(False)  # title only, shorter (长辈模式 on the home screen: every tile in view)
    even_height = NumericProperty(0)  # the tallest tile's need, so that tiles side by side line up


class CardIcon(Widget):
    """A drawn ID card (photo and text lines); a green tick over it once ``tick`` is set."""

    tick = BooleanProperty(False)


class CodeIcon(Widget):
    """A drawn phone showing a QR code."""


class StatusPill(BoxLayout):
    text = StringProperty("")
    dot_colour = ListProperty([0.5, 0.5, 0.5, 1])


class TopBar(BoxLayout):
    pass


class BottomBar(BoxLayout):
    """返回首页 (not on the home screen itself), 长辈模式 and 中文/English."""

    def on_kv_post(self, base_widget):
        self._home_button = self.ids.home_button.__self__  # ids are weak; keep it while detached
        app = App.get_running_app()
        app.bind(show_home_button=self._show_home_button)
        self._show_home_button(app, app.show_home_button)

    def _show_home_button(self, _app, show: bool) -> None:
        button = self._home_button
        if show and button.parent is None:
            self.add_widget(button, index=len(self.children))
        elif not show and button.parent is self:
            self.remove_widget(button)


class Toast(Label):
    """A short message over the top of the screen ("已通知工作人员…"); it never takes a touch."""

    kind = StringProperty("ok")  # "ok" | "bad"
    shown = BooleanProperty(False)

    def show(self, text: str, kind: str = "ok") -> None:
        self.text, self.kind, self.shown = text, kind, True

    def hide(self) -> None:
        self.shown = False
        self.text = ""


class IdleOverlay(ModalView):
    """"长时间无操作，即将返回首页" with a countdown; any touch keeps the session."""

    remaining = NumericProperty(0)

    def on_touch_down(self, touch):
        app = App.get_running_app()
        if app is not None:
            app.keep_session_alive()
        return True


class CornerSpot(Widget):
    """The technicians' hidden corner (``tech.corner``): draws nothing and takes no touch away
    from what lies below; the app counts the taps in its area (``KioskApp._on_corner_touch``).
    It has an id so that testers' scenarios can tap it."""

    widget_id = StringProperty("tech.corner")
