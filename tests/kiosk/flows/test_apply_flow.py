"""The apply journey without Kivy: what a resident would notice at each step of applying.

The item definitions are the demo catalogue's; the camera is a fake that hands out frames of a
simulated card on a desk (the real capture pipeline straightens them); the backend is a fake
that answers like the reference backend (delivered, down, slow, refusing); receipts are
compiled for real and their text is read back.
"""
from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field

import numpy as np
import pytest

from drivers.camera.scene import document_scene
from kiosk.backend import models as m
from kiosk.backend.service import Delivered, Queued, Refused
from kiosk.catalog.items import load_catalog_file
from kiosk.catalog.service import DEMO_CATALOG_PATH
from kiosk.flows import apply as a
from kiosk.flows.identify import identity_from_card, identity_from_person
from kiosk.receipts.layout import Target
from kiosk.session import Agent
from kiosk.vision.capture import CaptureOptions
from tests.kiosk.flows.conftest import TODAY, Person, card, run_now

NOW = dt.datetime(2026, 12, 6, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
ELDERLY_ALLOWANCE = "370503-XZ-0004"
MEDICAL_FILING = "370503-YB-0003"


@pytest.fixture(scope="module")
def catalog():
    return {item.code: item for item in load_catalog_file(DEMO_CATALOG_PATH).items}


@dataclass
class Frame:
    image: np.ndarray
    seq: int = 1


class FakeCameraDevice:
    def __init__(self):
        made = document_scene(np.random.default_rng(7), 1280, 720, kind="id_card", desk="wood", effects=[],
                              max_rotation=4.0, perspective=0.01)
        self.frame = Frame(made.image)

    def latest(self):
        return self.frame


class FakeCamera:
    """A ``CameraAccess``: on/off counts, availability the test switches."""

    def __init__(self):
        self.dev = FakeCameraDevice()
        self.running = 0
        self.ok = True
        self.listeners = []

    def device(self):
        return self.dev

    def start(self):
        self.running += 1

    def stop(self):
        self.running -= 1

    def available(self):
        return self.ok

    def subscribe(self, listener):
        from drivers.events import Subscription

        self.listeners.append(listener)
        return Subscription(lambda: self.listeners.remove(listener))

    def set(self, ok: bool):
        self.ok = ok
        for listener in list(self.listeners):
            listener(ok)


class NoDetector:
    def __init__(self, latest_frame, capture=None, on_result=None, max_rate=10.0):
        self.capture = capture
        self.latest = None

    def start(self):
        pass

    def stop(self):
        pass


@dataclass
class Job:
    kind: str
    data: bytes
    message_key: str = "receipt.printed"


class FakeQueue:
    def __init__(self, key: str = "receipt.printed"):
        self.jobs: list[Job] = []
        self.key = key
        self.listeners = []

    def submit(self, kind, data):
        job = Job(kind, data, self.key)
        self.jobs.append(job)
        for listener in list(self.listeners):
            listener(job)
        return job

    def subscribe(self, listener):
        from drivers.events import Subscription

        self.listeners.append(listener)
        return Subscription(lambda: None)

    def text(self, index: int = -1) -> str:
        """The printed text (Chinese-mode markers FS & / FS . removed)."""
        return self.jobs[index].data.replace(b"\x1c&", b"").replace(b"\x1c.", b"").decode("gb18030", errors="ignore")


@dataclass
class FakeBackend:
    mode: str = "delivered"  # delivered | down | refused | slow
    licences: list = field(default_factory=list)
    submitted: list = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def find_licences(self, id_number, kinds, id_type="resident_id"):
        return [licence for holder, licence in self.licences if holder == id_number and licence.kind in kinds]

    def submit_application(self, create, pages, submit=None, progress=None, on_stored=None):
        self.submitted.append((create, [(i, n, t, len(d)) for i, n, t, d in pages]))
        key = "3f9a0c1d" + "0" * 24
        if on_stored:
            on_stored(Queued(key, "stored"))
        total = sum(len(d) for *_x, d in pages) or 1
        if progress:
            progress(0, total)
            progress(total, total)
        if self.mode == "down":
            return Queued(key, "backend unreachable")
        if self.mode == "refused":
            return Refused(key, "missing_materials", "1 required material(s) have no pages", [])
        if self.mode in ("slow", "slow-refused"):
            self.release.wait(10)
        if self.mode == "slow-refused":
            return Refused(key, "missing_materials", "1 required material(s) have no pages", [])
        promised = dt.date(2026, 12, 18)
        return Delivered(key, m.SubmitResult(
            application_id="AP1", acceptance_number="370503-20261206-000001", verification_code="123456",
            item_code=create.item_code, item_name="高龄津贴发放", accepted_at=NOW, kind="承诺件",
            outcome="promised", message="已受理", promised_date=promised, agent_handled=create.agent is not None))


class Timers:
    """Patience timers the test fires by hand."""

    def __init__(self):
        self.pending = []

    def start(self, seconds, callback):
        timer = _Timer(callback)
        self.pending.append(timer)
        return timer

    def fire(self):
        for timer in list(self.pending):
            if not timer.cancelled:
                timer.callback()


@dataclass
class _Timer:
    callback: object
    cancelled: bool = False

    def cancel(self):
        self.cancelled = True


@pytest.fixture
def world(session, catalog):
    class World:
        pass
    w = World()
    w.session = session
    w.backend = FakeBackend()
    w.camera = FakeCamera()
    w.queue = FakeQueue()
    w.timers = Timers()
    w.locker = False

    def make(code=ELDERLY_ALLOWANCE, background=run_now):
        return a.ApplyFlow(catalog[code], session, lambda: w.backend, background,
                           terminal=a.Terminal("HK-DEMO-001", "河口街道便民服务中心 · 演示终端", "0546-12345"),
                           camera=w.camera, capture_options=lambda aspect: CaptureOptions(aspect=aspect),
                           printing=lambda: (w.queue, Target()), has_locker=lambda: w.locker,
                           today=lambda: TODAY, now=lambda: NOW, patience=12, start_timer=w.timers.start,
                           live_detector=NoDetector).start()
    w.make = make
    return w


def sign_in(session, key="senior", agent=None):
    session.set_identity(identity_from_card(card(key).card), agent=agent)


def to_materials(flow):
    flow.set_field("phone", "13805461234")
    flow.next()
    assert flow.state == a.MATERIALS


def through_consent(flow):
    for box in flow.consent_boxes:
        flow.tick(box)
    flow.agree()


# -- who may apply ------------------------------------------------------------------------------

def test_an_applicant_under_80_is_told_from_which_date_and_cannot_go_on(world):
    sign_in(world.session, "resident-long-term")  # 刘桂英, born 1948-06-15
    flow = world.make()
    assert flow.state == a.INELIGIBLE
    assert flow.problem == "apply.too_young"
    assert flow.problem_values["date"] == "2028年6月1日"  # 当月可申请: from the first of her birthday month
    flow.next()
    assert flow.state == a.INELIGIBLE


def test_nobody_signed_in_the_journey_waits_for_the_card_then_goes_on(world):
    flow = world.make()
    assert flow.state == a.IDENTIFY
    sign_in(world.session)
    assert flow.state == a.FORM


# -- the form -------------------------------------------------------------------------------------

def test_the_form_shows_the_card_in_full_and_checks_the_phone_as_it_is_left(world):
    sign_in(world.session)
    flow = world.make()
    assert flow.values["name"] == "欧阳娜娜"
    assert flow.values["id_number"] == "370503194003050029"
    assert "仙河镇" in flow.values["address"]
    assert not flow.field_editable("name") and not flow.field_editable("address") and flow.field_editable("phone")
    flow.next()
    assert flow.state == a.FORM and flow.field_problems["phone"].key == "apply.field_required"
    assert flow.set_field("phone", "1380546") is False
    assert flow.field_problems["phone"].key == "apply.field_phone"
    assert flow.set_field("name", "别人") is False and flow.values["name"] == "欧阳娜娜"  # read-only
    assert flow.set_field("phone", " 13805461234 ")
    assert "phone" not in flow.field_problems and flow.values["phone"] == "13805461234"
    flow.next()
    assert flow.state == a.MATERIALS


# -- materials -----------------------------------------------------------------------------------

def test_the_card_just_read_is_the_id_material_and_pages_are_added_per_tap(world):
    sign_in(world.session)
    flow = world.make()
    to_materials(flow)
    assert [mat.how for mat in flow.materials] == ["id_card", ""]  # 代办人居民身份证: only in 代办
    assert flow.material.name == "老人本人的银行卡或社保卡"
    assert world.camera.running == 1
    flow.capture_now()
    flow.capture_now()
    pages = flow.material.pages
    assert len(pages) == 2 and all(p.path.exists() and p.size > 10_000 for p in pages)
    first = pages[0]
    flow.retake(0)
    flow.capture_now()
    assert len(flow.material.pages) == 2 and not first.path.exists()
    flow.remove_page(1)
    assert len(flow.material.pages) == 1
    flow.next()
    assert flow.state == a.CONSENT and world.camera.running == 0


def test_a_required_material_cannot_be_skipped_but_an_optional_one_can(world, catalog):
    sign_in(world.session)
    flow = world.make()
    to_materials(flow)
    flow.next()
    assert flow.state == a.MATERIALS and flow.problem == "apply.material_missing"
    assert flow.problem_values["name"] == "老人本人的银行卡或社保卡"


def test_an_electronic_licence_is_ticked_instead_of_a_photograph(world):
    nana = identity_from_person(Person("resident_id", "370503194003050029", "欧阳娜娜", "13805461234",
                                       "山东省东营市河口区仙河镇仙河村12号"), "code")
    world.session.set_identity(nana)
    world.backend.licences = [("370503194003050029", m.Licence(
        licence_id="DZZZ-HK-370503-0001", kind="hukou", name="居民户口簿（电子证照）", issuer="东营市公安局河口分局",
        issued_on=dt.date(2021, 5, 18), number_masked="37**01"))]
    flow = world.make()
    assert flow.values["phone"] == "13805461234"  # the identity code brought it
    flow.next()
    assert flow.materials[0].how == "e_licence" and flow.materials[0].licence.licence_id == "DZZZ-HK-370503-0001"
    assert flow.material.index == 1  # on to the bank card at once


def test_in_daiban_the_agent_card_is_asked_and_the_application_carries_the_agent(world):
    sign_in(world.session, agent=Agent("WG-0001", "王晓梅", "13905460001"))
    flow = world.make()
    to_materials(flow)
    assert [mat.name for mat in flow.materials][-1] == "代办人居民身份证" and flow.materials[-1].required
    for _ in range(2):
        flow.capture_now()
        flow.next()
    assert flow.state == a.CONSENT
    through_consent(flow)
    flow.choose_delivery("window")
    flow.submit()
    create, pages = world.backend.submitted[0]
    assert create.agent.worker_id == "WG-0001" and create.agent.name == "王晓梅"
    assert [p[0] for p in pages] == [1, 2]


def test_a_commitment_signed_on_the_pad_replaces_the_material(world):
    sign_in(world.session)
    flow = world.make(MEDICAL_FILING)
    flow.set_field("phone", "13805461234")
    flow.set_field("kind", "异地长期居住")
    flow.set_field("place", "海南省三亚市")
    flow.next()
    assert flow.material.name == "异地就医备案承诺书" and flow.can_commit
    flow.start_signing()
    assert flow.state == a.SIGNING and world.camera.running == 0
    assert flow.sign([[(0.5, 0.5)]]) is False and flow.problem == "apply.sign_please"
    strokes = [[(0.1 + i / 40, 0.5 + 0.2 * np.sin(i / 3)) for i in range(30)]]
    assert flow.sign(strokes)
    material = flow.material
    assert flow.state == a.MATERIALS and material.how == "commitment"
    assert material.pages[0].path.read_bytes()[:3] == b"\xff\xd8\xff" and material.pages[0].width >= 1000
    flow.next()
    assert flow.state == a.CONSENT and flow.consent_boxes == ["terms"]  # a signature is no sensitive image


def test_the_one_time_notice_lists_everything_missing_and_where_to_get_it(world):
    sign_in(world.session, agent=Agent("WG-0001", "王晓梅"))
    flow = world.make()
    to_materials(flow)
    assert [mat.name for mat in flow.missing_materials()] == ["老人本人的银行卡或社保卡", "代办人居民身份证"]
    flow.print_notice()
    assert flow.state == a.NOTICE and flow.notice_key == "receipt.printed"
    text = world.queue.text()
    assert "一次性告知单" in text and "银行卡或社保卡" in text and "代办人居民身份证" in text
    assert "银行网点" in text  # where to get it
    flow.leave()
    assert flow.ended and not world.backend.submitted


def test_camera_unplugged_mid_journey_says_so_and_keeps_the_pages(world):
    sign_in(world.session)
    flow = world.make()
    to_materials(flow)
    flow.capture_now()
    world.camera.set(False)
    assert flow.problem == "apply.camera_unavailable"
    flow.capture_now()
    assert len(flow.material.pages) == 1 and flow.material.pages[0].path.exists()
    world.camera.set(True)
    assert flow.problem == ""
    flow.capture_now()
    assert len(flow.material.pages) == 2


# -- consent, delivery, review -------------------------------------------------------------------

def test_consent_asks_separately_for_a_sensitive_image_and_declining_wipes_it(world):
    sign_in(world.session)
    flow = world.make()
    to_materials(flow)
    flow.capture_now()
    page = flow.material.pages[0]
    flow.next()
    assert flow.consent_boxes == ["terms", "sensitive"]  # a bank card photographed
    flow.tick("terms")
    flow.agree()
    assert flow.state == a.CONSENT and flow.problem == "apply.consent_all"
    flow.decline()
    assert flow.ended and not page.path.exists() and not world.backend.submitted


def test_post_asks_for_the_address_prefilled_from_the_card(world):
    sign_in(world.session)
    flow = world.make()
    to_materials(flow)
    flow.capture_now()
    flow.next()
    through_consent(flow)
    assert flow.delivery_options() == ["window", "post"]  # no locker for this item
    flow.choose_delivery("post")
    assert flow.state == a.POST_ADDRESS and "仙河村12号" in flow.delivery.address
    assert flow.delivery.phone == "13805461234"
    assert not flow.submit_address("河口", "13805461234") and flow.address_problem.key == "apply.address_short"
    assert flow.submit_address("山东省东营市河口区仙河镇仙河村12号", "13805461234")
    assert flow.state == a.REVIEW and flow.delivery_text().startswith("免费邮寄")


def test_review_edit_goes_back_to_the_part_and_returns(world):
    sign_in(world.session)
    flow = world.make()
    to_materials(flow)
    flow.capture_now()
    flow.next()
    through_consent(flow)
    flow.choose_delivery("window")
    assert flow.state == a.REVIEW and flow.delivery.centre == "河口街道便民服务中心"  # this terminal's centre
    flow.edit("form")
    flow.set_field("phone", "13905461111")
    flow.next()
    assert flow.state == a.REVIEW and flow.values["phone"] == "13905461111"
    flow.edit("delivery")
    flow.choose_centre("义和镇便民服务中心")
    flow.choose_delivery("window")
    assert flow.state == a.REVIEW and flow.delivery.centre == "义和镇便民服务中心"


# -- submitting ----------------------------------------------------------------------------------

def ready_for_review(world, code=ELDERLY_ALLOWANCE):
    sign_in(world.session)
    flow = world.make(code)
    to_materials(flow)
    flow.capture_now()
    flow.next()
    through_consent(flow)
    flow.choose_delivery("window")
    assert flow.state == a.REVIEW
    return flow


def test_submit_sends_everything_and_prints_the_acceptance_receipt(world):
    flow = ready_for_review(world)
    progress = []
    flow.subscribe(lambda f: progress.append(f.progress))
    flow.submit()
    assert flow.state == a.DONE and flow.result.acceptance_number == "370503-20261206-000001"
    create, pages = world.backend.submitted[0]
    assert create.item_code == ELDERLY_ALLOWANCE and create.form["phone"] == "13805461234"
    assert [(p.index, p.how) for p in create.materials] == [(0, "id_card")]
    assert pages[0][:3] == (1, 1, "image/jpeg")
    assert create.consent.terms and create.consent.sensitive is True
    assert create.delivery.method == "window" and create.delivery.centre == "河口街道便民服务中心"
    assert any(total and sent == total for sent, total in progress)
    text = world.queue.text()
    assert "370503-20261206-000001" in text and "高龄津贴发放" in text and "欧**娜" in text
    assert "12月18日" in text and "窗口领取" in text and "0546-12345" in text
    assert "370503194003050029" not in text  # no ID number on paper
    assert flow.receipt_key == "receipt.printed"
    assert not any(p.path.exists() for mat in flow.materials for p in mat.pages)  # the outbox has them now


def test_backend_down_gives_the_offline_receipt_with_a_local_reference(world):
    world.backend.mode = "down"
    flow = ready_for_review(world)
    flow.submit()
    assert flow.state == a.DONE and flow.result is None and flow.local_reference == "3F9A0C1D"
    text = world.queue.text()
    assert "网络恢复后自动提交" in text and "3F9A0C1D" in text


def test_a_slow_backend_gives_the_offline_receipt_then_the_number_when_it_answers(world):
    world.backend.mode = "slow"
    flow = ready_for_review(world)
    worker = threading.Thread(target=flow._submit)  # the kiosk's background worker
    with flow._lock:
        flow._go(a.SUBMITTING)
    worker.start()
    while not world.timers.pending:
        threading.Event().wait(0.01)
    world.timers.fire()
    assert flow.state == a.DONE and flow.waiting_reason == "slow" and flow.local_reference == "3F9A0C1D"
    world.backend.release.set()
    worker.join(5)
    assert flow.result.acceptance_number == "370503-20261206-000001"
    assert len(world.queue.jobs) == 1  # one receipt, the offline one


def test_a_refusal_says_why_and_goes_back_to_the_review(world):
    world.backend.mode = "refused"
    flow = ready_for_review(world)
    flow.submit()
    assert flow.state == a.REFUSED and flow.problem == "backend.refused_missing_materials"
    flow.edit("materials")
    assert flow.state == a.MATERIALS


def test_paper_out_leaves_the_number_on_screen_with_the_reason(world):
    world.queue.key = "receipt.paper_out"
    flow = ready_for_review(world)
    flow.submit()
    assert flow.state == a.DONE and flow.receipt_key == "receipt.paper_out"
    assert flow.result.acceptance_number


def test_the_end_of_the_session_ends_the_journey_and_wipes_the_pages(world):
    sign_in(world.session)
    flow = world.make()
    to_materials(flow)
    flow.capture_now()
    path = flow.material.pages[0].path
    world.session.end("idle")
    assert flow.ended and not path.exists() and world.camera.running == 0
    assert not world.session.holds_personal_data()


def test_a_refusal_after_the_offline_receipt_leaves_the_receipt_and_is_logged_for_staff(world, caplog):
    world.backend.mode = "slow-refused"
    flow = ready_for_review(world)
    worker = threading.Thread(target=flow._submit)
    with flow._lock:
        flow._go(a.SUBMITTING)
    worker.start()
    while not world.timers.pending:
        threading.Event().wait(0.01)
    world.timers.fire()
    world.backend.release.set()
    worker.join(5)
    assert flow.state == a.DONE and flow.local_reference == "3F9A0C1D"
    assert any("refused after the offline receipt" in record.getMessage() for record in caplog.records)
