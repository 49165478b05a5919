"""好差评: the ``rate`` screen.

It starts a ``RatingFlow`` when it opens: for the case a journey offered (``offer_rating``), or,
from the home tile, for a case the resident chooses after placing the ID card. Five large
faces with their words (``rate.5`` 非常满意 at the top … ``rate.1`` 非常不满意), nothing
chosen beforehand; for the two lowest, the reasons (``rate.reason.<code>``), an optional
comment typed with pinyin (``rate.comment``) and ``rate.submit``. ``rate.skip`` leaves without
a rating; after the thanks ``rate.continue`` goes back to where the journey came from, or home.
"""
from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.flows.rating import LEVELS_SHOWN, REASONS_OFFERED, take_offered_rating
from screens.base import KioskScreen
from screens.journey import ListRow, load_kv
from screens.state_panels import StatePanels
from screens.ui_thread import kivy_deliver

PANELS = {"choose": "RateChoosePanel", "loading": "RateBusyPanel", "levels": "RateLevelsPanel",
          "reasons": "RateReasonsPanel", "sending": "RateBusyPanel", "done": "RateDonePanel"}
FACE_COLOURS = {5: "#15803D", 4: "#4D7C0F", 3: "#A16207", 2: "#C2410C", 1: "#B91C1C"}


class FaceIcon(Widget):
    """A round face: a broad smile at 5, a straight mouth at 3, a frown at 1."""

    level = NumericProperty(3)
    face_colour = ListProperty([0.5, 0.5, 0.5, 1])
    mouth = ListProperty([])

    def on_size(self, *_args):
        self._draw()

    def on_pos(self, *_args):
        self._draw()

    def on_level(self, *_args):
        self._draw()

    def _draw(self) -> None:
        from screens.theme import rgba

        self.face_colour = rgba(FACE_COLOURS.get(int(self.level), "#6B7280"))
        curve = (int(self.level) - 3) * 0.09 * self.height  # >0: corners up (a smile)
        cx, base = self.center_x, self.y + self.height * 0.32
        half = self.width * 0.24
        points = []
        for step in range(13):
            t = -1 + step / 6
            points += [cx + t * half, base + curve * (t * t) - curve * 0.5]
        self.mouth = points


class LevelButton(ButtonBehavior, BoxLayout):
    level = NumericProperty(3)
    text = StringProperty("")
    widget_id = StringProperty("")


class ReasonButton(ButtonBehavior, BoxLayout):
    text = StringProperty("")
    chosen = BooleanProperty(False)
    widget_id = StringProperty("")


class RatingScreen(StatePanels, KioskScreen):
    state = StringProperty("")
    message = StringProperty("")
    has_problem = BooleanProperty(False)
    target_text = StringProperty("")
    level_text = StringProperty("")
    returns = BooleanProperty(False)  # 继续 goes back into a journey (else 完成 goes home)

    def on_kv_post(self, _base):
        self.flow = None
        self.panel = None
        self._subscription = None

    def on_pre_enter(self, *_args) -> None:
        app = App.get_running_app()
        self.flow = app.kiosk.new_rating_flow(take_offered_rating(app.kiosk.session))
        self._subscription = self.flow.subscribe(lambda _flow: kivy_deliver(self.refresh))
        self.state = ""
        self.refresh()

    def on_leave(self, *_args) -> None:
        if self._subscription is not None:
            self._subscription.cancel()
            self._subscription = None
        if self.flow is not None:
            self.flow.end()
            self.flow = None
        self.state = ""
        self.show_panel(None)

    def refresh(self) -> None:
        app = App.get_running_app()
        flow = self.flow
        if app is None or flow is None:
            return
        if flow.ended:
            if flow.skipped:
                self.leave()
            return
        self.has_problem = bool(flow.problem) and flow.state != "done"
        self.message = app.tr(flow.problem, **flow.problem_values) if flow.problem else ""
        target = flow.target
        self.target_text = app.tr("rate.for_case", item=target.item_name or "", number=target.acceptance_number
                                  or "") if target is not None and target.acceptance_number else ""
        self.level_text = app.tr(f"rate.level.{flow.level}") if flow.level else ""
        self.returns = bool(target is not None and target.return_screen)
        self.follow_flow(flow, PANELS)

    # -- what the panels call -----------------------------------------------------------------
    def submit(self, field) -> None:
        self.flow.submit(field.text)

    def skip(self) -> None:
        if self.flow is not None:
            self.flow.skip()

    def leave(self) -> None:
        """After the rating (or skipping it): back to where the journey came from, else home."""
        app = App.get_running_app()
        flow = self.flow
        target = flow.target if flow is not None else None
        back = target.return_screen if target is not None else ""
        if back and back in app.screens.screen_names + ["follow.list"]:
            app.go(back)
        else:
            app.go_home()


class RateLevelsPanelBase:
    def update(self, screen, flow) -> None:
        app = App.get_running_app()
        box = self.ids.levels
        if box.children:
            return
        for level in LEVELS_SHOWN:
            button = LevelButton(level=level, text=app.tr(f"rate.level.{level}"), widget_id=f"rate.{level}")
            button.bind(on_release=lambda _b, n=level: flow.choose_level(n))
            box.add_widget(button)


class RateReasonsPanelBase:
    def update(self, screen, flow) -> None:
        app = App.get_running_app()
        grid = self.ids.reasons
        if not grid.children:
            for reason in REASONS_OFFERED:
                button = ReasonButton(text=app.tr(f"rate.reason.{reason}"), widget_id=f"rate.reason.{reason}")
                button.reason = reason
                button.bind(on_release=lambda _b, r=reason: flow.toggle_reason(r))
                grid.add_widget(button)
        for button in grid.children:
            button.chosen = button.reason in flow.reasons


class RateChoosePanelBase:
    def update(self, screen, flow) -> None:
        app = App.get_running_app()
        rows = self.ids.rows
        rows.clear_widgets()
        self.ids.heading.text = app.tr("rate.choose_list") if flow.cases else app.tr("rate.choose_prompt")
        for number, case in enumerate(flow.cases, start=1):
            step = {"ready_for_pickup": "ready"}.get(case.state, case.state)
            row = ListRow(title=case.item_name, detail=case.acceptance_number, widget_id=f"rate.case.{number}",
                          badge=app.tr(f"follow.step.{step}"))
            row.bind(on_release=lambda _r, c=case: flow.choose_case(c.acceptance_number, c.item_name))
            rows.add_widget(row)


Factory.register("RateLevelsPanelBase", cls=RateLevelsPanelBase)
Factory.register("RateReasonsPanelBase", cls=RateReasonsPanelBase)
Factory.register("RateChoosePanelBase", cls=RateChoosePanelBase)
load_kv("journey.kv", "rating.kv")
