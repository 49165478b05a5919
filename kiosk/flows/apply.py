"""申请: a signed-in resident applies for a service item at the kiosk (issue 11).

The journey follows the item's application definition (``ApplicationSpec``, data in the
catalogue). As states:

- ``identify``: nobody is signed in yet; the journey waits for the kiosk-wide sign-in (card
  or identity code, or 代办) and then goes on by itself;
- ``ineligible``: a condition the card proves is not met (too young for 高龄津贴): the screen
  says kindly from which date the resident can apply; the journey cannot go on;
- ``form``: the fields, pre-filled from the identity, the rest typed; each field is checked as
  it is left (``set_field``), all of them on ``next``;
- ``materials``: one material at a time. Materials the ID card provides are ticked at once;
  where the backend holds an electronic licence (电子证照) it is ticked "已调取电子证照". Pages
  are captured automatically when the outline holds still, or with ``capture_now`` (each tap
  adds a page), retaken or removed; ``signing`` replaces a material by signing its 告知承诺 on
  the pad; ``notice`` prints the 一次性告知单 of everything still missing;
- ``consent``: one box for this application's personal data, and one more whenever a captured
  image holds sensitive personal information; declining ends the journey and wipes the pages;
- ``delivery`` (and ``post_address`` for 免费邮寄): how the result is received;
- ``review``: everything on one page; ``edit(part)`` goes back to a part and returns here;
- ``submitting``: the application goes through the outbox with the upload's progress;
  a backend that is down (or slower than ``patience`` seconds) leaves it waiting, encrypted,
  and the resident gets the receipt "网络恢复后自动提交" with the local reference;
- ``done``: the acceptance number (or the local reference), and the receipt printing;
- ``refused``: the backend refused it for good (e.g. a missing material): the reason, and the
  way back to the review;
- ``left``: the resident declined the consent, or left with the 一次性告知单.

The flow runs the camera only while a material is being captured, and keeps every captured
page in the session's scratch folder, which ends with the session (返回首页, 退出, inactivity).
Slow work (captures, the licence look-up, the submission, printing) runs through
``background``; listeners hear every change on whichever thread made it.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

from kiosk.apply import eligibility, form, slips, submission
from kiosk.apply.materials import (COMMITMENT, E_LICENCE, ID_CARD, PAGES, PENDING, SKIPPED, MaterialState)
from kiosk.apply.pages import PageFile, discard, write_page
from kiosk.apply.signature import has_ink, render_commitment
from kiosk.flows.base import Background, Flow
from kiosk.session import Session

log = logging.getLogger(__name__)

(IDENTIFY, INELIGIBLE, FORM, MATERIALS, SIGNING, NOTICE, CONSENT, DELIVERY, POST_ADDRESS, REVIEW, SUBMITTING,
 DONE, REFUSED, LEFT) = ("identify", "ineligible", "form", "materials", "signing", "notice", "consent", "delivery",
                         "post_address", "review", "submitting", "done", "refused", "left")
PARTS = ("form", "materials", "consent", "delivery")
ASPECTS = {"a4": "a4", "card": "id_card", "photo": "free"}
POST_ADDRESS_MIN = 6


@dataclass(frozen=True)
class Terminal:
    """What the receipts and the locker choice need to know about this terminal."""

    terminal_id: str
    name: str
    service_phone: str = ""
    logo: str = ""


@dataclass
class Delivery:
    method: str = ""
    centre: str = ""
    address: str = ""
    phone: str = ""


class _LockedCapture:
    """``MaterialCapture.observe`` for the detector thread, under the flow's camera lock."""

    def __init__(self, capture: Any, lock: threading.RLock):
        self.capture = capture
        self.lock = lock

    @property
    def options(self) -> Any:
        """What the material asks for (its aspect: a card-sized one lets a coloured card count)."""
        return self.capture.options

    def observe(self, frame: Any, detection: Any) -> Any:
        with self.lock:
            return self.capture.observe(frame, detection)


def _timer(seconds: float, callback: Callable[[], None]) -> Any:
    timer = threading.Timer(seconds, callback)
    timer.daemon = True
    timer.start()
    return timer


class ApplyFlow(Flow):
    name = "apply"
    initial = IDENTIFY
    TRANSITIONS = {
        IDENTIFY: (INELIGIBLE, FORM),
        INELIGIBLE: (),
        FORM: (MATERIALS, CONSENT, REVIEW),
        MATERIALS: (FORM, SIGNING, NOTICE, CONSENT, REVIEW),
        SIGNING: (MATERIALS,),
        NOTICE: (MATERIALS, LEFT),
        CONSENT: (MATERIALS, FORM, DELIVERY, REVIEW, LEFT),
        DELIVERY: (CONSENT, POST_ADDRESS, REVIEW),
        POST_ADDRESS: (DELIVERY, REVIEW),
        REVIEW: (FORM, MATERIALS, CONSENT, DELIVERY, POST_ADDRESS, SUBMITTING),
        SUBMITTING: (DONE, REFUSED),
        REFUSED: (REVIEW, FORM, MATERIALS),
        DONE: (),
        LEFT: (),
    }

    def __init__(self, item: Any, session: Session, backend: Callable[[], Any | None], background: Background, *,
                 terminal: Terminal, camera: Any | None = None,
                 capture_options: Callable[[str], Any] | None = None,
                 printing: Callable[[], tuple[Any, Any] | None] = lambda: None,
                 has_locker: Callable[[], bool] = lambda: False,
                 today: Callable[[], dt.date] = dt.date.today,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now().astimezone(),
                 patience: float = 12.0, start_timer: Callable[[float, Callable[[], None]], Any] = _timer,
                 live_detector: Callable[..., Any] | None = None):
        """``item``: the ``CatalogItem`` (with ``application``); ``camera``: a ``CameraAccess``;
        ``capture_options(kind)``: a ``CaptureOptions`` for a material kind; ``printing()``: the
        ``PrintQueue`` and its ``Target`` (None without a printer); ``patience``: seconds a
        resident waits for the backend before the offline receipt."""
        super().__init__()
        if item.application is None:
            raise ValueError(f"{item.code} carries no application definition")
        self.item = item
        self.spec = item.application
        self.session = session
        self.backend = backend
        self.background = background
        self.terminal = terminal
        self.camera = camera
        self.capture_options = capture_options
        self.printing = printing
        self.has_locker = has_locker
        self.today = today
        self.now = now
        self.patience = patience
        self.start_timer = start_timer
        self.live_detector = live_detector
        # collected
        self.values: dict[str, str] = {}
        self._prefilled: dict[str, str] = {}
        self.field_problems: dict[str, form.Problem] = {}
        self.refusal: eligibility.Refusal | None = None
        self.materials: list[MaterialState] = []
        self.current = 0  # index into ``materials``
        self.looking_up = False
        self.capturing = False
        self.camera_ok = True
        self.consent: dict[str, bool] = {}
        self.delivery = Delivery()
        self.address_problem: form.Problem | None = None
        self.editing = False
        self.agreed_at: dt.datetime | None = None
        # submitting and after
        self.progress: tuple[int, int] = (0, 0)
        self.result: Any = None  # the SubmitResult once delivered
        self.local_reference = ""
        self.waiting_reason = ""  # "down" | "slow": why the offline receipt was given
        self.submitted_at: dt.datetime | None = None
        self.receipt_key = ""  # what the receipt's print job tells the resident (receipt.printed …)
        self.notice_key = ""
        self._stored: Any = None
        self._patience_timer: Any = None
        self._captures: dict[int, Any] = {}
        self._last_capture: Any = None  # the MaterialCapture that took the last page (its place and look)
        self._camera_lock = threading.RLock()
        self._detector: Any = None
        self._camera_running = False
        self._licences_checked = False
        self._print_data: dict[bytes, str] = {}

    # -- start and end ----------------------------------------------------------------------
    def start(self) -> "ApplyFlow":
        self.hold(self.session.subscribe(self._session_event))
        if self.camera is not None:
            self.hold(self.camera.subscribe(lambda available: self._camera_changed(available)))
            self.camera_ok = self.camera.available()
        queue = self._queue()
        if queue is not None:
            self.hold(queue.subscribe(self._job_changed))
        log.info("application started", extra={"fields": {"item": self.item.code,
                                                          "signed_in": self.session.signed_in}})
        if self.session.signed_in:
            self._identified()
        return self

    def _session_event(self, event: str, _reason: str) -> None:
        if event == "ended":
            self.end()
        elif event == "identified" and self.state == IDENTIFY:
            self._identified()

    def end(self) -> None:
        if self.ended:
            return
        self._camera_off()
        if self._patience_timer is not None:
            self._patience_timer.cancel()
        self._wipe_pages()
        self.values.clear()
        super().end()
        log.info("application journey ended", extra={"fields": {"item": self.item.code}})

    def _changed(self) -> None:
        """Tell the listeners about a change that is not a move (a page, a tick, progress)."""
        if not self.ended:
            self._listeners.publish(self)

    # -- identification and conditions ------------------------------------------------------
    @property
    def identity(self) -> Any:
        return self.session.identity

    @property
    def agent(self) -> Any:
        return self.session.agent

    def _identified(self) -> None:
        identity = self.identity
        if identity is None:
            return
        birth = identity.birth_date
        if not birth and identity.id_type == "resident_id":
            from kiosk.flows.identify import birth_date_of

            birth = birth_date_of(identity.id_number)
        refusal = eligibility.first_refusal(self.spec.conditions, birth, self.today())
        if refusal is not None:
            self.refusal = refusal
            log.info("applicant does not meet a condition", extra={"fields": {"item": self.item.code,
                                                                              "condition": refusal.key}})
            self._go(INELIGIBLE, refusal.key, **refusal.values)
            return
        self.values = form.prefill(self.spec.fields, identity)
        self._prefilled = dict(self.values)
        self.materials = self._material_states()
        self._go(FORM)

    def _material_states(self) -> list[MaterialState]:
        records = self.item.data.get("materials") or []
        states = []
        by_card = self.identity is not None and self.identity.source == "idcard"
        for spec in self.spec.materials:
            if spec.agent_only and self.agent is None:
                continue
            record = records[spec.index] if spec.index < len(records) and isinstance(records[spec.index], dict) else {}
            required = record.get("required") is not False or (spec.agent_only and self.agent is not None)
            note = " ".join(str(record.get(key) or "").strip() for key in ("sample", "note")).strip()
            state = MaterialState(spec.index, str(record.get("name") or f"材料{spec.index + 1}"), spec, required, note)
            if spec.satisfied_by_card and by_card:
                state.how = ID_CARD
            states.append(state)
        return states

    # -- the form ---------------------------------------------------------------------------
    def field(self, key: str) -> Any:
        return next((spec for spec in self.spec.fields if spec.key == key), None)

    def field_editable(self, key: str) -> bool:
        """Whether the resident types (or chooses) this field: typed fields, and fields whose
        source gave nothing to show (an identity code without an address)."""
        spec = self.field(key)
        if spec is None:
            return False
        return spec.is_editable or not self._prefilled.get(key)

    def set_field(self, key: str, text: str) -> bool:
        """The resident left field ``key`` with ``text`` (or chose an option): keep it, check it."""
        spec = self.field(key)
        if spec is None or self.state != FORM or not self.field_editable(key):
            return False
        value, problem = form.check(spec, text)
        with self._lock:
            self.values[key] = value
            if problem is None:
                self.field_problems.pop(key, None)
            else:
                self.field_problems[key] = problem
        self._say("" if not self.field_problems else self.problem)
        self._changed()
        return problem is None

    def _check_form(self) -> bool:
        problems = {}
        for spec in self.spec.fields:
            value, problem = form.check(spec, self.values.get(spec.key, ""))
            if self.field_editable(spec.key) or not problem:
                self.values[spec.key] = value
            if problem is not None:
                problems[spec.key] = problem
        self.field_problems = problems
        return not problems

    # -- moving on and back -----------------------------------------------------------------
    def next(self) -> None:
        """``apply.next``: on from the form, the current material, or the post address."""
        with self._lock:
            state = self.state
            if state == FORM:
                if not self._check_form():
                    self._say("apply.check_fields")
                    self._changed()
                    return
                if self.editing:
                    self._back_to_review()
                elif self.materials:
                    self._enter_materials()
                else:
                    self._go(CONSENT)
            elif state == MATERIALS:
                self._next_material()
            elif state == POST_ADDRESS:
                pass  # the address comes with submit_address

    def back(self) -> None:
        """``apply.back``: the step before this one."""
        with self._lock:
            state = self.state
            self.editing = False
            if state == MATERIALS:
                previous = self._askable(before=self.current)
                if previous is not None:
                    self._select(previous)
                else:
                    self._camera_off()
                    self._go(FORM)
            elif state == CONSENT:
                if self.materials:
                    self._enter_materials(last=True)
                else:
                    self._go(FORM)
            elif state == DELIVERY:
                self._go(CONSENT)
            elif state == POST_ADDRESS:
                self._go(DELIVERY)
            elif state == REVIEW:
                self._go(DELIVERY)
            elif state in (SIGNING, NOTICE):
                self._go(MATERIALS)
                self._camera_on()

    def edit(self, part: str) -> None:
        """``review.edit.<part>``: change one part, then come back to the review."""
        if part not in PARTS:
            raise ValueError(f"unknown part {part!r}")
        with self._lock:
            if self.state not in (REVIEW, REFUSED):
                return
            self.editing = True
            if part == "form":
                self._go(FORM)
            elif part == "materials":
                if not self.materials:
                    self.editing = False
                    return
                self._go(MATERIALS)
                first = self._askable(start=0)
                self._select(first if first is not None else 0)
            elif part == "consent":
                self._go(CONSENT)
            else:
                self._go(DELIVERY)

    def _back_to_review(self) -> None:
        self._camera_off()
        self.editing = False
        if self.state == MATERIALS and self._needs_sensitive_consent():
            self._go(CONSENT)  # a new sensitive image needs its own consent first
            return
        self._go(REVIEW)

    # -- materials --------------------------------------------------------------------------
    @property
    def material(self) -> MaterialState | None:
        return self.materials[self.current] if 0 <= self.current < len(self.materials) else None

    def _askable(self, start: int | None = None, before: int | None = None) -> int | None:
        """The first material from ``start`` (or the last before ``before``) the resident acts on."""
        indexes = range(len(self.materials))
        if before is not None:
            candidates = [i for i in indexes if i < before and not self.materials[i].automatic]
            return candidates[-1] if candidates else None
        return next((i for i in indexes if i >= (start or 0) and not self.materials[i].automatic), None)

    def _enter_materials(self, last: bool = False) -> None:
        self._go(MATERIALS)
        if last:
            candidates = [i for i, m in enumerate(self.materials) if not m.automatic]
            self._select(candidates[-1] if candidates else 0)
        else:
            first = self._askable(start=0)
            self._select(first if first is not None else 0)
        self._look_up_licences()

    def _select(self, index: int) -> None:
        self.current = index
        material = self.material
        self._say("")
        if material is not None and not material.automatic and self.state == MATERIALS:
            self._camera_on()
        else:
            self._camera_off()
        self._changed()

    def choose_material(self, position: int) -> None:
        """The resident touched a material in the list (``materials.item.N``, 0-based here)."""
        with self._lock:
            if self.state == MATERIALS and 0 <= position < len(self.materials):
                self._select(position)

    def _next_material(self) -> None:
        material = self.material
        if material is not None and not material.automatic and not material.provided:
            if material.required:
                self._say("apply.material_missing", name=material.name)
                return
            material.how = SKIPPED
        following = self._askable(start=self.current + 1)
        if following is not None:
            self._select(following)
            return
        still = next((m for m in self.materials if m.missing), None)
        if still is not None:
            self._select(self.materials.index(still))
            self._say("apply.material_missing", name=still.name)
            return
        self._camera_off()
        if self.editing:
            self._back_to_review()
        else:
            self._go(CONSENT)

    def missing_materials(self) -> list[MaterialState]:
        return [m for m in self.materials if m.missing]

    def _look_up_licences(self) -> None:
        if self._licences_checked:
            return
        self._licences_checked = True
        wanted = [m for m in self.materials if m.spec.licence and m.how == PENDING]
        backend = self.backend()
        identity = self.identity
        if not wanted or backend is None or identity is None:
            return
        kinds = sorted({m.spec.licence for m in wanted})
        self.looking_up = True
        self._changed()

        def run() -> None:
            try:
                found = backend.find_licences(identity.id_number, kinds, identity.id_type)
            except Exception as exc:  # no licences then: the resident photographs the material
                log.info("electronic licences not looked up", extra={"fields": {"error": type(exc).__name__}})
                found = []
            with self._lock:
                self.looking_up = False
                if self.ended:
                    return
                by_kind = {licence.kind: licence for licence in found}
                for material in self.materials:
                    licence = by_kind.get(material.spec.licence) if material.spec.licence else None
                    if licence is not None and material.how == PENDING and not material.pages:
                        material.how, material.licence = E_LICENCE, licence
                log.info("electronic licences found", extra={"fields": {"item": self.item.code, "found": len(found)}})
                if self.state == MATERIALS and self.material is not None and self.material.automatic:
                    following = self._askable(start=self.current)
                    self._select(following if following is not None else self.current)
                self._changed()
        self.background(run)

    # -- the camera -------------------------------------------------------------------------
    def _camera_on(self) -> None:
        material = self.material
        if self.camera is None or material is None or self.state != MATERIALS:
            return
        with self._camera_lock:
            capture = self._captures.get(material.index)
            if capture is None:
                from kiosk.vision.capture import CaptureOptions, MaterialCapture

                options = (self.capture_options(ASPECTS[material.spec.kind]) if self.capture_options
                           else CaptureOptions(aspect=ASPECTS[material.spec.kind]))
                capture = self._captures[material.index] = MaterialCapture(options)
                # what lies there now may be the last material; a camera in standby shows nothing
                # yet: then the page the last capture took stands for it
                device = self.camera.device()
                capture.wait_for_new_page(self._last_capture, in_view=device is not None and device.latest() is not None)
            if self._detector is not None and getattr(self._detector, "capture", None) is not None \
                    and self._detector.capture.capture is capture:
                return
            self._stop_detector()
            if not self._camera_running:
                self.camera.start()
                self._camera_running = True
            device = self.camera.device()
            if device is None:
                return
            make = self.live_detector
            if make is None:
                from kiosk.vision.live import LiveDetector as make
            self._detector = make(device.latest, capture=_LockedCapture(capture, self._camera_lock),
                                  on_result=self._on_live, max_rate=10.0)
            self._detector.start()

    def _stop_detector(self) -> None:
        detector, self._detector = self._detector, None
        if detector is not None:
            detector.stop()

    def _camera_off(self) -> None:
        with self._camera_lock:
            self._stop_detector()
            if self._camera_running and self.camera is not None:
                self.camera.stop()
            self._camera_running = False

    def live(self) -> tuple[Callable[[], Any], Callable[[], Any]] | None:
        """What the preview draws: (newest frame, newest detection result), or None."""
        device = self.camera.device() if self.camera is not None else None
        detector = self._detector
        if device is None or detector is None:
            return None
        return device.latest, lambda: detector.latest

    def _on_live(self, result: Any) -> None:
        if result.hint is not None and result.hint.state == "ready" and not self.capturing:
            self._start_capture(auto=True, detection=result.detection)

    def _camera_changed(self, available: bool) -> None:
        with self._lock:
            self.camera_ok = available
            if self.state != MATERIALS:
                return
            if not available:
                log.warning("camera unavailable while capturing materials", extra={"fields": {
                    "item": self.item.code, "pages_kept": sum(len(m.pages) for m in self.materials)}})
                self._say("apply.camera_unavailable")
            elif self.problem == "apply.camera_unavailable":
                self._say("")
        self._changed()

    def capture_now(self) -> None:
        """``materials.capture``: take a page now (one more page, or the page being retaken)."""
        with self._lock:
            if self.state != MATERIALS or self.material is None or self.material.automatic:
                return
            if not self.camera_ok or self.camera is None or self.camera.device() is None:
                self._say("apply.camera_unavailable")
                return
            detector = self._detector
            latest = detector.latest if detector is not None else None
            detection = latest.detection if latest is not None else None
        self._start_capture(auto=False, detection=detection)

    def _start_capture(self, auto: bool, detection: Any) -> None:
        with self._lock:
            if self.capturing or self.state != MATERIALS or self.material is None:
                return
            material = self.material
            if material.how == COMMITMENT:
                for page in material.pages:
                    discard(page)
                material.pages, material.how = [], PENDING
            self.capturing = True
        self._changed()
        self.background(lambda: self._capture(material, auto, detection))

    def _capture(self, material: MaterialState, auto: bool, detection: Any) -> None:
        problem = ""
        try:
            device = self.camera.device() if self.camera is not None else None
            frame = device.latest() if device is not None else None
            if frame is None:
                problem = "apply.camera_unavailable"
                return
            with self._camera_lock:
                capture = self._captures.get(material.index)
                if capture is None:
                    return
                retaking = capture.retaking
                page = capture.capture(frame.image, detection, auto=auto)
                self._last_capture = capture
                from kiosk.vision.output import encode_jpeg

                options = capture.options
                data = encode_jpeg(page.image, options.dpi, options.jpeg_quality, options.max_file_kb * 1024)
                page.image = page.image[:1, :1]  # the file holds the page now; keep no full image in memory
            stored = write_page(self._folder(), f"m{material.index}", data)
            with self._lock:
                if self.ended:
                    discard(stored)
                    return
                if retaking is not None and retaking < len(material.pages):
                    discard(material.pages[retaking])
                    material.pages[retaking] = stored
                else:
                    material.pages.append(stored)
                material.how = PAGES
            log.info("material page kept", extra={"fields": {"item": self.item.code, "material": material.index,
                                                             "pages": len(material.pages), "auto": auto,
                                                             "bytes": stored.size}})
        except Exception as exc:  # the resident is told; the pages already taken stay
            log.warning("page capture failed", extra={"fields": {"error": type(exc).__name__}})
            problem = "apply.capture_failed"
        finally:
            with self._lock:
                self.capturing = False
                if self.state == MATERIALS:
                    self._say(problem)
            self._changed()

    def retake(self, page: int) -> None:
        """``materials.retake.N`` (0-based here): the next capture replaces this page."""
        with self._lock:
            material = self.material
            capture = self._captures.get(material.index) if material is not None else None
            if capture is None or not 0 <= page < len(material.pages):
                return
            with self._camera_lock:
                capture.retake(page)
            self._say("")
        self._changed()

    def retaking(self) -> int | None:
        material = self.material
        capture = self._captures.get(material.index) if material is not None else None
        return capture.retaking if capture is not None else None

    def remove_page(self, page: int) -> None:
        """``materials.remove.N``: drop this page."""
        with self._lock:
            material = self.material
            if material is None or not 0 <= page < len(material.pages):
                return
            capture = self._captures.get(material.index)
            if capture is not None and page < len(capture.pages):
                with self._camera_lock:
                    capture.remove(page)
            discard(material.pages.pop(page))
            if not material.pages:
                material.how = PENDING
        self._changed()

    def _folder(self):
        return self.session.scratch_dir() / "apply"

    # -- 告知承诺 ------------------------------------------------------------------------------
    @property
    def can_commit(self) -> bool:
        material = self.material
        return material is not None and bool(material.spec.commitment) and not material.automatic

    def start_signing(self) -> None:
        """``materials.commit``: replace this material by signing its commitment."""
        with self._lock:
            if self.state == MATERIALS and self.can_commit:
                self._camera_off()
                self._go(SIGNING)

    def cancel_signing(self) -> None:
        with self._lock:
            if self.state == SIGNING:
                self._go(MATERIALS)
                self._camera_on()

    def sign(self, strokes: list[list[tuple[float, float]]]) -> bool:
        """``signature.done``: the strokes (pad unit square, y downwards) become the material's page."""
        with self._lock:
            if self.state != SIGNING or self.material is None:
                return False
            if not has_ink(strokes):
                self._say("apply.sign_please")
                return False
            material = self.material
            identity = self.identity
        data = render_commitment("告知承诺书", self.item.name, material.spec.commitment, identity.name, strokes,
                                 self.now(), assisted_by=self.agent.name if self.agent is not None else "")
        stored = write_page(self._folder(), f"m{material.index}-commitment", data)
        with self._lock:
            for page in material.pages:
                discard(page)
            capture = self._captures.pop(material.index, None)
            if capture is not None:
                capture.clear()
            material.pages, material.how = [stored], COMMITMENT
            log.info("commitment signed", extra={"fields": {"item": self.item.code, "material": material.index}})
            self._go(MATERIALS)
        self._changed()
        return True

    # -- 一次性告知单 --------------------------------------------------------------------------
    def print_notice(self) -> None:
        """``materials.notice``: print everything still missing and where to get it."""
        with self._lock:
            if self.state != MATERIALS:
                return
            self._camera_off()
            missing = self.missing_materials()
            record = self.item.data
            slip = slips.NoticeSlip(
                terminal_id=self.terminal.terminal_id, terminal_name=self.terminal.name,
                service_phone=self.terminal.service_phone, item_name=self.item.name, department=self.item.department,
                phone=str(record.get("phone") or ""),
                missing=tuple(slips.MissingMaterial(m.name, m.spec.where_to_get, m.note) for m in missing),
                ready=tuple(m.name for m in self.materials if m.provided),
                locations=tuple(str(place.get("name")) for place in record.get("locations") or []
                                if isinstance(place, dict) and place.get("name")))
            self.notice_key = "receipt.printing"
            self._go(NOTICE)
        log.info("一次性告知单 printed", extra={"fields": {"item": self.item.code, "missing": len(missing)}})
        self._print(slips.notice_slip(slip, self.terminal.logo), "notice")

    def leave(self) -> None:
        """After the 一次性告知单: leave without submitting (the session ends on the screen's way home)."""
        with self._lock:
            if self.state == NOTICE:
                self._go(LEFT)
        self.end()

    # -- consent ----------------------------------------------------------------------------
    def _needs_sensitive_consent(self) -> bool:
        return "sensitive" in self.consent_boxes and not self.consent.get("sensitive")

    @property
    def consent_boxes(self) -> list[str]:
        """``terms`` always; ``sensitive`` when a captured image holds sensitive personal information."""
        return ["terms"] + (["sensitive"] if any(m.sensitive_image for m in self.materials) else [])

    def consent_text(self) -> str:
        return f"用途：{self.spec.purpose}。收集：{self.spec.collected}。保存：{self.spec.retention}。"

    def tick(self, box: str) -> None:
        """``consent.terms`` / ``consent.sensitive``: tick or untick."""
        with self._lock:
            if self.state == CONSENT and box in self.consent_boxes:
                self.consent[box] = not self.consent.get(box, False)
                if self.problem == "apply.consent_all":
                    self._say("")
        self._changed()

    def agree(self) -> None:
        """``consent.agree``: on once every box shown is ticked."""
        with self._lock:
            if self.state != CONSENT:
                return
            if not all(self.consent.get(box) for box in self.consent_boxes):
                self._say("apply.consent_all")
                return
            self.agreed_at = self.now()
            if self.editing and self.delivery.method:
                self.editing = False
                self._go(REVIEW)
            else:
                self._go(DELIVERY)

    def decline(self) -> None:
        """``consent.decline``: no application; what was captured is wiped now."""
        with self._lock:
            if self.state != CONSENT:
                return
            self._wipe_pages()
            log.info("consent declined: application dropped", extra={"fields": {"item": self.item.code}})
            self._go(LEFT)
        self.end()

    def _wipe_pages(self) -> None:
        for material in self.materials:
            for page in material.pages:
                discard(page)
            material.pages = []
            if material.how in (PAGES, COMMITMENT):
                material.how = PENDING
        with self._camera_lock:
            self._captures.clear()
            self._last_capture = None

    # -- delivery ---------------------------------------------------------------------------
    def delivery_options(self) -> list[str]:
        return [method for method in self.spec.delivery if method != "locker" or self.has_locker()]

    def centres(self) -> list[str]:
        return [str(place.get("name")) for place in self.item.data.get("locations") or []
                if isinstance(place, dict) and place.get("name")]

    def default_centre(self) -> str:
        centres = self.centres()
        here = next((c for c in centres if c and c in self.terminal.name), None)
        return here or (centres[0] if centres else self.terminal.name)

    def choose_delivery(self, method: str) -> None:
        """``delivery.window`` / ``delivery.post`` / ``delivery.locker``."""
        with self._lock:
            if self.state not in (DELIVERY, POST_ADDRESS) or method not in self.delivery_options():
                return
            self.delivery.method = method
            if method == "window" and not self.delivery.centre:
                self.delivery.centre = self.default_centre()
            if method == "post":
                identity = self.identity
                self.delivery.address = self.delivery.address or (identity.address if identity else "")
                self.delivery.phone = self.delivery.phone or self.values.get("phone", "")
                self.address_problem = None
                self._go(POST_ADDRESS)
                return
            self.editing = False
            self._go(REVIEW)

    def choose_centre(self, centre: str) -> None:
        with self._lock:
            if centre in self.centres():
                self.delivery.centre = centre
        self._changed()

    def submit_address(self, address: str, phone: str) -> bool:
        """``apply.next`` on the post address: check it, then to the review."""
        with self._lock:
            if self.state != POST_ADDRESS:
                return False
            address, phone = address.strip(), phone.strip()
            self.delivery.address, self.delivery.phone = address, phone
            if len(address) < POST_ADDRESS_MIN:
                self.address_problem = form.Problem("apply.address_short", {"n": POST_ADDRESS_MIN})
            elif not form.PHONE.fullmatch(phone):
                self.address_problem = form.Problem("apply.field_phone", {"label": "联系电话"})
            else:
                self.address_problem = None
            if self.address_problem is not None:
                self._say("apply.check_fields")
                self._changed()
                return False
            self.editing = False
            self._go(REVIEW)
            return True

    def delivery_text(self, for_receipt: bool = False) -> str:
        from kiosk.privacy import mask_phone

        method = self.delivery.method
        if method == "window":
            return f"窗口领取：{self.delivery.centre}"
        if method == "post":
            if for_receipt:
                return f"免费邮寄到您填写的地址（电话 {mask_phone(self.delivery.phone)}）"
            return f"免费邮寄：{self.delivery.address}（电话 {self.delivery.phone}）"
        if method == "locker":
            return "本机自助柜取件（办结后短信通知取件码）"
        return ""

    def _delivery_choice(self) -> Any:
        from kiosk.backend import models as m

        method = self.delivery.method
        if method == "window":
            return m.DeliveryChoice(method="window", centre=self.delivery.centre[:200])
        if method == "post":
            return m.DeliveryChoice(method="post", address=self.delivery.address[:200], phone=self.delivery.phone)
        return m.DeliveryChoice(method="locker", terminal_id=self.terminal.terminal_id)

    # -- submitting -------------------------------------------------------------------------
    def submit(self) -> None:
        """``review.submit``: through the outbox, with the upload's progress."""
        with self._lock:
            if self.state != REVIEW:
                return
            missing = self.missing_materials()
            if missing:
                self._say("apply.material_missing", name=missing[0].name)
                return
            self.progress = (0, 0)
            self.submitted_at = self.now()
            self._go(SUBMITTING)
        self.background(self._submit)

    def _submit(self) -> None:
        from kiosk.backend.outcomes import message_key
        from kiosk.backend.service import Delivered, Queued

        backend = self.backend()
        if backend is None:
            self._go(REFUSED, "apply.no_backend")
            return
        try:
            create, pages = submission.build(
                self.item.code, self.identity, self.agent, self.values, self.materials, self.consent_text(),
                "sensitive" in self.consent_boxes, self.agreed_at or self.now(), self._delivery_choice())
        except Exception as exc:  # a bug or a vanished file: nothing was stored
            log.error("application could not be put together", extra={"fields": {"error": type(exc).__name__}})
            self._go(REFUSED, "apply.submit_failed")
            return
        total = sum(len(page[3]) for page in pages)
        log.info("submitting application", extra={"fields": {"item": self.item.code, "pages": len(pages),
                                                             "bytes": total, "agent": self.agent is not None}})
        self._patience_timer = self.start_timer(self.patience, self._too_slow)
        try:
            outcome = backend.submit_application(create, pages, progress=self._on_progress, on_stored=self._on_stored)
        except Exception as exc:  # the outbox could not store it: tell the resident, keep nothing
            log.error("application not stored", exc_info=True, extra={"fields": {"error": type(exc).__name__}})
            self._patience_timer.cancel()
            self._go(REFUSED, "apply.submit_failed")
            return
        finally:
            pages.clear()
        self._patience_timer.cancel()
        with self._lock:
            if isinstance(outcome, Delivered):
                self.result = outcome.result
                if self.state == SUBMITTING:
                    self._finish()
                else:  # the resident already holds the offline receipt: show the number now
                    log.info("slow submission delivered after the offline receipt",
                             extra={"fields": {"acceptance_number": outcome.result.acceptance_number}})
                    self._changed()
            elif isinstance(outcome, Queued):
                if self.state == SUBMITTING:
                    self._queued(outcome, "down")
            elif self.state == SUBMITTING:
                log.warning("application refused", extra={"fields": {"code": outcome.code}})
                self._go(REFUSED, message_key(outcome))
            else:  # refused after the resident got the offline receipt: staff must follow it up
                log.error("application refused after the offline receipt was given",
                          extra={"fields": {"code": outcome.code, "key": outcome.key, "item": self.item.code}})

    def _on_progress(self, sent: int, total: int) -> None:
        self.progress = (sent, total)
        self._changed()

    def _on_stored(self, queued: Any) -> None:
        self._stored = queued

    def _too_slow(self) -> None:
        with self._lock:
            if self.state == SUBMITTING and self._stored is not None:
                log.info("backend slow: offline receipt given, delivery goes on in the background")
                self._queued(self._stored, "slow")

    def _queued(self, queued: Any, why: str) -> None:
        self.local_reference = queued.local_reference
        self.waiting_reason = why
        self._finish()

    def _finish(self) -> None:
        self._go(DONE)
        receipt = slips.acceptance_slip(self._slip(), self.terminal.logo)
        self._wipe_pages_files()
        self.background(lambda: self._print(receipt, "acceptance"))

    def _wipe_pages_files(self) -> None:
        """After submitting, the outbox holds the pages (encrypted); the scratch copies go now."""
        for material in self.materials:
            for page in material.pages:
                discard(page)

    def _slip(self) -> slips.ApplicationSlip:
        result = self.result
        identity = self.identity
        common = dict(terminal_id=self.terminal.terminal_id, terminal_name=self.terminal.name,
                      service_phone=self.terminal.service_phone, item_name=self.item.name,
                      department=self.item.department, applicant_name=identity.name if identity else "",
                      agent_name=self.agent.name if self.agent is not None else "",
                      materials=tuple(slips.SlipMaterial(m.name, m.receipt_text()) for m in self.materials
                                      if m.receipt_text()),
                      delivery=self.delivery_text(for_receipt=True), submitted_at=self.submitted_at or self.now())
        if result is None:
            return slips.ApplicationSlip(**common, local_reference=self.local_reference)
        limit = self.item.data.get("time_limit") or {}
        return slips.ApplicationSlip(**common, acceptance_number=result.acceptance_number,
                                     verification_code=result.verification_code, kind=result.kind,
                                     promised_date=result.promised_date,
                                     working_days=int(limit.get("promised_days") or 0))

    # -- printing ---------------------------------------------------------------------------
    def _queue(self) -> Any:
        access = self.printing()
        return access[0] if access is not None else None

    def _print(self, receipt: Any, what: str) -> None:
        from kiosk.receipts.layout import compile_receipt

        access = self.printing()
        if access is None:
            self._receipt_state(what, "receipt.printer_unavailable")
            return
        queue, target = access
        try:
            compiled = compile_receipt(receipt, target)
            self._print_data[compiled.data] = what
            job = queue.submit(what, compiled.data)
        except Exception as exc:  # the number stays on screen; the receipt is not lost for the follow journey
            log.error("receipt not printed", extra={"fields": {"error": type(exc).__name__}})
            self._receipt_state(what, "receipt.printer_unavailable")
            return
        self._receipt_state(what, job.message_key)

    def _job_changed(self, job: Any) -> None:
        what = self._print_data.get(job.data)
        if what is not None:
            self._receipt_state(what, job.message_key)

    def _receipt_state(self, what: str, key: str) -> None:
        if what == "notice":
            self.notice_key = key
        else:
            self.receipt_key = key
        self._changed()
