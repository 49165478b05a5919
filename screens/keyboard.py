"""The kiosk's own on-screen keyboard, docked at the bottom, with pinyin input.

``KioskTextInput`` is the text field every screen uses. When it is touched it calls the
``KeyboardDock`` (one per app, in the root layout between the screens and the bottom
bar), which shows the ``KioskKeyboard``: the screens above shrink by its height and the
focused field is scrolled into view, so the keyboard never covers it. No desktop
keyboard is needed (the app sets Kivy's keyboard_mode to "system"; a technician's USB
keyboard still types straight into the field).

Pages: 拼音 (letters compose pinyin; a candidate bar offers characters and words, paged
with ◀ ▶), English (letters as typed, 大写 for one capital), 123 and 符号. Numeric fields
(phone, ID number) open the digits page and stay there; the ID number field has an X key.
All the input logic lives in the core (``kiosk.ime``): this module only draws keys and
forwards touches. Every key and candidate carries a ``widget_id`` (``kb.key.a``, ``kb.enter``,
``kb.candidate.1`` …) that testers' scenarios name (docs/scenarios.md).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import (BooleanProperty, ListProperty, NumericProperty, ObjectProperty, OptionProperty,
                             StringProperty)
from kivy.uix.behaviors import FocusBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.scrollview import ScrollView
from kivy.uix.textinput import TextInput
from kivy.uix.widget import Widget

from kiosk.ime.engine import CONTEXTS, Composer
from kiosk.ime.fields import KINDS, NUMERIC_KINDS, accept, first_page

log = logging.getLogger(__name__)

PAGES = ("pinyin", "english", "digits", "symbols")
REPEAT_DELAY, REPEAT_INTERVAL = 0.5, 0.08
PREEDIT_SHOWN = 12  # characters of the composition shown left of the candidates


@dataclass(frozen=True)
class KeySpec:
    action: str          # "char" | "back" | "space" | "enter" | "page" | "shift" | "sep" | "hide"
    value: str = ""      # the character, or the page to go to
    label: str = ""      # shown text (a translation key when it starts with "kb.")
    weight: float = 1.0  # width relative to a letter key
    style: str = "char"  # "char" | "func" | "accent" | "blank"


def _letters(row: str) -> list[KeySpec]:
    return [KeySpec("char", ch) for ch in row]


def page_rows(page: str, kind: str, shift: bool = False) -> list[list[KeySpec]]:
    """The key rows of a page for a field of ``kind``."""
    enter = KeySpec("enter", label="kb.enter", weight=2.2, style="accent")
    back = KeySpec("back", label="kb.backspace", weight=1.5, style="func")
    if page in ("pinyin", "english"):
        upper = page == "english" and shift
        rows = [[KeySpec("char", ch.upper() if upper else ch) for ch in row] for row in ("qwertyuiop", "asdfghjkl")]
        rows[1] = [KeySpec("blank", weight=0.5, style="blank")] + rows[1] + [KeySpec("blank", weight=0.5,
                                                                                       style="blank")]
        left = (KeySpec("sep", "'", label="kb.separator", weight=1.5, style="func") if page == "pinyin"
                else KeySpec("shift", label="kb.shift", weight=1.5, style="accent" if shift else "func"))
        rows.append([left] + [KeySpec("char", ch.upper() if upper else ch) for ch in "zxcvbnm"] + [back])
        other = "english" if page == "pinyin" else "pinyin"
        rows.append([KeySpec("page", "digits", "kb.page_digits", 1.3, "func"),
                     KeySpec("page", "symbols", "kb.page_symbols", 1.3, "func"),
                     KeySpec("page", other, f"kb.page_{other}", 1.5, "func"),
                     KeySpec("space", label="kb.space", weight=3.5, style="char"),
                     enter])
        return rows
    if page == "digits":
        numeric = kind in NUMERIC_KINDS
        extra = {"id_number": KeySpec("char", "X"), "phone": KeySpec("char", "-"),
                 "digits": KeySpec("blank", style="blank")}.get(kind, KeySpec("char", "."))
        back = KeySpec("back", label="kb.backspace", style="func")
        hide = KeySpec("hide", label="kb.hide", style="func")
        return [
            _letters("123") + [back],
            _letters("456") + [extra],
            _letters("789") + [hide if numeric else KeySpec("page", "letters", "kb.page_letters", style="func")],
            [KeySpec("blank", style="blank") if numeric else KeySpec("page", "symbols", "kb.page_symbols",
                                                                     style="func"),
             KeySpec("char", "0"),
             KeySpec("blank", style="blank") if numeric else KeySpec("space", label="kb.space"),
             KeySpec("enter", label="kb.enter", style="accent")],
        ]
    # symbols
    return [
        _letters("，。、？！：；…—·"),
        _letters("“”‘’（）《》【】"),
        _letters("@#%&*+-=/") + [KeySpec("back", label="kb.backspace", style="func")],
        [KeySpec("page", "letters", "kb.page_letters", 2, "func"),
         KeySpec("page", "digits", "kb.page_digits", 2, "func"),
         KeySpec("space", label="kb.space", weight=4),
         KeySpec("enter", label="kb.enter", weight=2, style="accent")],
    ]


class KioskTextInput(TextInput):
    """A text field that uses the kiosk keyboard; ``input_kind`` says what it takes."""

    input_kind = OptionProperty("chinese", options=KINDS)
    ime_context = OptionProperty("general", options=CONTEXTS)
    max_length = NumericProperty(0)
    enter_label = StringProperty("")  # e.g. "搜索"; empty for "确定"
    widget_id = StringProperty("")  # the scenario contract's name, e.g. "form.phone"
    #: what is being composed on the keyboard and not yet in ``text`` ("sfz", "证明cailiao"):
    #: a search field searches for text + composition while the resident types
    composition = StringProperty("")

    def insert_text(self, substring, from_undo=False):
        if not from_undo:
            substring = accept(self.input_kind, self.text, self.cursor_index(), substring, int(self.max_length))
            if not substring:
                return
        return super().insert_text(substring, from_undo=from_undo)

    def on_focus(self, _instance, focused):
        dock = KeyboardDock.find()
        if dock is None:
            return
        if focused:
            dock.attach(self)
            # the keyboard takes the lower half: keep the field being typed into in sight
            Clock.schedule_once(lambda _dt: self._scroll_into_view(), 0.05)
        else:
            Clock.schedule_once(lambda _dt: dock.detach_if_unfocused(self), 0)

    def _scroll_into_view(self) -> None:
        from kivy.uix.scrollview import ScrollView

        node = self.parent
        while node is not None and node is not node.parent:
            if isinstance(node, ScrollView):
                _x, bottom = node.to_window(node.x, node.y)
                _x, top = node.to_window(node.right, node.top)
                _x, field_bottom = self.to_window(self.x, self.y)
                _x, field_top = self.to_window(self.right, self.top)
                if self.focus and (field_bottom < bottom or field_top > top):
                    node.scroll_to(self, padding=App.get_running_app().theme.px(24), animate=False)
                return
            node = node.parent


def key_widget_id(spec: KeySpec) -> str:
    """The scenario contract's id of a key: ``kb.key.a``, ``kb.enter``, ``kb.page.digits`` …"""
    if spec.action == "char":
        return f"kb.key.{spec.value}"
    if spec.action == "page":
        return f"kb.page.{spec.value}"
    return f"kb.{spec.action}"


class KeyButton(Button):
    spec = ObjectProperty(None, allownone=True)
    style = StringProperty("char")
    widget_id = StringProperty("")  # kb.key.a, kb.back, … (docs/scenarios.md)


class CandidateButton(Button):
    index = NumericProperty(0)
    widget_id = StringProperty("")  # kb.candidate.1 …


class KioskKeyboard(BoxLayout):
    """Candidate bar and keys; ``target`` is the field being typed into."""

    page = OptionProperty("pinyin", options=PAGES)
    kind = OptionProperty("chinese", options=KINDS)
    shift = BooleanProperty(False)
    preedit = StringProperty("")
    composing = BooleanProperty(False)
    has_previous = BooleanProperty(False)
    has_next = BooleanProperty(False)
    ime_ready = BooleanProperty(False)
    enter_text = StringProperty("")
    hint_text = StringProperty("")
    preedit_shown = StringProperty("")  # the end of a long composition: "…yingjiedao"
    candidates = ListProperty([])

    def __init__(self, **kwargs):
        self.target: KioskTextInput | None = None
        self.letter_page = "pinyin"
        self._pages: dict[tuple, list[BoxLayout]] = {}
        self._candidate_buttons: list[CandidateButton] = []
        self.composer = Composer(None)
        self._repeat = None
        super().__init__(**kwargs)

    def on_kv_post(self, _base):
        app = App.get_running_app()
        app.bind(tr=lambda *_: self.build_keys(), theme=lambda *_: self._theme_changed())
        self.build_keys()

    # -- attaching ---------------------------------------------------------------------------
    def attach(self, field: KioskTextInput) -> None:
        self.target = field
        self.kind = field.input_kind
        self.composer.reset()
        self.composer.context = field.ime_context
        self.composer.page_size = self.page_size()
        self.shift = False
        self.enter_text = field.enter_label
        self.page = first_page(field.input_kind)
        self.build_keys()
        self.refresh_candidates()

    def page_size(self) -> int:
        return 4 if App.get_running_app().elderly else 5  # each candidate at least 90 px wide

    def _theme_changed(self) -> None:
        self._pages.clear()  # sizes changed: keys are rebuilt for the new theme
        self.composer.page_size = self.page_size()
        self.composer.page = 0
        self.build_keys()
        self.refresh_candidates()

    # -- keys --------------------------------------------------------------------------------
    def build_keys(self) -> None:
        """Show the keys of the current page; a page once built is kept (rendering forty key
        labels again would cost a visible moment on a small kiosk PC)."""
        rows_box = self.ids.rows
        rows_box.clear_widgets()
        app = App.get_running_app()
        self.hint_text = self.hint()
        key = (self.page, self.kind if self.page == "digits" else "", self.shift, app.lang, app.elderly,
               self.enter_text)
        rows = self._pages.get(key)
        if rows is None:
            rows = self._pages[key] = self._build_rows(app)
        for line in rows:
            rows_box.add_widget(line)

    def _build_rows(self, app) -> list[BoxLayout]:
        tr = app.tr
        rows = []
        for row in page_rows(self.page, self.kind, self.shift):
            line = BoxLayout(spacing=app.theme.px(8))
            for spec in row:
                if spec.style == "blank":
                    line.add_widget(Widget(size_hint_x=spec.weight))
                    continue
                label = spec.label or spec.value
                if label.startswith("kb."):
                    label = self.enter_text if (spec.action == "enter" and self.enter_text) else tr(label)
                button = KeyButton(text=label, spec=spec, style=spec.style, size_hint_x=spec.weight,
                                   widget_id=key_widget_id(spec))
                button.bind(on_press=self._pressed, on_release=self._released)
                line.add_widget(button)
            rows.append(line)
        return rows

    def on_page(self, *_args) -> None:
        if self.page in ("pinyin", "english"):
            self.letter_page = self.page
        if self.page != "pinyin" and self.composer.active:
            self._commit(self.composer.commit_raw())
        self.shift = False
        self.build_keys()
        self.refresh_candidates()

    def _pressed(self, button: KeyButton) -> None:
        if button.spec.action == "back":
            self.backspace()
            self._repeat = Clock.schedule_once(self._start_repeat, REPEAT_DELAY)

    def _start_repeat(self, _dt) -> None:
        self._repeat = Clock.schedule_interval(lambda _dt2: self.backspace(), REPEAT_INTERVAL)

    def _released(self, button: KeyButton) -> None:
        if self._repeat is not None:
            self._repeat.cancel()
            self._repeat = None
        self.press(button.spec)

    def press(self, spec: KeySpec) -> None:
        """One key: what it does depends on the page and on the composition."""
        action = spec.action
        if action == "back":
            return  # handled on press (with repeat)
        if action == "char":
            if self.page == "pinyin" and "a" <= spec.value <= "z":
                self.composer.type(spec.value)
                self.refresh_candidates()
            else:
                self._commit(spec.value)
                if self.shift:
                    self.shift = False
                    self.build_keys()
        elif action == "sep":
            if self.composer.letters:
                self.composer.type("'")
                self.refresh_candidates()
            else:
                self._commit("'")
        elif action == "space":
            if self.composer.active:
                self._commit(self.composer.commit_first())
                self.refresh_candidates()
            else:
                self._commit(" ")
        elif action == "enter":
            if self.composer.active:
                self._commit(self.composer.commit_first())
                self.refresh_candidates()
            elif self.target is not None:
                target = self.target
                target.dispatch("on_text_validate")
                target.focus = False
        elif action == "page":
            self.page = self.letter_page if spec.value == "letters" else spec.value
        elif action == "shift":
            self.shift = not self.shift
            self.build_keys()
        elif action == "hide" and self.target is not None:
            self.target.focus = False

    def press_key(self, character: str) -> None:
        """Type one character as if its key were touched (tests, ``kiosk shot --keys``)."""
        if character == " ":
            self.press(KeySpec("space"))
        elif character == "'":
            self.press(KeySpec("sep", "'"))
        else:
            self.press(KeySpec("char", character))

    def backspace(self) -> None:
        if self.composer.backspace():
            self.refresh_candidates()
        elif self.target is not None:
            self.target.do_backspace()

    def _commit(self, text: str) -> None:
        if text and self.target is not None:
            self.target.insert_text(text)

    # -- candidates --------------------------------------------------------------------------
    def refresh_candidates(self) -> None:
        app = App.get_running_app()
        ime = getattr(app.kiosk, "ime", None)
        engine = ime.engine if ime is not None else None
        self.ime_ready = engine is not None
        self.composer.engine = engine
        self.composing = self.composer.active
        self.preedit = self.composer.preedit
        self.preedit_shown = self.preedit if len(self.preedit) <= PREEDIT_SHOWN else \
            "…" + self.preedit[-(PREEDIT_SHOWN - 1):]
        if self.target is not None:
            self.target.composition = self.preedit
        self.hint_text = self.hint()
        page = self.composer.page_candidates()
        self.candidates = [c.text for c in page]
        self.has_previous = self.composer.has_previous_page
        self.has_next = self.composer.has_next_page
        self._show_candidates()
        if self.target is not None and not self.ime_ready and ime is not None and not ime.error:
            Clock.schedule_once(lambda _dt: self.refresh_candidates(), 0.5)  # lexicon still loading

    def _show_candidates(self) -> None:
        """Fill a fixed row of candidate buttons (only labels whose text changed re-render)."""
        box = self.ids.candidates
        size = self.composer.page_size
        if len(self._candidate_buttons) != size:
            box.clear_widgets()
            self._candidate_buttons = []
            for index in range(size):
                button = CandidateButton(index=index, widget_id=f"kb.candidate.{index + 1}")
                button.bind(on_release=self._chose)
                self._candidate_buttons.append(button)
                box.add_widget(button)
        for index, button in enumerate(self._candidate_buttons):
            text = self.candidates[index] if index < len(self.candidates) else ""
            button.text = text
            button.disabled = not text
            button.opacity = 1 if text else 0
            button.size_hint_x = len(text) + 1.2 if text else 2.2

    def _chose(self, button: CandidateButton) -> None:
        self.choose(button.index)

    def choose(self, index_on_page: int) -> None:
        self._commit(self.composer.choose(index_on_page))
        self.refresh_candidates()

    def next_page(self) -> None:
        self.composer.next_page()
        self.refresh_candidates()

    def previous_page(self) -> None:
        self.composer.previous_page()
        self.refresh_candidates()

    def hint(self) -> str:
        tr = App.get_running_app().tr
        if self.page == "pinyin":
            if self.ime_ready:
                return tr("kb.hint_pinyin")
            return tr("kb.ime_unavailable") if self._ime_error() else tr("kb.ime_loading")
        return tr(f"kb.hint_{self.page}")

    def _ime_error(self) -> str:
        ime = getattr(App.get_running_app().kiosk, "ime", None)
        return ime.error if ime is not None else "no input method"

    def on_touch_down(self, touch):
        if self.collide_point(*touch.pos):
            # keep the field focused: a key touch is not a touch "elsewhere"
            FocusBehavior.ignored_touch.append(touch)
        return super().on_touch_down(touch)


class KeyboardDock(BoxLayout):
    """The slot for the keyboard in the root layout: zero high until a field is focused."""

    shown = BooleanProperty(False)

    def on_kv_post(self, _base):
        self._keyboard = KioskKeyboard()
        app = App.get_running_app()
        app.keyboard_dock = self
        app.bind(on_start=lambda *_: self._watch_screens())
        if app.screens is not None:
            self._watch_screens()

    def _watch_screens(self) -> None:
        app = App.get_running_app()
        if app.screens is not None:
            app.screens.bind(current=lambda *_: self.hide())

    @classmethod
    def find(cls) -> "KeyboardDock | None":
        app = App.get_running_app()
        return getattr(app, "keyboard_dock", None) if app is not None else None

    @property
    def keyboard(self) -> KioskKeyboard:
        return self._keyboard

    def attach(self, field: KioskTextInput) -> None:
        self._keyboard.attach(field)
        if not self.shown:
            self.add_widget(self._keyboard)
            self.shown = True
        Clock.schedule_once(lambda _dt: self.reveal(field), 0)

    def detach_if_unfocused(self, field: KioskTextInput) -> None:
        if self._keyboard.target is field and not field.focus:
            self.hide()

    def hide(self) -> None:
        keyboard = self._keyboard
        if keyboard.composer.active:
            # the letters typed but not turned into characters stay in the field as letters:
            # what the resident typed is never lost (a search for "gljt" still finds 高龄津贴)
            letters = keyboard.composer.letters.replace("'", "")
            keyboard.composer.reset()
            if keyboard.target is not None and letters:
                keyboard.target.composition = ""
                keyboard.target.insert_text(letters)
        target, keyboard.target = keyboard.target, None
        if target is not None:
            target.composition = ""
        if target is not None and target.focus:
            target.focus = False
        if self.shown:
            self.remove_widget(keyboard)
            self.shown = False

    @staticmethod
    def reveal(field: Widget) -> None:
        """Scroll the field's ScrollView so that the field is in sight above the keyboard."""
        parent = field.parent
        while parent is not None and not isinstance(parent, ScrollView):
            parent = None if parent.parent is parent else parent.parent  # the Window is its own parent
        if isinstance(parent, ScrollView):
            parent.scroll_to(field, padding=App.get_running_app().theme.px(24), animate=False)
