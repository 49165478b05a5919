"""The Kivy application: the shell every screen plugs into.

It shows core state and forwards the resident's actions to the core; it holds no
personal data itself. The shell is: a top bar (terminal, time, network and device
lights), the current screen, and a bottom bar ("返回首页", 长辈模式, 中文/English). It also
keeps the kiosk locked down (Esc, F1, Alt+F4 and window close do nothing; no cursor) and
runs the inactivity countdown.
"""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Callable

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import (BooleanProperty, ListProperty, ObjectProperty,
                             StringProperty)
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from drivers.events import Subscription
from kiosk.memory_release import release_free_memory
from kiosk.runtime import Kiosk
from kiosk.status import Availability
from kiosk.tasks import TaskRunner
from screens import kivy_fixes
from screens.bindings import set_app_wide
from screens.keyboard import KeyboardDock  # noqa: F401  (the root layout's kv uses it)
from screens.registry import SCREENS, screen_class
from screens.theme import Theme, theme_for
from screens.ui_thread import kivy_deliver
from screens.widgets import BottomBar, IdleOverlay, Toast, TopBar  # noqa: F401  (kv uses Toast)

log = logging.getLogger(__name__)
kivy_fixes.apply()

KV_DIR = Path(__file__).resolve().parent
KEY_ESCAPE, KEY_F1, KEY_F4 = 27, 282, 285


class KioskRoot(FloatLayout):
    """The shell's frame (top bar, screens, keyboard, bottom bar) with the toast above it."""


class KioskApp(App):
    tr = ObjectProperty(None)  # replaced on a language change so that kv bindings re-render
    theme = ObjectProperty(None, rebind=True)  # kv reads app.theme.<size>: rebind on change
    lang = StringProperty("zh")
    elderly = BooleanProperty(False)
    show_home_button = BooleanProperty(False)
    clock_text = StringProperty("")
    terminal_name = StringProperty("")
    service_phone = StringProperty("")
    opening_hours = StringProperty("")
    idle_minutes_text = StringProperty("")
    network_text = StringProperty("")
    network_colour = ListProperty([0.5, 0.5, 0.5, 1])
    devices_text = StringProperty("")
    devices_colour = ListProperty([0.5, 0.5, 0.5, 1])
    signed_in = BooleanProperty(False)
    banner_text = StringProperty("")  # "欧**娜，您好" / "代办：王* 为 欧**娜 办理"
    staff_called = BooleanProperty(False)
    #: seconds after a session's end before memory is given back (the home screen is drawn by
    #: then); the soak, whose next "resident" comes at once, shortens it
    memory_release_delay = 2.0

    def __init__(self, kiosk: Kiosk, **kwargs):
        self.kiosk = kiosk
        settings = kiosk.settings
        self.window_size = (settings.display.width, settings.display.height)
        super().__init__(**kwargs)
        self.title = "Heyiban 河易办"  # xdotool and window lists match the ASCII part
        self.use_kivy_settings = False
        self.tasks = TaskRunner(kivy_deliver)
        self.lang = kiosk.translator.language
        self.elderly = settings.display.elderly_mode
        self.terminal_name = settings.terminal.name
        self.service_phone = settings.terminal.service_phone
        self.opening_hours = settings.terminal.opening_hours
        self.theme = theme_for(*self.window_size, self.elderly)
        self.tr = self._make_tr()
        self.overlay: IdleOverlay | None = None
        self.screens: ScreenManager | None = None
        self._events = []
        self._release_event = None  # the memory release after a resident left (cancelled at stop)
        self._subscriptions: list[Subscription] = []
        self._toast_event = None
        self.after_first_frame: list[Callable[[], None]] = []
        # -- technicians (issue 13) --
        self.technician_flow = None
        technician = settings.technician
        from kiosk.technician.corner import CornerTaps

        self.corner_taps = CornerTaps(technician.corner, technician.corner_size, technician.taps,
                                      technician.tap_seconds)
        # -- testers (issue 13): the simulator control panel, only when a device is simulated --
        self.sim_panel = None
        self._sim_keys = _sim_panel_keys(settings)

    # -- building ------------------------------------------------------------------------
    def build(self):
        for kv in ("widgets.kv", "keyboard.kv", "home.kv", "help.kv", "search.kv", "identify.kv", "agent.kv",
                   "technician.kv", "app.kv"):
            if str(KV_DIR / kv) not in Builder.files:
                Builder.load_file(str(KV_DIR / kv))
        root = KioskRoot()
        root.add_widget(self._corner_spot())
        self.screens = root.ids.screens
        self.screens.transition = NoTransition()
        self.screens.add_widget(screen_class("home")())
        self.screens.bind(current=self._on_screen_changed)
        self._update_texts()
        return root

    def on_start(self):
        Window.bind(on_request_close=self._refuse_close, on_keyboard=self._on_keyboard)
        Window.bind(on_touch_down=self._on_activity, on_key_down=self._on_activity)
        Window.bind(on_touch_down=self._on_corner_touch)
        Window.bind(on_touch_down=self._flight_touch_down, on_touch_up=self._flight_touch_up)
        Window.bind(on_keyboard=self._on_sim_keys)  # issue 13: the testers' simulator panel
        if self.kiosk.settings.display.hide_cursor:
            Window.show_cursor = False
        kiosk = self.kiosk
        self._subscriptions = [
            kiosk.session.subscribe(lambda event, reason: kivy_deliver(lambda: self._on_session(event, reason))),
            kiosk.status.subscribe(lambda item: kivy_deliver(self._update_status_lights)),
            kiosk.identify.subscribe(lambda flow: kivy_deliver(self._on_identify)),
            kiosk.staff_call.subscribe(lambda flow: kivy_deliver(self._on_staff_call)),
        ]
        self._events = [
            Clock.schedule_interval(lambda _dt: self._every_second(), 1.0),
            Clock.schedule_interval(lambda _dt: self._tick_idle(), 0.25),
        ]
        self._update_clock()
        self._update_status_lights()
        self._update_banner()
        self.tasks.submit(self.kiosk.warm_up)  # catalogue index, jieba, pinyin lexicon
        Clock.schedule_once(self._first_frame, 0)

    def _first_frame(self, _dt):
        # one more frame so that the home screen has really been drawn
        def run(_dt2):
            for callback in self.after_first_frame:
                callback()
        Clock.schedule_once(run, 0)

    def on_stop(self):
        # issue 13: the simulator panel and a technician's screen stop their clocks before the workers do
        if self.sim_panel is not None:
            self.sim_panel.hide()
        if self.screens is not None and self.screens.current in ("tech_pin", "diag"):
            self.screens.current_screen.dispatch("on_leave")
        for event in self._events:
            event.cancel()
        for subscription in self._subscriptions:
            subscription.cancel()
        if self._toast_event is not None:
            self._toast_event.cancel()
        if self._release_event is not None:  # a stopped kiosk releases nothing later
            self._release_event.cancel()
        self.tasks.shutdown()
        Window.unbind(on_request_close=self._refuse_close, on_keyboard=self._on_keyboard)
        Window.unbind(on_touch_down=self._on_activity, on_key_down=self._on_activity)
        Window.unbind(on_touch_down=self._on_corner_touch)
        Window.unbind(on_touch_down=self._flight_touch_down, on_touch_up=self._flight_touch_up)
        Window.unbind(on_keyboard=self._on_sim_keys)
        self.end_technician()
        self.kiosk.shutdown()

    # -- lockdown ------------------------------------------------------------------------
    def _refuse_close(self, *_args, **_kwargs):
        log.info("window close refused (kiosk lockdown)")
        return True

    def _on_keyboard(self, _window, key, _scancode, _codepoint, modifiers):
        if key == KEY_ESCAPE or key == KEY_F1 or (key == KEY_F4 and "alt" in modifiers):
            return True
        return False

    def open_settings(self, *_args):
        return False

    # -- navigation ----------------------------------------------------------------------
    def go(self, name: str) -> None:
        if name not in SCREENS:
            log.error("unknown screen", extra={"fields": {"screen": name}})
            return
        if name != "home":
            self.kiosk.session.start()
            self.kiosk.idle.poke()
        if not self.screens.has_screen(name):
            self.screens.add_widget(screen_class(name)())
        self.screens.current = name

    def go_home(self) -> None:
        self.kiosk.session.end("home")
        self._show_home()

    def _show_home(self) -> None:
        self._hide_overlay()
        self.screens.current = "home"

    def _on_screen_changed(self, _manager, name):
        if self.kiosk.flight is not None:
            self.kiosk.flight.screen(name)
        screen = self.screens.get_screen(name)
        self.show_home_button = bool(getattr(screen, "shows_home_button", True))

    def _on_session(self, event: str, reason: str) -> None:
        self._update_banner()
        if event == "ended" and self.root is not None:
            self.root.ids.toast.hide()  # the last resident's message is not for the next one
        if event == "ended" and not self.kiosk.session.active:
            # (a session already started again since the end was announced belongs to someone
            # who is using the kiosk right now: leave their screen and settings alone)
            # the next resident starts with the terminal's own defaults
            display = self.kiosk.settings.display
            self.set_language(display.language)
            self.set_elderly(display.elderly_mode)
            if self.screens is not None and self.screens.current != "home":
                self._show_home()
            # once the home screen has replaced the session's
            if self._release_event is not None:
                self._release_event.cancel()
            self._release_event = Clock.schedule_once(self._release_memory, self.memory_release_delay)

    def _release_memory(self, _dt: float) -> None:
        if not self.kiosk.session.active:  # between residents: nobody waits for the ~50 ms
            release_free_memory()

    # -- signing in, 退出, staff call, toasts ----------------------------------------------
    def sign_out(self) -> None:
        """退出: ends the session (both the resident and, in 代办, the grid worker) and goes home."""
        self.kiosk.session.end("sign_out")
        self._show_home()

    def _update_banner(self) -> None:
        banner = self.kiosk.session.signed_in_banner()
        self.signed_in = banner is not None
        self.banner_text = self.tr(banner[0], **banner[1]) if banner else ""

    def _on_identify(self) -> None:
        """A sign-in problem outside the identify screen (a card placed on the home screen) is toasted."""
        flow = self.kiosk.identify
        if flow.problem and self.screens is not None and self.screens.current != "identify":
            self.show_toast(self.tr(flow.problem, **flow.problem_values), kind="bad")

    def call_staff(self) -> None:
        current = self.screens.current if self.screens is not None else "home"
        self.kiosk.staff_call.call(current)

    def _on_staff_call(self) -> None:
        flow = self.kiosk.staff_call
        self.staff_called = flow.state in ("calling", "called", "queued")
        if flow.problem:
            self.show_toast(self.tr(flow.problem), kind="ok" if flow.state == "called" else "bad", seconds=8)

    def show_toast(self, text: str, kind: str = "ok", seconds: float = 6.0) -> None:
        if self.root is None:
            return
        toast = self.root.ids.toast.__self__  # ids are weak references
        toast.show(text, kind)
        if self._toast_event is not None:
            self._toast_event.cancel()
        self._toast_event = Clock.schedule_once(lambda _dt: toast.hide(), seconds)

    def _every_second(self) -> None:
        self._update_clock()
        self.kiosk.staff_call.refresh()

    # -- language and elderly mode -------------------------------------------------------
    def _make_tr(self):
        translate = self.kiosk.translator.tr

        def tr(key: str, **values) -> str:
            return translate(key, **values)
        return tr

    def set_language(self, language: str) -> None:
        if language == self.kiosk.translator.language and language == self.lang:
            return
        self.kiosk.translator.set_language(language)
        self.lang = language
        set_app_wide(self, "tr", self._make_tr())
        self._update_texts()

    def toggle_language(self) -> None:
        self.set_language("en" if self.lang == "zh" else "zh")

    def set_elderly(self, on: bool) -> None:
        if on != self.elderly:
            self.elderly = on
            set_app_wide(self, "theme", theme_for(*self.window_size, on))

    def toggle_elderly(self) -> None:
        self.set_elderly(not self.elderly)

    # -- top bar ---------------------------------------------------------------------------
    def _update_texts(self) -> None:
        self._update_clock()
        self._update_status_lights()
        self._update_banner()
        seconds = self.kiosk.settings.session.idle_seconds
        if seconds % 60 == 0:
            self.idle_minutes_text = self.tr("help.minutes", n=seconds // 60)
        else:
            self.idle_minutes_text = self.tr("help.seconds", n=seconds)

    def _update_clock(self) -> None:
        now = dt.datetime.now()
        weekdays = self.tr("clock.weekdays").split(",")
        months = self.tr("clock.months").split(",")
        self.clock_text = self.tr("clock.format", month=now.month, day=now.day, weekday=weekdays[now.weekday()],
                                  month_name=months[now.month - 1], hour=now.hour, minute=now.minute)

    def _update_status_lights(self) -> None:
        theme: Theme = self.theme
        network = self.kiosk.status.get("network")
        if network.available is True:
            self.network_text, self.network_colour = self.tr("status.network_ok"), list(theme.ok)
        elif network.available is False:
            self.network_text, self.network_colour = self.tr(network.reason or "status.network_unreachable"), \
                list(theme.bad)
        else:
            self.network_text, self.network_colour = self.tr(network.reason or "status.network_not_configured"), \
                list(theme.unknown)
        devices = self.kiosk.status.devices()
        down = [d for d in devices if d.available is False]
        if not devices:
            self.devices_text, self.devices_colour = self.tr("status.devices_none"), list(theme.unknown)
        elif down:
            self.devices_text, self.devices_colour = self.tr("status.devices_some_down", n=len(down)), list(theme.bad)
        else:
            self.devices_text, self.devices_colour = self.tr("status.devices_ok"), list(theme.ok)

    # -- technicians (issue 13): the hidden entry -------------------------------------------
    def _corner_spot(self):
        from screens.widgets import CornerSpot

        corner, size = self.corner_taps.corner, self.corner_taps.size
        vertical, horizontal = corner.split("_")
        hint = {("top" if vertical == "top" else "y"): 1 if vertical == "top" else 0,
                ("x" if horizontal == "left" else "right"): 0 if horizontal == "left" else 1}
        return CornerSpot(size_hint=(None, None), size=(size * 0.8, size * 0.8), pos_hint=hint)

    def _on_corner_touch(self, window, touch):
        if self.corner_taps.touch(touch.x, touch.y, window.width, window.height):
            Clock.schedule_once(lambda _dt: self.open_technician(), 0)
        return False

    def open_technician(self) -> None:
        """The hidden gesture: end whatever a resident was doing, then the PIN pad."""
        if self.screens is None or self.screens.current in ("tech_pin", "diag"):
            return
        self.kiosk.session.end("technician")
        self.end_technician()
        self.technician_flow = self.kiosk.new_technician_flow()
        self.go("tech_pin")

    def end_technician(self) -> None:
        flow, self.technician_flow = self.technician_flow, None
        if flow is not None:
            flow.end()

    # -- the flight recorder (issue 13): taps on named widgets ----------------------------------
    def _widget_id_at(self, x: float, y: float) -> str:
        found = ""
        for top in reversed(Window.children):  # the window's last child is drawn first
            for widget in top.walk(restrict=True):
                widget_id = getattr(widget, "widget_id", "")
                if not widget_id or widget.disabled or widget.opacity == 0 or not widget.width:
                    continue
                if widget.collide_point(*widget.to_widget(x, y)):
                    found = widget_id
        return found

    def _flight_touch_down(self, _window, touch):
        if self.kiosk.flight is not None:
            touch.ud["flight_widget"] = self._widget_id_at(touch.x, touch.y)
        return False

    def _flight_touch_up(self, _window, touch):
        flight = self.kiosk.flight
        widget_id = touch.ud.get("flight_widget", "") if flight is not None else ""
        if widget_id.startswith("sim."):  # the simulator panel: its request is recorded as `sim:` instead
            return False
        if widget_id and widget_id == self._widget_id_at(touch.x, touch.y):
            from screens.keyboard import KeyboardDock

            dock = KeyboardDock.find()
            target = dock.keyboard.target if dock is not None and dock.shown else None
            flight.tap(widget_id, getattr(target, "widget_id", "") if target is not None else "")
        return False

    # -- testers (issue 13): the simulator control panel ----------------------------------------
    def _on_sim_keys(self, _window, key, _scancode, _codepoint, modifiers):
        if self._sim_keys is not None and self._sim_keys.matches(key, modifiers):
            self.toggle_sim_panel()
            return True
        return False

    def toggle_sim_panel(self) -> bool:
        """Show or hide the simulator panel; False (and nothing shown) when no device is simulated."""
        if self._sim_keys is None:
            return False
        if self.sim_panel is None:
            from kiosk.commands.sim_panel import Pictures, SimPanel, load_payloads
            from screens.sim_panel import SimPanelOverlay

            technician = self.kiosk.settings.technician
            try:
                payloads = load_payloads(technician.sim_payloads or None)
            except (OSError, ValueError) as exc:
                log.error("simulator panel: payloads file not read", extra={"fields": {"error": str(exc)[:200]}})
                payloads = []
            model = SimPanel(self._sim_call, payloads=payloads, pictures=Pictures(technician.sim_pictures or None))
            self.sim_panel = SimPanelOverlay(model)
        if self.sim_panel.shown:
            self.sim_panel.hide()
        else:
            self.sim_panel.show()
        return True

    def _sim_call(self, call):
        """One request to this kiosk's simulators, over its control socket, as ``kiosk sim`` sends it."""
        from drivers.sim.control import SimControlError
        from kiosk.commands.sim import call_simulator

        devices = self.kiosk.devices
        control = getattr(devices, "control", None) if devices is not None else None
        if control is None:
            raise SimControlError("the simulators are not started yet")
        return call_simulator(call, control.path, timeout=5.0)

    # -- inactivity ------------------------------------------------------------------------
    def _on_activity(self, *_args):
        self.kiosk.idle.poke()
        return False

    def keep_session_alive(self) -> None:
        self.kiosk.idle.poke()
        self._hide_overlay()

    def _tick_idle(self) -> None:
        state = self.kiosk.idle.tick()
        if state.phase == "warning":
            self._show_overlay(state.remaining)
        elif state.phase == "expired":
            self._show_home()
        elif self.overlay is not None:
            self._hide_overlay()

    def start_countdown(self) -> None:
        """Skip to the start of the inactivity countdown (``kiosk shot --countdown``, testers)."""
        self.kiosk.session.start()
        self.kiosk.idle.backdate(self.kiosk.settings.session.idle_seconds)
        self._tick_idle()

    def _show_overlay(self, remaining: int) -> None:
        if self.overlay is None:
            self.overlay = IdleOverlay()
            self.overlay.open(animation=False)
        self.overlay.remaining = remaining

    def _hide_overlay(self) -> None:
        if self.overlay is not None:
            self.overlay.dismiss(animation=False)
            self.overlay = None


def _sim_panel_keys(settings):
    """The panel's key combination (issue 13); None when no device is simulated (no panel)."""
    from kiosk.commands.sim_panel import simulated_devices
    from kiosk.technician.keys import parse_keys

    if not simulated_devices(settings):
        return None
    try:
        return parse_keys(settings.technician.sim_panel_keys)
    except ValueError as exc:
        log.error("simulator panel keys not understood", extra={"fields": {"error": str(exc)}})
        return None


__all__ = ["KioskApp", "KioskRoot", "TopBar", "BottomBar", "Availability"]
