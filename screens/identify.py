"""身份识别: place the ID card or show the identity code; the kiosk-wide sign-in shows its state.

The screen renders ``kiosk.identify`` (the ``IdentifyFlow`` that listens from start to
shutdown): what to do, the check of a code, a problem with its way on, or the greeting. Once
signed in it moves on by itself to ``next_screen`` (the home screen, or the journey that asked
for identification) after a moment, or at once with 继续.
"""
from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty

from kiosk.flows.availability import journey_state
from screens.base import KioskScreen
from screens.ui_thread import kivy_deliver

CONTINUE_AFTER = 2.5  # seconds the greeting shows before the kiosk moves on


class IdentifyScreen(KioskScreen):
    state = StringProperty("waiting")
    message = StringProperty("")
    card_note = StringProperty("")  # "暂不可用" under a method whose device is down
    code_note = StringProperty("")
    has_problem = BooleanProperty(False)
    next_screen = StringProperty("home")

    def on_kv_post(self, _base):
        self._subscriptions = []
        self._continue = None

    def on_pre_enter(self, *_args) -> None:
        kiosk = App.get_running_app().kiosk
        self._subscriptions = [kiosk.identify.subscribe(lambda _flow: kivy_deliver(self.refresh)),
                               kiosk.status.subscribe(lambda _item: kivy_deliver(self.refresh))]
        kiosk.identify.dismiss_problem()  # a problem from before this screen is old news
        self.refresh()

    def on_leave(self, *_args) -> None:
        for subscription in self._subscriptions:
            subscription.cancel()
        self._subscriptions = []
        if self._continue is not None:
            self._continue.cancel()
            self._continue = None
        self.next_screen = "home"

    def refresh(self) -> None:
        app = App.get_running_app()
        kiosk = app.kiosk
        flow = kiosk.identify
        status = kiosk.status
        self.card_note = "" if status.is_available("idcard") else app.tr("identify.unavailable")
        self.code_note = "" if (status.is_available("scanner") and status.is_available("network")) \
            else app.tr("identify.unavailable")
        self.state = flow.state
        self.has_problem = bool(flow.problem)
        if flow.problem:
            self.message = app.tr(flow.problem, **flow.problem_values)
        elif flow.state == "resolving":
            self.message = app.tr("identify.resolving")
        elif flow.state == "signed_in":
            banner = kiosk.session.signed_in_banner()
            self.message = app.tr("identify.signed_in", name=banner[1]["name"] if banner else "")
            if self._continue is None and self.manager is not None and self.manager.current == self.name:
                self._continue = Clock.schedule_once(lambda _dt: self.go_on(), CONTINUE_AFTER)
        else:
            available = journey_state("identify", status)
            self.message = app.tr("identify.waiting") if available.available else app.tr(available.reason)

    def retry(self) -> None:
        App.get_running_app().kiosk.identify.dismiss_problem()

    def go_on(self) -> None:
        if self._continue is not None:
            self._continue.cancel()
            self._continue = None
        app = App.get_running_app()
        if self.manager is not None and self.manager.current == self.name:
            app.go(self.next_screen)
