"""Dropping kv bindings whose widget is gone, before an app-wide property changes.

kv rules that read ``app.theme.<size>`` or ``app.tr(...)`` bind the app's ``theme`` and ``tr``
with a weak proxy of the widget they set. Kivy removes those bindings when the widget is
collected, through a weak-reference callback; when the widget dies inside a reference cycle
that also holds the callback, Python never calls it, and the binding outlives its widget. The
next change of the property then raises ``ReferenceError`` half-way through its observers: the
widgets after it keep their old sizes or language, and the error ends the app's frame (seen once
under load in the accessibility walk, on 长辈模式 after an application). A widget can also die
during the change itself, when a collection on another thread has cleared its proxies and not
yet run its callback. So ``set_app_wide`` unbinds the observers that hold a dead proxy, sets the
property, and, when a widget died on the way, prunes again and dispatches the value once more
(the observers only set the same values again).
"""
from __future__ import annotations

import logging
import weakref
from typing import Any

from kivy.event import EventDispatcher
from kivy.weakproxy import WeakProxy

log = logging.getLogger(__name__)
_PROXIES = (WeakProxy, weakref.ProxyType, weakref.CallableProxyType)


def prune_dead_bindings(dispatcher: EventDispatcher, name: str) -> int:
    """Unbind the observers of ``dispatcher.name`` whose arguments hold a dead weak proxy;
    return how many."""
    dead = [uid for _callback, largs, _kwargs, _is_ref, uid in dispatcher.get_property_observers(name, args=True)
            if uid and _holds_dead_proxy(largs)]
    for uid in dead:
        dispatcher.unbind_uid(name, uid)
    if dead:
        log.info("dropped bindings of widgets that are gone", extra={"fields": {"property": name, "count": len(dead)}})
    return len(dead)


def set_app_wide(dispatcher: EventDispatcher, name: str, value: Any, attempts: int = 3) -> None:
    """``setattr(dispatcher, name, value)`` that every living widget bound to it sees."""
    prune_dead_bindings(dispatcher, name)
    try:
        setattr(dispatcher, name, value)
        return
    except ReferenceError:
        pass
    for attempt in range(attempts):
        prune_dead_bindings(dispatcher, name)
        try:
            dispatcher.property(name).dispatch(dispatcher)
            return
        except ReferenceError:
            if attempt == attempts - 1:
                raise


def _holds_dead_proxy(value: Any, depth: int = 0) -> bool:
    # kv's observers carry (…, [element proxy, key, …]) and lists of [proxy, attribute, …];
    # type() and not isinstance(): isinstance asks a dead proxy for its class, which raises
    kind = type(value)
    if kind in _PROXIES:
        try:
            value.__ref__() if kind is WeakProxy else value.__class__
        except ReferenceError:
            return True
        return False
    if depth < 3 and kind in (list, tuple):
        return any(_holds_dead_proxy(item, depth + 1) for item in value)
    return False
