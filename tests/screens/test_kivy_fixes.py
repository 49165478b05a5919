"""Kivy corrections that keep a kiosk's memory flat over weeks (screens/kivy_fixes.py)."""
from __future__ import annotations

from kivy.clock import Clock
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView

from screens import kivy_fixes


def bar_colour_bindings(view: ScrollView) -> int:
    change = view._change_bar_color
    return sum(1 for name in ("bar_color", "bar_inactive_color")
               for observer in view.get_property_observers(name) if observer == change)


def test_a_list_laid_out_again_and_again_keeps_one_scroll_bar_binding():
    kivy_fixes.apply()
    view = ScrollView(size=(400, 300))
    view.add_widget(Label(size_hint_y=None, height=2000))
    for round_ in range(30):  # a results list rebuilt 30 times, each time laid out a few times
        for _ in range(4):
            view.update_from_scroll()
        Clock.tick()
        view._bind_inactive_bar_color()  # the fade that Kivy's 0.5 s trigger runs
    assert bar_colour_bindings(view) == 1
    view.update_from_scroll()
    view.update_from_scroll()
    assert bar_colour_bindings(view) == 1
