"""Applying as a resident sees it on the real screens (issue 11): where applying starts, and the
way through identification into the form. The whole journey and its failures are scenarios
(``tests/scenarios/apply-*.yaml``); the flow's rules are tested without Kivy."""
from __future__ import annotations

from tests.screens.test_identify import by_id, place, wait_until

ALLOWANCE = "370503-XZ-0004"


def test_home_apply_opens_the_list_of_items_applied_for_here_without_the_keyboard(kiosk_app):
    app = kiosk_app.app
    app.kiosk.warm_up()
    kiosk_app.tap(by_id(kiosk_app, "home.apply"))
    assert wait_until(kiosk_app, lambda: app.screens.current == "search")
    search = app.screens.get_screen("search")
    assert wait_until(kiosk_app, lambda: search.scope == "apply" and len(search.ids.listing.children) == 7)
    assert "以下事项可以在本机直接申请。也可以在上面输入名称或拼音" in kiosk_app.texts()
    assert not search.ids.field.focus  # the few items show without typing
    kiosk_app.tap(by_id(kiosk_app, "search.field"))
    search.set_query("身份证")  # a popular item that is applied for at the window only
    assert all(result.item.can_apply_here for result in search.results)
    app.go_home()
    kiosk_app.tap(by_id(kiosk_app, "home.search"))
    assert wait_until(kiosk_app, lambda: app.screens.current == "search" and search.scope == "all")


def test_the_guide_offers_apply_only_for_items_applied_for_here(kiosk_app):
    app = kiosk_app.app
    app.kiosk.warm_up()
    app.go("guide")
    guide = app.screens.get_screen("guide")
    guide.show(ALLOWANCE)
    kiosk_app.pump(3)
    assert by_id(kiosk_app, "guide.apply") is not None and "可在本机申请" in kiosk_app.texts()
    window_only = next(item for item in app.kiosk.catalog.items if item.can_apply and not item.can_apply_here)
    guide.show(window_only.code)
    kiosk_app.pump(3)
    assert by_id(kiosk_app, "guide.apply") is None and "可在本机申请" not in kiosk_app.texts()


def test_guide_apply_asks_for_the_card_first_then_opens_the_form_filled_from_it(kiosk_app):
    app = kiosk_app.app
    app.kiosk.warm_up()
    app.go("guide")
    app.screens.get_screen("guide").show(ALLOWANCE)
    kiosk_app.tap(by_id(kiosk_app, "guide.apply"))
    assert wait_until(kiosk_app, lambda: app.screens.current == "identify")
    place(kiosk_app, "senior")
    assert wait_until(kiosk_app, lambda: by_id(kiosk_app, "identify.continue") is not None)
    kiosk_app.tap(by_id(kiosk_app, "identify.continue"))
    assert wait_until(kiosk_app, lambda: app.screens.current == "apply.form")
    texts = kiosk_app.texts()
    assert "370503194003050029" in texts and "山东省东营市河口区仙河镇仙河村12号" in texts
    assert by_id(kiosk_app, "form.phone") is not None and by_id(kiosk_app, "form.name") is None  # the card's, shown
    app.go_home()
    assert app.kiosk.apply.ended and not app.kiosk.session.holds_personal_data()
