"""What the ``diag`` screen does, without Kivy: one technician's diagnostics session.

``DiagnosticsSession(kiosk, flow)`` holds the report and the state of each interactive check;
the screen shows it and calls its methods, each of which runs the slow part on a worker thread
(``background``) and tells the listeners when something changed (listeners run on that
thread: the screen hops to its own). Every action is audited through the ``TechnicianFlow``.

- ``refresh()``: the whole report (devices from the supervisor's newest checks, backend
  heartbeat and latency, outbox, ports, disk, memory, versions, health history);
- ``check(device, level)``: a device's health check at a UPOS level (internal, external:
  prints a test slip / pulses an empty door, interactive: the ID card reader waits for a card);
- ``print_test_page()``, ``print_slip()`` (the report as a diagnostics slip);
- ``start_scan_test()`` / ``start_card_test()``: while the screen shows, placed cards and
  scanned codes come here (not to the sign-in) and are shown masked;
- ``open_door(n)`` and ``poll_door(n)``: the chosen door's latch and item-sensor bits;
- ``camera_figures()``: focus (variance of the Laplacian) and exposure of the newest frame.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

import numpy as np

from drivers.base import DeviceError, HealthLevel
from drivers.events import Listeners, Subscription
from kiosk.diagnostics.collect import collect, configured_drivers, device_diag
from kiosk.diagnostics.model import DiagReport
from kiosk.privacy import mask_address, mask_id_number, mask_name, mask_text

log = logging.getLogger(__name__)


@dataclass
class CameraFigures:
    focus: float        # variance of the Laplacian of the grey picture (higher: sharper)
    exposure: float     # mean brightness 0–255
    dark_percent: float  # share of pixels at ≤ 5
    bright_percent: float  # share of pixels at ≥ 250
    width: int
    height: int

    @property
    def focus_ok(self) -> bool:
        return self.focus >= FOCUS_SHARP

    @property
    def exposure_ok(self) -> bool:
        return 60 <= self.exposure <= 200 and self.bright_percent < 5 and self.dark_percent < 20


FOCUS_SHARP = 100.0  # a printed page in focus at 1080p scores several hundred; a blurred one tens


def camera_figures_of(image: np.ndarray) -> CameraFigures:
    """Focus and exposure of a BGR (or grey) frame, measured on a copy at most 960 px wide."""
    import cv2

    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    height, width = grey.shape[:2]
    if width > 960:
        grey = cv2.resize(grey, (960, int(height * 960 / width)), interpolation=cv2.INTER_AREA)
    focus = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    return CameraFigures(round(focus, 1), round(float(grey.mean()), 1), round(float((grey <= 5).mean() * 100), 1),
                         round(float((grey >= 250).mean() * 100), 1), width, height)


def masked_card_fields(card: Any) -> list[tuple[str, str]]:
    """(label key, value) of a read card, with name, number and address masked."""
    fields = [("tech.card.type", str(getattr(getattr(card, "card_type", None), "value", "")))]
    if getattr(card, "name", ""):
        fields.append(("tech.card.name", mask_name(card.name)))
    if getattr(card, "id_number", ""):
        fields.append(("tech.card.number", mask_id_number(card.id_number)))
    for key, attr in (("tech.card.gender", "gender"), ("tech.card.nation", "nation")):
        value = getattr(card, attr, None)
        if value:
            fields.append((key, str(value)))
    if getattr(card, "address", None):
        fields.append(("tech.card.address", mask_address(card.address)))
    valid_to = getattr(card, "valid_to", None)
    if valid_to:
        fields.append(("tech.card.valid_to", str(valid_to)))
    photo = getattr(card, "photo_wlt", b"")
    fields.append(("tech.card.photo", f"{len(photo)} bytes"))
    return fields


@dataclass
class DoorBits:
    door: int
    latch: int  # 1: latch shut (closed and locked)
    sensor: int | None  # 1: item present; None: the board has no item sensor
    at: str = ""


@dataclass
class SessionState:
    report: DiagReport | None = None
    busy: str = ""             # what runs now ("refresh", "check idcard external"…)
    message: str = ""          # the outcome of the last action, for the technician (plain text)
    scan: dict[str, str] = field(default_factory=dict)      # kind, source, text (masked)
    card: list[tuple[str, str]] = field(default_factory=list)
    card_problem: str = ""
    door: DoorBits | None = None


class DiagnosticsSession:
    def __init__(self, kiosk: Any, flow: Any, background: Callable[[Callable[[], None]], Any] | None = None):
        self.kiosk = kiosk
        self.flow = flow
        self.background = background or (lambda work: threading.Thread(target=work, daemon=True).start())
        self.state = SessionState()
        self._listeners: Listeners["DiagnosticsSession"] = Listeners("diagnostics")
        self._claim: Subscription | None = None
        self._lock = threading.Lock()

    # -- observers ---------------------------------------------------------------------------
    def subscribe(self, listener: Callable[["DiagnosticsSession"], None]) -> Subscription:
        return self._listeners.add(listener)

    def _changed(self) -> None:
        self._listeners.publish(self)

    def _run(self, what: str, work: Callable[[], None]) -> None:
        with self._lock:
            if self.state.busy:
                return
            self.state.busy = what
        self._changed()

        def run() -> None:
            try:
                work()
            except Exception as exc:  # shown to the technician, logged for the record
                log.exception("diagnostics action failed", extra={"fields": {"action": what}})
                self.state.message = mask_text(f"{what}: {type(exc).__name__}: {exc}")
            finally:
                self.state.busy = ""
                self._changed()
        self.background(run)

    # -- the report -----------------------------------------------------------------------------
    def refresh(self) -> None:
        kiosk = self.kiosk

        def work() -> None:
            from kiosk.backend.service import default_state_dir

            self.state.report = collect(kiosk.settings, kiosk.devices, kiosk.backend, run_checks=False,
                                        state_dir=str(default_state_dir()))
        self._run("refresh", work)

    def check(self, device: str, level: str) -> None:
        level = HealthLevel(level)
        manager = self.kiosk.devices

        def work() -> None:
            target = manager.device(device) if manager is not None else None
            if target is None:
                self.state.message = f"{device}: not running"
                return
            report = target.check_health(level)
            diag = device_diag(manager, device, configured_drivers(self.kiosk.settings)[device], report)
            if self.state.report is not None:
                self.state.report.devices = [diag if d.name == device else d for d in self.state.report.devices]
            self.state.message = f"{device} [{level.value}]: {'OK' if report.ok else 'FAULT'} — {report.summary}"
            self.flow.act("health_check", device, f"level {level.value}", "ok" if report.ok else "failed")
        self._run(f"check {device} {level.value}", work)

    # -- printing ---------------------------------------------------------------------------------
    def print_test_page(self) -> None:
        self.check("printer", "external")

    def print_slip(self) -> None:
        kiosk = self.kiosk

        def work() -> None:
            from kiosk.diagnostics.slip import slip_bytes

            printer = kiosk.devices.printer if kiosk.devices is not None else None
            queue = kiosk.print_queue
            if printer is None or queue is None or self.state.report is None:
                self.state.message = "no printer"
                self.flow.act("print_diagnostics", "printer", "", "failed")
                return
            queue.submit("diagnostics", slip_bytes(self.state.report, printer))
            self.state.message = "diagnostics slip sent to the printer"
            self.flow.act("print_diagnostics", "printer", "", "ok")
        self._run("print slip", work)

    # -- cards and codes ------------------------------------------------------------------------------
    def hold_inputs(self) -> None:
        """Cards and codes come to the diagnostics screen while it shows (not to the sign-in)."""
        if self._claim is None and self.kiosk.inputs is not None:
            self._claim = self.kiosk.inputs.claim("diagnostics", on_card=self._on_card, on_payload=self._on_payload)

    def release_inputs(self) -> None:
        if self._claim is not None:
            self._claim.cancel()
            self._claim = None

    def _on_payload(self, payload: Any) -> None:
        text = payload.text if getattr(payload, "accepted", False) else ""
        self.state.scan = {"kind": str(payload.kind), "source": str(getattr(payload, "source", "")),
                           "text": mask_text(text)[:80] if text else str(getattr(payload, "problem", ""))}
        self.flow.act("scan_test", "scanner", str(payload.kind), "ok" if payload.accepted else "refused")
        self._changed()

    def _on_card(self, event: Any) -> None:
        card, error = getattr(event, "card", None), getattr(event, "error", None)
        if card is not None:
            self.state.card, self.state.card_problem = masked_card_fields(card), ""
            self.flow.act("read_card", "idcard", str(getattr(card.card_type, "value", "")), "ok")
        elif error is not None:
            self.state.card, self.state.card_problem = [], str(error)
            self.flow.act("read_card", "idcard", getattr(error, "code", ""), "failed")
        else:
            return
        self._changed()

    # -- the locker -------------------------------------------------------------------------------------
    def poll_door(self, door: int) -> None:
        locker = self.kiosk.devices.locker if self.kiosk.devices is not None else None
        if locker is None or not locker.is_open:
            return
        try:
            state = locker.query_door(door)
        except (DeviceError, ValueError) as exc:
            self.state.door = None
            self.state.message = str(exc)
        else:
            self.state.door = DoorBits(door, int(state.closed), None if state.item_present is None
                                       else int(state.item_present), datetime.now().strftime("%H:%M:%S"))
        self._changed()

    def open_door(self, door: int) -> None:
        locker = self.kiosk.devices.locker if self.kiosk.devices is not None else None

        def work() -> None:
            if locker is None:
                self.state.message = "no locker"
                return
            try:
                locker.open_door(door)
            except (DeviceError, ValueError) as exc:
                self.state.message = f"door {door}: {exc}"
                self.flow.act("open_door", "locker", f"door {door}", "failed")
            else:
                self.state.message = f"door {door} unlocked"
                self.flow.act("open_door", "locker", f"door {door}", "ok")
            self.poll_door(door)
        self._run(f"open door {door}", work)

    # -- the camera ---------------------------------------------------------------------------------------
    def camera_on(self, on: bool) -> None:
        manager = self.kiosk.devices
        if manager is None or manager.camera is None:
            return
        (manager.enable if on else manager.disable)("camera")
        if on:
            self.flow.act("camera_view", "camera")

    def camera_figures(self) -> CameraFigures | None:
        camera = self.kiosk.devices.camera if self.kiosk.devices is not None else None
        frame = camera.latest() if camera is not None and camera.enabled else None
        return camera_figures_of(frame.image) if frame is not None else None

    def end(self) -> None:
        self.release_inputs()
        self.camera_on(False)
