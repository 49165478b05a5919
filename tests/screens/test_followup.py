"""The follow, pickup and rating screens in a real app with the embedded reference backend: the
home tiles, an application waiting for the network, the voice toggle (the scenarios in
tests/scenarios/follow-*, pickup-*, rate-* play the journeys themselves)."""
from __future__ import annotations

from kiosk.backend import models as m
from kiosk.backend.service import Queued
from tests.screens.followup_support import at, backend_case, flow, real_backend, sign_in, wait_for
from tests.screens.test_identify import by_id


def test_home_offers_follow_pickup_and_rate_and_the_pickup_tile_tells_of_waiting_results(kiosk_app):
    home = kiosk_app.app.screens.get_screen("home")
    for widget_id, title in (("home.follow", "办件查询"), ("home.pickup", "自助取件"), ("home.rate", "服务评价")):
        tile = by_id(kiosk_app, widget_id)
        assert tile is not None and tile.title == title, widget_id
    backend_case(kiosk_app, state="ready", door=3)
    kiosk_app.app.kiosk.backend.heartbeat()  # what the terminal learns at its next heartbeat
    wait_for(kiosk_app, lambda: by_id(kiosk_app, "home.pickup").subtitle.startswith("本机有"))
    assert "1 件材料待取" in by_id(kiosk_app, "home.pickup").subtitle.replace("\u00a0", " ")
    kiosk_app.tap(by_id(kiosk_app, "home.pickup"))
    assert kiosk_app.app.screens.current == "pickup.list" and home is not None


def test_an_application_filed_while_the_network_was_down_waits_in_the_list_until_it_has_gone(kiosk_app):
    kiosk = kiosk_app.app.kiosk
    real_backend(kiosk_app)
    control = kiosk.backend.embedded.control
    control.control("down", {})
    from kiosk.flows.identify import identity_from_card
    from tests.kiosk.flows.conftest import card

    senior = identity_from_card(card("senior").card)
    applicant = m.Person(id_number=senior.id_number, name=senior.name)
    item = kiosk.backend.catalog.get("370503-MZ-0013")  # 老年人优待证办理
    pages = [(index, 1, "image/jpeg", _page()) for index, material in enumerate(item.materials)
             if material.required and material.kiosk_capture]
    outcome = kiosk.backend.submit_application(m.ApplicationCreate(item_code=item.code, applicant=applicant), pages)
    assert isinstance(outcome, Queued)
    sign_in(kiosk_app)
    kiosk_app.app.go("follow.list")
    at(kiosk_app, "follow.list", "list", "follow")
    texts = " ".join(kiosk_app.texts())
    assert "等待网络恢复后提交" in texts and "老年人优待证办理" in texts and outcome.local_reference in texts
    assert "网络暂时不通" in texts  # the rest of the list needs the network
    control.control("up", {})
    kiosk.backend.outbox.drain(kiosk.backend.deliverer)
    wait_for(kiosk_app, lambda: "等待网络恢复后提交" not in " ".join(kiosk_app.texts()))
    wait_for(kiosk_app, lambda: flow(kiosk_app, "follow").cases)
    assert [c.item_name for c in flow(kiosk_app, "follow").cases] == ["老年人优待证办理"]


def _page() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (420, 594), "white").save(buffer, "JPEG")
    return buffer.getvalue()


def test_the_voice_toggle_is_for_this_session_only(kiosk_app):
    kiosk = kiosk_app.app.kiosk
    if not kiosk.voice.available:
        import pytest

        pytest.skip("espeak-ng is installed by make setup")
    kiosk_app.app.go("pickup.list")
    at(kiosk_app, "pickup.list", "identify", "pickup")
    toggle = by_id(kiosk_app, "voice.toggle")
    assert toggle.text == "语音提示：开" and "pickup.voice_identify" in kiosk.voice.recent
    kiosk_app.tap(toggle)
    assert toggle.text == "语音提示：关" and not kiosk.voice.enabled()
    kiosk_app.app.go_home()
    assert kiosk.voice.enabled()  # the next resident hears the prompts again
