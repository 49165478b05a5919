"""Listener lists: a subscription removes its listener, and a raising listener stops nobody."""
from __future__ import annotations

import logging

from drivers.events import Listeners


def test_cancelled_subscription_hears_nothing_more():
    heard: list[int] = []
    listeners: Listeners[int] = Listeners("test")
    subscription = listeners.add(heard.append)
    listeners.publish(1)
    subscription.cancel()
    subscription.cancel()  # twice is harmless
    listeners.publish(2)
    assert heard == [1]
    assert not subscription.active
    assert len(listeners) == 0


def test_a_raising_listener_does_not_stop_the_others(caplog):
    heard: list[str] = []
    listeners: Listeners[str] = Listeners("test")

    def broken(_event: str) -> None:
        raise RuntimeError("listener bug")

    listeners.add(broken)
    listeners.add(heard.append)
    with caplog.at_level(logging.ERROR):
        listeners.publish("card")
    assert heard == ["card"]
    assert "test listener failed" in caplog.text


def test_listener_may_unsubscribe_itself_while_being_called():
    heard: list[int] = []
    listeners: Listeners[int] = Listeners("test")
    holder = {}

    def once(event: int) -> None:
        heard.append(event)
        holder["sub"].cancel()

    holder["sub"] = listeners.add(once)
    listeners.publish(1)
    listeners.publish(2)
    assert heard == [1]


def test_every_listener_list_in_the_kiosk_returns_a_subscription(tmp_path):
    from kiosk.i18n import Translator
    from kiosk.session import Session
    from kiosk.status import Availability, StatusBoard

    session = Session(tmp_path)
    events: list[str] = []
    sub = session.subscribe(lambda event, _reason: events.append(event))
    session.start()
    sub.cancel()
    session.end("test")
    assert events == ["started"]

    board = StatusBoard()
    seen: list[Availability] = []
    board.subscribe(lambda _item: (_ for _ in ()).throw(RuntimeError("bad")))  # raises
    sub = board.subscribe(seen.append)
    board.publish(Availability("printer", True))
    sub.cancel()
    board.publish(Availability("printer", False))
    assert [item.available for item in seen] == [True]

    translator = Translator("zh")
    languages: list[str] = []
    sub = translator.subscribe(languages.append)
    translator.set_language("en")
    sub.cancel()
    translator.set_language("zh")
    assert languages == ["en"]
