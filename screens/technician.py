"""Technicians' screens: the PIN pad (``tech_pin``) behind the hidden gesture, and ``diag``.

Both are thin. ``TechPinScreen`` shows the ``TechnicianFlow`` (PIN field, wrong-PIN and
lockout lines) and goes to ``diag`` once the flow is open. ``DiagScreen`` shows a
``kiosk.diagnostics.session.DiagnosticsSession``: the summary, a button per device, and the
chosen device's status, last error (code, text, raw bytes), counters, health checks at the
UPOS levels, timeline and its own test (test page, live camera with focus and exposure, scan
and card tests, a locker door's latch and sensor bits); "本机" shows ports, backend, outbox,
disk, memory and versions. Leaving the screen ends the technician's session (audited).
"""
from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty

from drivers.base import ERROR_CODES
from kiosk.diagnostics.model import DEVICE_NAMES
from screens.base import KioskScreen
from screens.theme import rgba
from screens.ui_thread import kivy_deliver
from screens.widgets import KioskButton, KioskLabel

STATUS_WORDS = {"ok": "正常 OK", "degraded": "注意 WARN", "fault": "故障 FAULT", "absent": "未配置 —"}
LEVELS = ("internal", "external", "interactive")


class TechPinScreen(KioskScreen):
    problem_text = StringProperty("")
    locked = BooleanProperty(False)
    flow = ObjectProperty(None, allownone=True)

    def on_pre_enter(self, *_args) -> None:
        app = App.get_running_app()
        self.flow = app.technician_flow
        if self.flow is None:
            return
        self._subscription = self.flow.subscribe(lambda _flow: kivy_deliver(self.refresh))
        self._tick = Clock.schedule_interval(lambda _dt: self.flow.refresh() if self.flow else None, 1.0)
        self.refresh()
        self.ids.pin_field.text = ""

    def on_enter(self, *_args) -> None:
        Clock.schedule_once(lambda _dt: setattr(self.ids.pin_field, "focus", not self.locked), 0.05)

    def on_leave(self, *_args) -> None:
        for name in ("_subscription", "_tick"):
            handle = getattr(self, name, None)
            if handle is not None:
                handle.cancel()
                setattr(self, name, None)
        self.ids.pin_field.focus = False
        app = App.get_running_app()
        if self.flow is not None and self.flow.state != "open":
            app.end_technician()
        self.flow = None

    def refresh(self) -> None:
        app = App.get_running_app()
        flow = self.flow
        if flow is None:
            return
        was_locked, self.locked = self.locked, flow.state == "locked"
        if was_locked and not self.locked and self.manager is not None and self.manager.current == self.name:
            self.ids.pin_field.focus = True
        self.problem_text = app.tr(flow.problem, **flow.problem_values) if flow.problem else ""
        if flow.state == "open" and app.screens.current == "tech_pin":
            app.go("diag")

    def submit(self) -> None:
        field = self.ids.pin_field
        pin, field.text = field.text, ""
        if self.flow is not None:
            self.flow.enter_pin(pin)
            if self.flow is not None and self.flow.state == "pin":  # wrong: type again at once
                Clock.schedule_once(lambda _dt: setattr(field, "focus", True), 0.1)


class DiagScreen(KioskScreen):
    selected = StringProperty("idcard")
    summary_text = StringProperty("")
    busy_text = StringProperty("")
    message_text = StringProperty("")
    door = NumericProperty(1)
    session = ObjectProperty(None, allownone=True)

    def on_pre_enter(self, *_args) -> None:
        from kiosk.diagnostics.session import DiagnosticsSession

        app = App.get_running_app()
        flow = app.technician_flow
        if flow is None or flow.state != "open":  # only through the PIN
            Clock.schedule_once(lambda _dt: app.go_home(), 0)
            return
        self.session = DiagnosticsSession(app.kiosk, flow, app.kiosk.background)
        self.session.hold_inputs()
        self._subscription = self.session.subscribe(lambda _s: kivy_deliver(self.refresh))
        self._live = Clock.schedule_interval(lambda _dt: self._live_tick(), 0.5)
        self.session.refresh()
        self.refresh()

    def on_leave(self, *_args) -> None:
        for name in ("_subscription", "_live"):
            handle = getattr(self, name, None)
            if handle is not None:
                handle.cancel()
                setattr(self, name, None)
        self._stop_camera()
        if self.session is not None:
            self.session.end()
            self.session = None
        App.get_running_app().end_technician()

    # -- what the buttons call ------------------------------------------------------------
    def select(self, name: str) -> None:
        if name != "camera":
            self._stop_camera()
        self.selected = name
        self.refresh()

    def leave(self) -> None:
        App.get_running_app().go_home()

    def move_door(self, step: int) -> None:
        locker = self.session.kiosk.devices.locker if self.session and self.session.kiosk.devices else None
        doors = getattr(locker, "doors", 16) or 16
        self.door = (self.door - 1 + step) % doors + 1
        self.refresh()

    # -- drawing ----------------------------------------------------------------------------
    def refresh(self) -> None:
        app = App.get_running_app()
        session = self.session
        if session is None:
            return
        state = session.state
        report = state.report
        if report is not None:
            faults = sum(1 for d in report.devices if d.status == "fault")
            verdict = app.tr("diag.healthy") if not faults else app.tr("diag.faults", n=faults)
            self.summary_text = f"{report.terminal_id} · kiosk {report.system.get('version', '')} · {verdict}"
        self.busy_text = app.tr("diag.busy", what=state.busy) if state.busy else ""
        self.message_text = state.message
        for name in DEVICE_NAMES + ("system",):
            button = self.ids.get(f"pick_{name}")
            if button is not None:
                diag = report.device(name) if report is not None and name != "system" else None
                button.kind = "primary" if name == self.selected else (
                    "danger" if diag is not None and diag.status == "fault" else "secondary")
        # the panel is rebuilt only when what it shows changed: the locker's door bits change twice a
        # second and are updated in place, so a finger on 开门 or ‹ › never loses its button mid-press
        key = self._panel_key()
        if key != getattr(self, "_drawn_key", None):
            self._drawn_key = key
            self._draw_panel()
        self._update_door_bits()

    def _panel_key(self) -> tuple:
        app = App.get_running_app()
        state = self.session.state
        report = state.report
        shown = None
        if report is not None:
            shown = repr(report.system) + repr(report.serial_ports) if self.selected == "system" else \
                repr(report.device(self.selected))
        return (app.lang, app.elderly, self.selected, self.door, shown, repr(state.scan), repr(state.card),
                state.card_problem, getattr(self, "_preview", None) is not None)

    def _update_door_bits(self) -> None:
        label = getattr(self, "_door_bits", None)
        if label is None:
            return
        bits = self.session.state.door if self.session is not None else None
        if bits is not None and bits.door == self.door:
            sensor = "—" if bits.sensor is None else str(bits.sensor)
            label.text = f"门 {bits.door}: latch 锁舌 {bits.latch} · sensor 红外 {sensor} ({bits.at})"
        else:
            label.text = ""

    def _label(self, text: str, **kwargs) -> KioskLabel:
        return KioskLabel(text=text, **kwargs)

    def _button(self, text: str, widget_id: str, action, kind: str = "secondary") -> KioskButton:
        button = KioskButton(text=text, widget_id=widget_id, kind=kind)
        button.bind(on_release=lambda *_a: action())
        return button

    def _draw_panel(self) -> None:
        app = App.get_running_app()
        holder = self.ids.panel
        holder.clear_widgets()
        self._door_bits = None
        report = self.session.state.report
        if report is None:
            holder.add_widget(self._label("…"))
            return
        if self.selected == "system":
            self._draw_system(holder, report)
            return
        diag = report.device(self.selected)
        if diag is None:
            return
        theme = app.theme
        colour = {"ok": theme.ok, "degraded": rgba("#92400E"), "fault": theme.bad}.get(diag.status, theme.text_muted)
        head = f"{self.selected}: {STATUS_WORDS.get(diag.status, diag.status)}"
        holder.add_widget(self._label(head, bold=True, color=colour, font_size=theme.font_heading))
        where = f"{diag.driver}" + (f" · {diag.port}" if diag.port else "") + (" · 模拟 sim" if diag.simulated else "")
        holder.add_widget(self._label(where, color=theme.text_muted))
        if diag.detail:
            holder.add_widget(self._label(diag.detail))
        if diag.code:
            holder.add_widget(self._label(f"{diag.code}: {ERROR_CODES.get(diag.code, '')}", color=theme.bad_dark))
        error = diag.last_error
        if error is not None:
            raw = error.raw.hex(" ")
            text = f"{app.tr('diag.last_error')}: {error.code} {error.text}" + (f"\nraw: {raw[:96]}" if raw else "")
            holder.add_widget(self._label(text, color=theme.bad_dark))
        if diag.status == "absent":
            return
        if diag.name == "backend":
            extra = diag.extra
            outbox = extra.get("outbox") or {}
            holder.add_widget(self._label(f"latency: {extra.get('latency_ms')} ms · outbox: "
                                          f"{outbox.get('pending', '?')} waiting, {outbox.get('quarantined', 0)} "
                                          "quarantined"))
        self._draw_device_test(holder, diag)
        if diag.name != "backend":
            from kivy.uix.boxlayout import BoxLayout

            row = BoxLayout(size_hint_y=None, height=theme.button_height, spacing=theme.px(12))
            for level in LEVELS:
                row.add_widget(self._button(app.tr(f"diag.level.{level}"), f"diag.check.{level}",
                                            lambda lv=level: self.session.check(self.selected, lv)))
            holder.add_widget(row)
        for check in diag.checks:
            holder.add_widget(self._label(f"{'✓' if check.passed else '×'} {check.name}: {check.detail}",
                                          color=theme.text if check.passed else theme.bad_dark))
        if diag.counters:
            holder.add_widget(self._label("counters: " + ", ".join(f"{k} {v}" for k, v in sorted(diag.counters.items())),
                                          color=theme.text_muted))
        if diag.history:
            holder.add_widget(self._label(app.tr("diag.timeline"), bold=True))
            from datetime import datetime

            for change in diag.history[-6:]:
                moment = datetime.fromtimestamp(change["at"]).strftime("%m-%d %H:%M:%S")
                text = f"{moment} {change['state']} {change['code']} {change['summary']}".strip()
                holder.add_widget(self._label(text, color=theme.text_muted))

    def _draw_device_test(self, holder, diag) -> None:
        app = App.get_running_app()
        state = self.session.state
        name = diag.name
        if name == "printer":
            holder.add_widget(self._button(app.tr("diag.test_page"), "diag.printer.test_page",
                                           self.session.print_test_page, "primary"))
        elif name == "scanner":
            scan = state.scan
            holder.add_widget(self._label(f"{scan['kind']} · {scan['text']}" if scan else app.tr("diag.scan_hint"),
                                          bold=bool(scan)))
        elif name == "idcard":
            if state.card:
                for key, value in state.card:
                    holder.add_widget(self._label(f"{app.tr(key)}：{value}"))
            else:
                holder.add_widget(self._label(state.card_problem or app.tr("diag.card_hint")))
        elif name == "locker":
            from kivy.uix.boxlayout import BoxLayout

            row = BoxLayout(size_hint_y=None, height=app.theme.button_height, spacing=app.theme.spacing)
            row.add_widget(self._button("‹", "diag.door.prev", lambda: self.move_door(-1)))
            row.add_widget(self._label(f"{self.door}", bold=True, halign="center", font_size=app.theme.font_heading,
                                       size_hint_y=1))  # centred between ‹ and ›
            row.add_widget(self._button("›", "diag.door.next", lambda: self.move_door(1)))
            holder.add_widget(row)
            holder.add_widget(self._button(app.tr("diag.door_open"), "diag.door.open",
                                           lambda: self.session.open_door(self.door), "primary"))
            self._door_bits = self._label("", bold=True)  # filled in place by _update_door_bits
            holder.add_widget(self._door_bits)
        elif name == "camera":
            holder.add_widget(self._button(app.tr("diag.camera_on"), "diag.camera.live", self._start_camera,
                                           "primary"))
            preview = getattr(self, "_preview", None)
            if preview is not None:
                if preview.parent is not None:
                    preview.parent.remove_widget(preview)
                holder.add_widget(self._figures_label)
                holder.add_widget(preview)

    def _draw_system(self, holder, report) -> None:
        app = App.get_running_app()
        theme = app.theme
        system = report.system
        disk, memory = system.get("disk") or {}, system.get("memory") or {}
        versions = system.get("versions") or {}
        lines = [f"kiosk {system.get('version')} {versions.get('commit', '')}".strip(),
                 f"Python {system.get('python')}",
                 f"disk 磁盘: {disk.get('free_mb')} / {disk.get('total_mb')} MB free",
                 f"memory 内存: {memory.get('available_mb')} / {memory.get('total_mb')} MB free, kiosk "
                 f"{memory.get('kiosk_rss_mb')} MB"]
        for line in lines:
            holder.add_widget(self._label(line))
        holder.add_widget(self._label("串口 serial ports", bold=True))
        for port in report.serial_ports or []:
            ids = ", ".join(port.get("by_id") or []) or "—"
            used = f" → {port['used_by']}" if port.get("used_by") else ""
            holder.add_widget(self._label(f"{port['device']} {port.get('vid_pid') or ''} {ids}{used}",
                                          color=theme.text_muted))
        if not report.serial_ports:
            holder.add_widget(self._label("—", color=theme.text_muted))

    # -- live parts -------------------------------------------------------------------------
    def _start_camera(self) -> None:
        from screens.preview import CameraPreview

        if getattr(self, "_preview", None) is None and self.session is not None:
            app = App.get_running_app()
            camera = self.session.kiosk.devices.camera if self.session.kiosk.devices else None
            if camera is None:
                return
            self.session.camera_on(True)
            self._preview = CameraPreview(size_hint_y=None, height=app.theme.px(360))
            self._preview.attach(camera.latest, None, fps=10)
            self._figures_label = KioskLabel(text="…", bold=True)
            self.refresh()

    def _stop_camera(self) -> None:
        preview = getattr(self, "_preview", None)
        if preview is not None:
            preview.detach()
            if preview.parent is not None:
                preview.parent.remove_widget(preview)
            self._preview = None
            if self.session is not None:
                self.session.camera_on(False)

    def _live_tick(self) -> None:
        session = self.session
        if session is None:
            return
        if self.selected == "camera" and getattr(self, "_preview", None) is not None:
            figures = session.camera_figures()
            if figures is not None:
                self._figures_label.text = (
                    f"focus 清晰度 {figures.focus:.0f} ({'ok' if figures.focus_ok else 'blurred 模糊'}) · "
                    f"exposure 亮度 {figures.exposure:.0f} ({'ok' if figures.exposure_ok else 'check 检查'}) · "
                    f"dark {figures.dark_percent:.0f}% bright {figures.bright_percent:.0f}%")
        if self.selected == "locker" and not session.state.busy:
            door = self.door
            session.background(lambda: session.poll_door(door))
