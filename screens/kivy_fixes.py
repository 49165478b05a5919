"""Corrections to Kivy 2.3 that a kiosk running for weeks in one process needs.

``ScrollView.update_from_scroll`` binds ``_change_bar_color`` to ``bar_color`` every time the
content moves or changes size, and the 0.5 s trigger that fades the bar unbinds it once. A list
that is rebuilt or laid out several times within half a second (search results, a guide, the
materials of an application) leaves one binding more each time: the soak through the screens
counted about 40 more per resident session, for ever (a binding record and a bound method each,
and every later ``bar_color`` change calls them all). Unbinding before Kivy binds again keeps
exactly one. ``apply()`` is idempotent and runs when ``screens.app`` is imported.
"""
from __future__ import annotations

from functools import wraps

from kivy.uix.scrollview import ScrollView

_PATCHED = "_kiosk_single_bar_color_binding"


def apply() -> None:
    if getattr(ScrollView, _PATCHED, False):
        return
    update_from_scroll = ScrollView.update_from_scroll
    bind_inactive_bar_color = ScrollView._bind_inactive_bar_color

    @wraps(update_from_scroll)  # Kivy's clock finds a bound method again by its name
    def update_from_scroll_once_bound(self, *largs):
        self.funbind("bar_color", self._change_bar_color)  # Kivy binds it again just below
        return update_from_scroll(self, *largs)

    @wraps(bind_inactive_bar_color)
    def bind_inactive_bar_color_once(self, *largs):
        self.funbind("bar_inactive_color", self._change_bar_color)
        return bind_inactive_bar_color(self, *largs)

    ScrollView.update_from_scroll = update_from_scroll_once_bound
    ScrollView._bind_inactive_bar_color = bind_inactive_bar_color_once
    setattr(ScrollView, _PATCHED, True)
