"""The testers' simulator control panel: an overlay over the lower (or upper) part of the window.

It exists only when a device is simulated and is toggled by ``[technician] sim_panel_keys``
(``KioskApp.toggle_sim_panel``). It draws ``kiosk.commands.sim_panel.SimPanel``: a tab per
running simulator (``sim.device.<name>``), the chosen simulator's state, and its buttons in
sections, each button saying the ``kiosk sim`` words it sends. Presses and state reads go over
the kiosk's simulator control socket on a worker thread, exactly as ``kiosk sim`` does; the
answer (or the simulator's refusal) shows on the panel. Touches outside the panel reach the
screen below, so a tester sees what a resident would while faults come and go.
"""
from __future__ import annotations

import logging
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from drivers.sim.interface import COMMON_VERBS
from screens.widgets import KioskButton, KioskLabel

log = logging.getLogger(__name__)

KV = Path(__file__).resolve().parent / "sim_panel.kv"
#: state keys worth a word on the state line, besides plugged in and faults
SUMMARY_KEYS = ("card", "waiting", "paper", "cover", "mode", "scene", "picture")
REFRESH_SECONDS = 1.0
#: the section that holds the faults, and the lone verbs (clear, unplug, replug) with them
FAULTS_SECTION = ("fault",)


def _load_kv() -> None:
    if str(KV) not in Builder.files:
        Builder.load_file(str(KV))


class SimPanelOverlay(BoxLayout):
    widget_id = StringProperty("sim.panel")
    #: what lies under the panel cannot be read (``screens.accessibility`` skips it)
    covers_below = True
    window_width = NumericProperty(1080)
    window_height = NumericProperty(1920)
    docked_bottom = BooleanProperty(True)
    state_text = StringProperty("")
    result_text = StringProperty("")
    result_bad = BooleanProperty(False)
    selected = StringProperty("")
    section = ObjectProperty((), allownone=True)

    def __init__(self, model, **kwargs):
        _load_kv()
        super().__init__(**kwargs)
        self.model = model
        self._drawn: tuple = ()
        self._event = None
        self._busy = False
        self._presses = 0  # numbers each press, so that a late answer cannot overwrite a newer one

    # -- showing ---------------------------------------------------------------------------------
    def show(self) -> None:
        self.window_width, self.window_height = Window.width, Window.height
        self._place()
        if self.parent is None:
            Window.add_widget(self)
        self.refresh()
        self._event = Clock.schedule_interval(lambda _dt: self.refresh(), REFRESH_SECONDS)

    def hide(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        if self.parent is not None:
            self.parent.remove_widget(self)

    @property
    def shown(self) -> bool:
        return self.parent is not None

    def toggle_dock(self) -> None:
        self.docked_bottom = not self.docked_bottom
        self._place()

    def _place(self) -> None:
        self.x = 0
        self.y = 0 if self.docked_bottom else self.window_height - self.height

    def on_height(self, *_args) -> None:
        self._place()

    # -- touches: the panel keeps its own, the screen below gets the rest ----------------------------------
    def on_touch_down(self, touch):
        if not self.collide_point(*touch.pos):
            return False
        super().on_touch_down(touch)
        return True

    def on_touch_move(self, touch):
        if not self.collide_point(*touch.pos) and touch.grab_current is not self:
            return False
        super().on_touch_move(touch)
        return True

    def on_touch_up(self, touch):
        if not self.collide_point(*touch.pos):
            return super().on_touch_up(touch)
        super().on_touch_up(touch)
        return True

    # -- talking to the simulators (on a worker) -------------------------------------------------------
    def refresh(self) -> None:
        app = App.get_running_app()
        if self._busy or app is None:
            return
        self._busy = True
        try:
            app.tasks.submit(self.model.refresh, on_done=self._refreshed, on_error=self._refresh_failed)
        except RuntimeError:  # the app is stopping: its workers take nothing more
            self._busy = False

    def _refreshed(self, _states) -> None:
        self._busy = False
        if self.selected not in self.model.devices:
            self.selected = self.model.devices[0] if self.model.devices else ""
        self.draw()

    def _refresh_failed(self, error: BaseException) -> None:
        self._busy = False
        self.state_text = App.get_running_app().tr("sim.not_ready")
        log.info("simulator panel cannot read the simulators", extra={"fields": {"error": str(error)[:200]}})

    def press(self, entry) -> None:
        app = App.get_running_app()
        self._presses += 1
        press = self._presses
        self.result_text, self.result_bad = app.tr("sim.sending", words=entry.text), False
        try:
            app.tasks.submit(self.model.press, entry, on_done=lambda _answer: self._pressed(entry, press),
                             on_error=lambda error: self._refused(entry, error, press))
        except RuntimeError:  # the app is stopping
            pass

    # Answers may come back out of order (each press runs on its own worker): the result line
    # says what became of the latest press, never of an earlier one that answered late.
    def _pressed(self, entry, press: int) -> None:
        if press == self._presses:
            self.result_text, self.result_bad = App.get_running_app().tr("sim.done", words=entry.text), False
        self.draw()
        self.refresh()

    def _refused(self, entry, error: BaseException, press: int) -> None:
        if press == self._presses:
            app = App.get_running_app()
            self.result_text, self.result_bad = app.tr("sim.refused", words=entry.text, error=str(error)[:120]), True
        self.refresh()

    def select(self, device: str) -> None:
        self.selected = device
        self.section = ()
        self.draw()

    def move_door(self, step: int) -> None:
        self.model.move_door(step, self.selected)
        self.draw()

    # -- drawing -----------------------------------------------------------------------------------------
    def _known(self, key: str) -> bool:
        return key in App.get_running_app().kiosk.translator.strings

    def _readable(self, key: str, fallback: str) -> str:
        return App.get_running_app().tr(key) if self._known(key) else fallback

    def _two_lines(self, key: str, word: str) -> str:
        """The translation (when there is one) above the word a tester types after ``kiosk sim``."""
        return f"{App.get_running_app().tr(key)}\n{word}" if self._known(key) else word

    def _label(self, entry) -> str:
        value = entry.value
        if value is not None:
            if entry.section == ("fault",):
                return self._two_lines(f"sim.fault.{value.key}", value.key)
            return value.label
        words = list(entry.choices) or list(entry.section[-1:])
        return self._two_lines(f"sim.word.{'.'.join(words)}", " ".join(words))

    def _sections(self, entries) -> dict[tuple[str, ...], list]:
        """The chosen simulator's buttons by section; the common verbs without a fault (clear,
        unplug, replug) open the faults' section, so that plugging and faults are one page."""
        lone = [e for e in entries if e.call.action in COMMON_VERBS and e.call.action != "fault"]
        sections: dict[tuple[str, ...], list] = {FAULTS_SECTION: list(lone)} if lone else {}
        for entry in entries:
            if entry not in lone:
                sections.setdefault(entry.section, []).append(entry)
        return sections

    def draw(self) -> None:
        app = App.get_running_app()
        model = self.model
        entries = model.entries(self.selected) if self.selected else []
        sections = self._sections(entries)
        if self.section not in sections:
            self.section = next(iter(sections), ())
        state = model.reported.states.get(self.selected, {})
        self.state_text = self._state_line(state) if self.selected else app.tr("sim.not_ready")
        door = (state.get("doors") or {}).get(str(model.reported.door)) if isinstance(state.get("doors"), dict) else None
        signature = (app.lang, app.elderly, self.selected, self.section, tuple(model.devices), model.reported.door, repr(door),
                     tuple((e.widget_id, self._label(e), e.active) for e in entries))
        if signature == self._drawn:
            return
        self._drawn = signature
        tabs = self.ids.tabs
        tabs.clear_widgets()
        for name in model.devices:
            kind = model.reported.states[name].get("kind", name)
            button = KioskButton(text=self._readable(f"sim.device.{kind}", name), widget_id=f"sim.device.{name}",
                                 kind="primary" if name == self.selected else "secondary")
            button.bind(on_release=lambda _b, n=name: self.select(n))
            tabs.add_widget(button)
        chooser = self.ids.chooser
        chooser.clear_widgets()
        for section in sections:
            words = ".".join(section)
            button = KioskButton(text=self._readable(f"sim.section.{words}", " ".join(section)),
                                 widget_id=f"sim.section.{words}",
                                 kind="primary" if section == self.section else "secondary")
            button.bind(on_release=lambda _b, chosen=section: self.choose(chosen))
            chooser.add_widget(button)
        holder = self.ids.sections
        holder.clear_widgets()
        members = sections.get(self.section, [])
        if "door" in self.section and model.uses(self.selected, "door"):
            holder.add_widget(self._door_row())
        if members:
            holder.add_widget(self._grid(members))
        self.ids.scroller.scroll_y = 1

    def choose(self, section: tuple[str, ...]) -> None:
        self.section = section
        self.draw()

    def _grid(self, entries) -> GridLayout:
        app = App.get_running_app()
        grid = GridLayout(cols=2 if app.elderly else 3, size_hint_y=None, spacing=app.theme.px(10))
        grid.bind(minimum_height=grid.setter("height"))
        for entry in entries:
            button = KioskButton(text=self._label(entry), widget_id=entry.widget_id,
                                 kind="toggle_on" if entry.active else "secondary")
            button.bind(on_release=lambda _b, e=entry: self.press(e))
            grid.add_widget(button)
        return grid

    def _door_row(self) -> BoxLayout:
        app = App.get_running_app()
        row = BoxLayout(size_hint_y=None, height=app.theme.button_height, spacing=app.theme.px(10))
        back = KioskButton(text="‹", widget_id="sim.door.prev", kind="secondary")
        back.bind(on_release=lambda _b: self.move_door(-1))
        ahead = KioskButton(text="›", widget_id="sim.door.next", kind="secondary")
        ahead.bind(on_release=lambda _b: self.move_door(1))
        row.add_widget(back)
        door = self.model.reported.door
        text = app.tr("sim.door", n=door)
        bits = (self.model.reported.states.get(self.selected, {}).get("doors") or {}).get(str(door))
        if isinstance(bits, dict):  # what the simulator says of this door, e.g. closed ✓ item ×
            text += "\n" + " ".join(f"{name} {'✓' if on else '×'}" for name, on in bits.items())
        row.add_widget(KioskLabel(text=text, bold=True, halign="center", size_hint_y=1))
        row.add_widget(ahead)
        return row

    def _state_line(self, state: dict) -> str:
        app = App.get_running_app()
        parts = [app.tr("sim.plugged_in") if state.get("plugged_in", True) else app.tr("sim.unplugged")]
        faults = [str(f.get("fault")) for f in state.get("faults") or [] if isinstance(f, dict)]
        parts.append(app.tr("sim.faults_on", names=", ".join(faults)) if faults else app.tr("sim.no_faults"))
        for key in SUMMARY_KEYS:
            value = state.get(key)
            if value not in (None, "", [], {}):
                parts.append(f"{key}: {Path(value).name if key == 'picture' else value}")
        return " · ".join(parts)
