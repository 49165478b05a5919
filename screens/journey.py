"""Screens that share one journey's flow: 办件查询 (``follow.*``) and 自助取件 (``pickup.*``).

A journey's first screen starts its flow (from the kiosk's factory); the flow is kept on the
app while the resident moves between the journey's screens, and ended as soon as they leave
them (home, another journey). Each screen shows the states it is for (``STATES``) and moves
to the journey's other screen when the flow's state belongs there; while the backend is
asked (a state in no screen's list) the screen stays where it is and shows that it waits.
The voice toggle (``voice.toggle``) switches the spoken prompts for this session.
"""
from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from screens.base import KioskScreen
from screens.ui_thread import kivy_deliver

KV_DIR = Path(__file__).resolve().parent


def load_kv(*names: str) -> None:
    """Load these kv files of ``screens/`` once (a journey's screen module does at import)."""
    for name in names:
        path = str(KV_DIR / name)
        if path not in Builder.files:
            Builder.load_file(path)


def journey_flows(app) -> dict:
    flows = getattr(app, "_journey_flows", None)
    if flows is None:
        flows = {}
        app._journey_flows = flows
    return flows


class JourneyScreen(KioskScreen):
    #: the journey's name; its screens are named "<journey>.<part>"
    journey = ""
    #: flow state → the screen that shows it (states missing here: stay on the current screen)
    ROUTES: dict[str, str] = {}
    problem_text = StringProperty("")
    has_problem = BooleanProperty(False)
    voice_available = BooleanProperty(False)
    voice_on = BooleanProperty(True)

    def on_kv_post(self, _base):
        self._subscription = None

    # -- the flow ----------------------------------------------------------------------------
    def make_flow(self, kiosk):
        raise NotImplementedError

    @property
    def flow(self):
        app = App.get_running_app()
        return journey_flows(app).get(self.journey) if app is not None else None

    def on_pre_enter(self, *_args) -> None:
        app = App.get_running_app()
        flows = journey_flows(app)
        flow = flows.get(self.journey)
        if flow is None or flow.ended:
            flow = flows[self.journey] = self.make_flow(app.kiosk)
        self._subscription = flow.subscribe(lambda _flow: kivy_deliver(self.refresh))
        self.entered()
        self.refresh()

    def entered(self) -> None:
        """Hook: the screen just came up (before the first refresh)."""

    def on_leave(self, *_args) -> None:
        if self._subscription is not None:
            self._subscription.cancel()
            self._subscription = None
        self.left()
        app = App.get_running_app()
        if app is None or self.manager is None:
            return
        if not self.manager.current.startswith(self.journey + "."):
            flow = journey_flows(app).pop(self.journey, None)
            if flow is not None:
                flow.end()

    def left(self) -> None:
        """Hook: the screen went away."""

    def refresh(self) -> None:
        app = App.get_running_app()
        flow = self.flow
        if app is None or flow is None or self.manager is None or self.manager.current != self.name:
            return
        if flow.ended:
            return
        target = self.ROUTES.get(flow.state)
        if target and target != self.name:
            app.go(target)
            return
        prompter = app.kiosk.voice
        self.voice_available = bool(prompter is not None and prompter.available)
        self.voice_on = bool(prompter is not None and prompter.enabled())
        self.has_problem = bool(flow.problem)
        self.problem_text = app.tr(flow.problem, **flow.problem_values) if flow.problem else ""
        self.show(app, flow)

    def show(self, app, flow) -> None:
        """Draw the flow's current state."""

    def toggle_voice(self) -> None:
        prompter = App.get_running_app().kiosk.voice
        if prompter is not None:
            prompter.set_enabled(not prompter.enabled())
            self.voice_on = prompter.enabled()


class ListRow(ButtonBehavior, BoxLayout):
    """A row of a journey's list (a case, a result to collect): title, a badge, a detail line."""

    title = StringProperty("")
    detail = StringProperty("")
    badge = StringProperty("")
    badge_colour = ListProperty([0.08, 0.33, 0.18, 1])
    badge_surface = ListProperty([0.86, 0.99, 0.91, 1])
    selected = BooleanProperty(False)
    quiet = BooleanProperty(False)  # information only (an application waiting in the outbox)
    detail_colour = ListProperty([])  # empty: the usual muted text
    widget_id = StringProperty("")


class StepRow(BoxLayout):
    """One step of a case's timeline: a dot (done, current, to come, refused), its name, when, what."""

    name = StringProperty("")
    when = StringProperty("")
    detail = StringProperty("")
    status = StringProperty("todo")
    last = BooleanProperty(False)
    dot_colour = ListProperty([0.5, 0.5, 0.5, 1])
    line_colour = ListProperty([0.8, 0.8, 0.8, 1])
    name_colour = ListProperty([0, 0, 0, 1])


def step_colours(theme, status: str) -> dict:
    """Dot, line and name colours of a timeline step by its status."""
    grey = (0.58, 0.64, 0.72, 1)
    if status == "done":
        return {"dot_colour": theme.ok, "line_colour": theme.ok, "name_colour": theme.ok_dark}
    if status == "current":
        return {"dot_colour": theme.primary, "line_colour": grey, "name_colour": theme.primary_dark}
    if status == "refused":
        return {"dot_colour": theme.bad, "line_colour": grey, "name_colour": theme.bad_dark}
    return {"dot_colour": grey, "line_colour": grey, "name_colour": theme.text_muted}
