"""网格员代办: the grid worker signs in (staff code or card, then PIN), identifies the resident
(card, identity code, or typed), and the resident confirms on screen.

The screen starts an ``AgentFlow`` when it opens and ends it when it closes (the flow holds
the card reader and the codes meanwhile). Each state of the flow has its own panel; the panel
shows the flow's problem line, and its buttons call the flow. Typed fields use the kiosk
keyboard (digits for the PIN, ID number and phone; pinyin for the name).
"""
from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty

from kiosk.privacy import mask_id_number, mask_phone
from screens.base import KioskScreen
from screens.state_panels import StatePanels
from screens.ui_thread import kivy_deliver

PANELS = {
    "staff": "AgentStaffPanel",
    "pin": "AgentPinPanel",
    "checking": "AgentBusyPanel",
    "locked": "AgentLockedPanel",
    "resident": "AgentResidentPanel",
    "resolving": "AgentBusyPanel",
    "typing": "AgentTypingPanel",
    "confirm": "AgentConfirmPanel",
}


class AgentScreen(StatePanels, KioskScreen):
    flow = ObjectProperty(None, allownone=True)
    state = StringProperty("")
    problem_text = StringProperty("")
    worker_text = StringProperty("")
    busy_text = StringProperty("")
    has_problem = BooleanProperty(False)

    def on_kv_post(self, _base):
        self._subscription = None
        self.panel = None

    def on_pre_enter(self, *_args) -> None:
        app = App.get_running_app()
        self.flow = app.kiosk.new_agent_flow()
        self._subscription = self.flow.subscribe(lambda _flow: kivy_deliver(self.refresh))
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
        if flow is None:
            return
        if flow.state in ("done", "ended"):
            if flow.state == "done" or app.kiosk.session.signed_in:
                app.go("home")
            return
        self.has_problem = bool(flow.problem)
        self.problem_text = app.tr(flow.problem, **flow.problem_values) if flow.problem else ""
        self.worker_text = app.tr("agent.signed_in_as", name=flow.worker.name) if flow.worker else ""
        self.busy_text = app.tr("agent.checking" if flow.state == "checking" else "identify.resolving")
        self.follow_flow(flow, PANELS)

    # -- what the panels call ---------------------------------------------------------------
    def submit_pin(self, field) -> None:
        pin, field.text = field.text, ""
        self.flow.enter_pin(pin)

    def submit_typed(self, id_number: str, name: str, phone: str) -> None:
        self.flow.submit_typed(id_number, name, phone)
        if self.panel is not None and hasattr(self.panel, "update"):
            self.panel.update(self, self.flow)


class AgentTypingPanelBase:
    """Field problems next to each field (mixin for the kv panel)."""

    def update(self, screen: AgentScreen, flow) -> None:
        app = App.get_running_app()
        for field in ("id_number", "name", "phone"):
            key = flow.field_problems.get(field, "")
            self.ids[f"{field}_problem"].text = app.tr(key) if key else ""


class AgentConfirmPanelBase:
    def update(self, screen: AgentScreen, flow) -> None:
        app = App.get_running_app()
        resident = flow.resident
        if resident is None or flow.worker is None:
            return
        self.ids.resident_name.text = resident.name
        self.ids.resident_id.text = f"{app.tr('agent.id_number')}：{mask_id_number(resident.id_number)}"
        self.ids.resident_phone.text = (f"{app.tr('agent.phone')}：{mask_phone(resident.phone)}"
                                        if resident.phone else "")
        self.ids.acting.text = app.tr("agent.confirm_acting", agent=flow.worker.name)


Factory.register("AgentTypingPanelBase", cls=AgentTypingPanelBase)
Factory.register("AgentConfirmPanelBase", cls=AgentConfirmPanelBase)
