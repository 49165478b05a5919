"""办件查询: ``follow.list`` (how to look a case up, then the resident's cases) and ``follow.case``
(one case: timeline, promised date, delivery, next step, 补正, refusal and remedies).

Both screens show the ``FollowFlow`` the first of them started (``screens.journey``); their
buttons call the flow, and what a case shows is worked out in ``kiosk.flows.follow``
(``case_steps``, ``next_step``). Dates are shown in the resident's language.
"""
from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import BooleanProperty, StringProperty

from kiosk.flows.rating import offer_rating
from screens.journey import JourneyScreen, ListRow, StepRow, load_kv, step_colours
from screens.state_panels import StatePanels

ROUTES = {"identify": "follow.list", "typing": "follow.list", "list": "follow.list", "case": "follow.case"}
PANELS = {"identify": "FollowIdentifyPanel", "typing": "FollowTypingPanel", "loading": "FollowLoadingPanel",
          "list": "FollowListPanel"}
STATE_BADGES = {  # case state → (text colour, surface)
    "accepted": ("#1E3A8A", "#DBEAFE"), "reviewing": ("#1E3A8A", "#DBEAFE"), "supplement": ("#7C2D12", "#FFEDD5"),
    "approved": ("#14532D", "#DCFCE7"), "rejected": ("#7F1D1D", "#FEE2E2"), "ready_for_pickup": ("#14532D", "#DCFCE7"),
    "closed": ("#374151", "#E5E7EB")}


def when(app, moment) -> str:
    """A date (and time) as the resident reads it: 2026年1月5日 / 2026-01-05."""
    if moment is None:
        return ""
    if app.lang == "zh":
        return f"{moment.year}年{moment.month}月{moment.day}日"
    return f"{moment:%Y-%m-%d}"


def _rgba(hex_colour: str):
    from screens.theme import rgba

    return rgba(hex_colour)


class FollowScreen(JourneyScreen):
    journey = "follow"
    ROUTES = ROUTES

    def make_flow(self, kiosk):
        return kiosk.new_follow_flow()


class FollowListScreen(StatePanels, FollowScreen):
    state = StringProperty("")
    busy_text = StringProperty("")

    def on_kv_post(self, base):
        super().on_kv_post(base)
        self.panel = None

    def left(self) -> None:
        self.state = ""
        self.show_panel(None)

    def show(self, app, flow) -> None:
        self.busy_text = app.tr("follow.loading")
        self.follow_flow(flow, PANELS)

    # -- what the panels call -----------------------------------------------------------------
    def submit_number(self, number: str, code: str) -> None:
        self.flow.submit_number(number, code)
        if self.panel is not None and hasattr(self.panel, "update"):
            self.panel.update(self, self.flow)


class FollowTypingPanelBase:
    def update(self, screen, flow) -> None:
        app = App.get_running_app()
        if flow.typed_number and not self.ids.number_field.text:
            self.ids.number_field.text = flow.typed_number.replace("-", "")
        for name in ("number", "code"):
            key = flow.field_problems.get(name, "")
            self.ids[f"{name}_problem"].text = app.tr(key) if key else ""


class FollowListPanelBase:
    def update(self, screen, flow) -> None:
        app = App.get_running_app()
        rows = self.ids.rows
        rows.clear_widgets()
        count = len(flow.cases) + len(flow.queued)
        self.ids.count.text = app.tr("follow.list_count", n=count) if count else app.tr("follow.no_cases")
        for number, queued in enumerate(flow.queued, start=1):
            import datetime as dt

            moment = dt.datetime.fromtimestamp(queued.created_at)
            rows.add_widget(ListRow(
                title=queued.item_name, badge=app.tr("follow.queued"), quiet=True,
                badge_colour=_rgba("#7C2D12"), badge_surface=_rgba("#FFEDD5"), disabled=True,
                detail=app.tr("follow.queued_detail", time=f"{when(app, moment)} {moment:%H:%M}",
                              ref=queued.local_reference)))
        for number, case in enumerate(flow.cases, start=1):
            colour, surface = STATE_BADGES.get(case.state, ("#374151", "#E5E7EB"))
            row = ListRow(title=case.item_name, badge=app.tr(f"follow.step.{_step_of(case.state)}"),
                          badge_colour=_rgba(colour), badge_surface=_rgba(surface),
                          detail=f"{app.tr('follow.accepted_on', date=when(app, case.accepted_at))} · "
                                 f"{case.acceptance_number}", widget_id=f"follow.case.{number}")
            row.bind(on_release=lambda _row, n=case.acceptance_number: flow.open_case(n))
            rows.add_widget(row)


def _step_of(state: str) -> str:
    return {"ready_for_pickup": "ready", "supplement": "supplement"}.get(state, state)


class FollowCaseScreen(FollowScreen):
    item_name = StringProperty("")
    number_text = StringProperty("")
    next_text = StringProperty("")
    facts_text = StringProperty("")
    print_text = StringProperty("")
    can_collect = BooleanProperty(False)
    can_reprint = BooleanProperty(False)
    signed_in = BooleanProperty(False)

    def show(self, app, flow) -> None:
        case = flow.case
        if case is None:
            return
        self.item_name = case.item_name
        self.number_text = app.tr("follow.case_number", number=case.acceptance_number) + (
            f" · {app.tr('follow.agent_handled')}" if case.agent_handled else "")
        key, values = flow.next_step()
        self.next_text = app.tr(key, **values) if key else ""
        facts = [app.tr("follow.promised", date=when(app, case.promised_date)) if case.promised_date
                 else app.tr("follow.promised_immediate"),
                 app.tr("follow.delivery_line", how=app.tr(f"follow.delivery_{case.delivery}"))]
        self.facts_text = "\n".join(facts)
        self.print_text = app.tr(flow.print_state) if flow.print_state else ""
        self.can_collect = flow.can_collect
        self.can_reprint = flow.can_reprint
        self.signed_in = app.kiosk.session.signed_in
        self._draw_steps(app, flow)
        self._draw_notes(app, case)

    def entered(self) -> None:
        self.ids.scroller.scroll_y = 1

    def _draw_steps(self, app, flow) -> None:
        box = self.ids.steps
        box.clear_widgets()
        steps = flow.steps()
        for index, step in enumerate(steps):
            box.add_widget(StepRow(name=app.tr(step.key), status=step.status, detail=step.detail,
                                   when=when(app, step.at), last=index == len(steps) - 1,
                                   **step_colours(app.theme, step.status)))

    def _draw_notes(self, app, case) -> None:
        notes = self.ids.notes
        notes.clear_widgets()
        if case.state == "supplement" and case.supplement is not None:
            notes.add_widget(Factory.NoteTitle(text=app.tr("follow.supplement_title")))
            for number, item in enumerate(case.supplement.items, start=1):
                notes.add_widget(Factory.NoteLine(text=f"{number}、{item}"))
            if case.supplement.note:
                notes.add_widget(Factory.NoteLine(text=case.supplement.note, color=app.theme.text_muted))
        if case.state == "rejected" and case.decision is not None:
            notes.add_widget(Factory.NoteTitle(text=app.tr("follow.rejected_reasons")))
            for number, reason in enumerate(case.decision.reasons, start=1):
                notes.add_widget(Factory.NoteLine(text=f"{number}、{reason}"))
            if case.decision.remedies:
                notes.add_widget(Factory.NoteTitle(text=app.tr("follow.remedies")))
                for remedy in case.decision.remedies:
                    notes.add_widget(Factory.NoteLine(text="·" + app.tr(
                        "follow.remedy", kind=remedy.kind, time_limit=remedy.time_limit, authority=remedy.authority)))
        notes.opacity = 1 if notes.children else 0

    # -- buttons ----------------------------------------------------------------------------
    def collect(self) -> None:
        if self.flow is not None and self.flow.collect():
            App.get_running_app().go("pickup.list")

    def rate(self) -> None:
        flow = self.flow
        target = flow.rating_target() if flow is not None else None
        if target is None:
            return
        app = App.get_running_app()
        offer_rating(app.kiosk.session, target)
        app.go("rate")

    def back(self) -> None:
        if self.flow is not None:
            self.flow.back_to_list()


Factory.register("FollowTypingPanelBase", cls=FollowTypingPanelBase)
Factory.register("FollowListPanelBase", cls=FollowListPanelBase)
load_kv("journey.kv", "follow.kv")
