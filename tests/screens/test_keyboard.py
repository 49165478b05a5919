"""The on-screen keyboard, driven by simulated touches on a running kiosk.

A resident types a name in pinyin and picks characters from the candidate bar; an ID
number field opens the digits page with an X key; the keyboard never covers the field.
"""
from __future__ import annotations

import time

import pytest
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView

from screens.base import KioskScreen
from screens.keyboard import CandidateButton, KeyboardDock, KeyButton, KioskTextInput


class FormScreen(KioskScreen):
    """A form like the apply screens will have: name, ID number, phone, address."""

    def __init__(self, **kwargs):
        super().__init__(name="test_form", **kwargs)
        scroller = ScrollView(do_scroll_x=False)
        column = BoxLayout(orientation="vertical", size_hint_y=None, spacing=20, padding=20)
        column.bind(minimum_height=column.setter("height"))
        self.fields = {}
        for key, kind, context in (("name", "chinese", "name"), ("id_number", "id_number", "general"),
                                   ("phone", "phone", "general"), ("english", "english", "general")):
            column.add_widget(self._field(key, kind, context))
        for number in range(8):  # push the address field far down the page
            column.add_widget(Label(text=f"第{number + 1}段说明", size_hint_y=None, height=150, color=(0, 0, 0, 1)))
        column.add_widget(self._field("address", "chinese", "address"))
        scroller.add_widget(column)
        self.add_widget(scroller)

    def _field(self, key, kind, context):
        field = KioskTextInput(input_kind=kind, ime_context=context)
        self.fields[key] = field
        return field


@pytest.fixture
def form(kiosk_app):
    app = kiosk_app.app
    screen = FormScreen()
    app.screens.add_widget(screen)
    app.screens.current = "test_form"
    ime = app.kiosk.ime
    deadline = time.monotonic() + 60
    while not ime.ready:  # the app opens the lexicon on a worker thread at start
        assert time.monotonic() < deadline and not ime.error, ime.error
        kiosk_app.wait(0.05)
    kiosk_app.pump(3)
    return kiosk_app, screen


def dock() -> KeyboardDock:
    return KeyboardDock.find()


def key(driver, value):
    button = driver.find(lambda w: isinstance(w, KeyButton) and w.spec is not None and w.spec.value == value
                         and w.get_root_window() is not None)
    assert button is not None, f"no key {value!r} on the {dock().keyboard.page} page"
    return button


def action_key(driver, action, value=""):
    return driver.find(lambda w: isinstance(w, KeyButton) and w.spec is not None and w.spec.action == action
                       and (not value or w.spec.value == value))


def type_letters(driver, letters):
    for letter in letters:
        driver.tap(key(driver, letter))


def press(letters):
    """Keys pressed without a rendered touch each (quicker; the touch path is tested above)."""
    for letter in letters:
        dock().keyboard.press_key(letter)


def pick(driver, text):
    """Tap the candidate ``text``, paging with ▶ as a resident would."""
    for _ in range(30):
        button = driver.find(lambda w: isinstance(w, CandidateButton) and w.text == text)
        if button is not None:
            driver.tap(button)
            return
        forward = driver.find(lambda w: isinstance(w, KeyButton) and w.text == "▶")
        assert forward is not None and not forward.disabled, f"{text} is not among the candidates"
        driver.tap(forward)
    raise AssertionError(f"{text} not found in 30 pages")


def test_typing_a_name_in_pinyin_by_touch(form):
    driver, screen = form
    name = screen.fields["name"]
    driver.tap(name)
    assert name.focus and dock().shown and dock().keyboard.page == "pinyin"
    type_letters(driver, "wang")
    assert dock().keyboard.preedit == "wang"
    assert name.text == ""  # nothing reaches the field until a candidate is chosen
    pick(driver, "王")
    type_letters(driver, "xiu")
    pick(driver, "秀")
    type_letters(driver, "ying")
    pick(driver, "英")
    assert name.text == "王秀英"
    assert name.focus  # touching keys and candidates never took the focus away


def test_phrase_input_backspace_and_space(form):
    driver, screen = form
    name = screen.fields["name"]
    driver.tap(name)
    press("zhengmingx")
    backspace = action_key(driver, "back")
    driver.tap(backspace)
    assert dock().keyboard.preedit == "zhengming"
    assert dock().keyboard.candidates[0] == "证明"
    driver.tap(action_key(driver, "space"))  # space takes the first candidate
    assert name.text == "证明"
    driver.tap(backspace)
    assert name.text == "证"  # with nothing composed, backspace edits the field


def test_id_number_field_opens_digits_with_x(form):
    driver, screen = form
    field = screen.fields["id_number"]
    driver.tap(field)
    keyboard = dock().keyboard
    assert keyboard.page == "digits"
    assert action_key(driver, "page") is None  # a number field stays on the digits page
    assert driver.find(lambda w: isinstance(w, KeyButton) and w.spec and w.spec.value == "a") is None
    press("370503198")
    type_letters(driver, "0010112")
    driver.tap(key(driver, "X"))  # too early: X is only the 18th character
    type_letters(driver, "3")
    driver.tap(key(driver, "X"))
    type_letters(driver, "5")  # full: 18 characters
    assert field.text == "37050319800101123X"


def test_phone_field_has_digits_and_dash_only(form):
    driver, screen = form
    field = screen.fields["phone"]
    driver.tap(field)
    assert dock().keyboard.page == "digits"
    assert driver.find(lambda w: isinstance(w, KeyButton) and w.spec and w.spec.value == "X") is None
    type_letters(driver, "0546-")
    press("3600000")
    assert field.text == "0546-3600000"


def test_english_page_with_shift_and_symbols(form):
    driver, screen = form
    field = screen.fields["english"]
    driver.tap(field)
    assert dock().keyboard.page == "english"
    driver.tap(action_key(driver, "shift"))
    type_letters(driver, "W")
    type_letters(driver, "ang")  # shift is for one letter
    driver.tap(action_key(driver, "page", "symbols"))
    type_letters(driver, "，")
    assert field.text == "Wang，"


def test_keyboard_never_covers_the_field_and_hides(form):
    driver, screen = form
    address = screen.fields["address"]
    address.parent.parent.scroll_y = 0  # the resident scrolled down to the address field
    driver.pump(3)
    driver.tap(address)
    driver.pump(5)
    keyboard_top = dock().to_window(0, dock().top)[1]
    field_bottom = address.to_window(address.x, address.y)[1]
    assert dock().height > 400 and field_bottom >= keyboard_top
    press("hekouqu")
    pick(driver, "河口区")  # a place name, ranked up in an address field
    assert address.text == "河口区"
    driver.tap(driver.find(lambda w: isinstance(w, KeyButton) and w.text == "收起键盘"))
    assert not dock().shown and not address.focus and dock().height == 0


def test_keyboard_goes_away_with_the_screen(form):
    driver, screen = form
    driver.tap(screen.fields["name"])
    press("zh")
    driver.app.go_home()
    driver.pump(3)
    assert not dock().shown and screen.fields["name"].composition == ""
