"""自助取件: ``pickup.list`` (who collects, then what waits here), ``pickup.open`` (the door that is
open, or what went wrong) and ``pickup.done`` (collected; the rating comes up by itself).

The screens show the ``PickupFlow`` the first of them started (``screens.journey``). While a
door is open the screen asks the flow every half second whether to remind the resident
(``PickupFlow.tick``); ``pickup.done`` counts down ``[pickup] rate_after_seconds`` and then
offers the rating, unless another result waits for the resident.
"""
from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.flows.rating import offer_rating
from screens.journey import JourneyScreen, ListRow, load_kv
from screens.state_panels import StatePanels

ROUTES = {"identify": "pickup.list", "typing": "pickup.list", "list": "pickup.list", "opening": "pickup.open",
          "open": "pickup.open", "confirming": "pickup.open", "failed": "pickup.open", "done": "pickup.done"}
LIST_PANELS = {"identify": "PickupIdentifyPanel", "typing": "PickupTypingPanel", "verifying": "PickupBusyPanel",
               "list": "PickupChoosePanel"}


class PickupScreen(JourneyScreen):
    journey = "pickup"
    ROUTES = ROUTES

    def make_flow(self, kiosk):
        return kiosk.new_pickup_flow()

    def _every(self, seconds: float, work) -> object:
        """A timer that stops by itself once this screen is gone (or the app that made it)."""
        app = App.get_running_app()

        def tick(_dt):
            if App.get_running_app() is not app or self.manager is None or self.manager.current != self.name:
                return False
            return work()
        return Clock.schedule_interval(tick, seconds)


class PickupListScreen(StatePanels, PickupScreen):
    state = StringProperty("")

    def on_kv_post(self, base):
        super().on_kv_post(base)
        self.panel = None

    def left(self) -> None:
        self.state = ""
        self.show_panel(None)

    def show(self, app, flow) -> None:
        self.follow_flow(flow, LIST_PANELS)

    def submit_code(self, field) -> None:
        code, field.text = field.text, ""
        self.flow.submit_code(code)


class PickupTypingPanelBase:
    def update(self, screen, flow) -> None:
        """After a code was refused the keypad comes back for the next try."""
        field = self.ids.code_field
        if flow.state == "typing" and flow.problem and not field.focus:
            field.focus = True


class PickupChoosePanelBase:
    def update(self, screen, flow) -> None:
        app = App.get_running_app()
        self.ids.heading.text = app.tr("pickup.list_title", n=len(flow.matches))
        rows = self.ids.rows
        rows.clear_widgets()
        for number, slot in enumerate(flow.matches, start=1):
            opened = flow.already_opened(slot)
            detail = f"{slot.item_name} · {slot.acceptance_number}"
            row = ListRow(title=f"{slot.result_name}", widget_id=f"pickup.item.{number}",
                          detail=detail + ("\n" + app.tr("pickup.already_opened_row") if opened else ""),
                          badge=app.tr("pickup.door_line", door=slot.door),
                          selected=slot.pickup_id == flow.selected and not opened, quiet=opened, disabled=opened)
            if opened:  # said in words, in red: this one needs a member of staff
                row.detail_colour = list(app.theme.bad_dark)
            row.bind(on_release=lambda _row, pickup_id=slot.pickup_id: flow.select(pickup_id))
            rows.add_widget(row)
        self.ids.confirm.disabled = not flow.selected


class PickupOpenScreen(PickupScreen):
    state = StringProperty("")
    door = NumericProperty(0)
    doors = NumericProperty(16)
    take_text = StringProperty("")
    more_waiting = NumericProperty(0)

    def entered(self) -> None:
        app = App.get_running_app()
        self.doors = app.kiosk.settings.devices.locker.doors
        self._ticking = self._every(0.5, self._tick)

    def _tick(self):
        flow = self.flow
        if flow is not None:
            flow.tick()

    def left(self) -> None:
        ticking = getattr(self, "_ticking", None)
        if ticking is not None:
            ticking.cancel()
            self._ticking = None

    def show(self, app, flow) -> None:
        self.state = flow.state
        slot = flow.current
        self.door = slot.door if slot is not None else 0
        self.take_text = app.tr("pickup.take", door=self.door) if self.door else ""
        self.more_waiting = flow.more_waiting if flow.state == "failed" else 0


class LockerPicture(Widget):
    """The cabinet as a grid of doors, the open one drawn open and green: where to look."""

    doors = NumericProperty(16)
    door = NumericProperty(0)
    columns = NumericProperty(4)
    boxes = ListProperty([])  # (x, y, w, h, is_the_door) per door, for the kv canvas

    def on_size(self, *_args):
        self._layout()

    def on_pos(self, *_args):
        self._layout()

    def on_doors(self, *_args):
        self._layout()

    def on_door(self, *_args):
        self._layout()

    def _layout(self) -> None:
        doors = max(1, int(self.doors))
        columns = max(1, min(int(self.columns), doors))
        rows = -(-doors // columns)
        gap = max(4.0, self.width * 0.02)
        cell_w = (self.width - gap * (columns + 1)) / columns
        cell_h = (self.height - gap * (rows + 1)) / rows
        boxes = []
        for index in range(doors):
            row, column = divmod(index, columns)
            x = self.x + gap + column * (cell_w + gap)
            y = self.top - gap - (row + 1) * cell_h - row * gap
            boxes.append((x, y, cell_w, cell_h, index + 1 == int(self.door)))
        self.boxes = boxes
        self.canvas.after.clear()
        from kivy.graphics import Color, Line, Rectangle
        from screens.theme import rgba

        with self.canvas.after:
            for x, y, w, h, mine in boxes:
                Color(*(rgba("#1B7F3B") if mine else rgba("#CBD5E1")))
                Rectangle(pos=(x, y), size=(w, h))
                Color(*(rgba("#14532D") if mine else rgba("#94A3B8")))
                Line(rectangle=(x, y, w, h), width=2 if mine else 1)
                if mine:  # the door swung open: a lighter leaf to one side
                    Color(*rgba("#DCFCE7"))
                    Rectangle(pos=(x + w * 0.08, y + h * 0.1), size=(w * 0.2, h * 0.8))


class PickupDoneScreen(PickupScreen):
    message = StringProperty("")
    print_text = StringProperty("")
    countdown = NumericProperty(0)
    more_waiting = NumericProperty(0)

    def entered(self) -> None:
        app = App.get_running_app()
        flow = self.flow
        self.more_waiting = flow.more_waiting if flow is not None else 0
        self.countdown = 0 if self.more_waiting else app.kiosk.settings.pickup.rate_after_seconds
        self._counting = self._every(1.0, self._count) if self.countdown else None

    def _count(self):
        if self.countdown <= 0:
            return False
        self.countdown -= 1
        if self.countdown <= 0:
            self.rate()
            return False
        return None

    def left(self) -> None:
        counting = getattr(self, "_counting", None)
        if counting is not None:
            counting.cancel()
            self._counting = None

    def show(self, app, flow) -> None:
        self.message = app.tr("pickup.done_queued") if flow.outcome == "queued" else app.tr("pickup.done")
        # the printer's words, said of the pickup slip (取件凭证) rather than a receipt
        key = {"receipt.printed": "pickup.slip_printed", "receipt.sent": "pickup.slip_printed"}.get(
            flow.print_state, flow.print_state)
        self.print_text = app.tr(key) if key else ""
        self.more_waiting = flow.more_waiting

    def rate(self) -> None:
        app = App.get_running_app()
        flow = self.flow
        target = flow.rating_target() if flow is not None else None
        if target is not None:
            offer_rating(app.kiosk.session, target)
            app.go("rate")

    def next_result(self) -> None:
        if self.flow is not None:
            self.flow.next_result()


Factory.register("PickupTypingPanelBase", cls=PickupTypingPanelBase)
Factory.register("PickupChoosePanelBase", cls=PickupChoosePanelBase)
load_kv("journey.kv", "pickup.kv")
