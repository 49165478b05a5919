"""Event listener lists with unsubscribe: ``Listeners`` and the ``Subscription`` it hands out.

Devices, the device manager, the session, the status board, the translator and the backend
all keep their listeners in a ``Listeners``. It lives in ``drivers`` (the lowest layer) so that
drivers and the kiosk's core share one implementation.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


class Subscription:
    """What ``subscribe`` returns: ``cancel()`` removes the listener again (safe to call twice).

    A flow keeps the subscriptions it takes and cancels them all when it ends, so that a
    finished journey never hears another card, scan or door event.
    """

    def __init__(self, remove: Callable[[], None]):
        self._remove: Callable[[], None] | None = remove

    def cancel(self) -> None:
        remove, self._remove = self._remove, None
        if remove is not None:
            remove()

    @property
    def active(self) -> bool:
        return self._remove is not None

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *_exc) -> None:
        self.cancel()


class Listeners(Generic[T]):
    """One list of callbacks for one kind of event (cards, scans, doors, status, session…).

    ``add`` returns a ``Subscription``. ``publish`` calls every listener with the same
    arguments; a failing listener is logged and never stops the others or the publishing
    thread. Every listener list in the project is one of these.
    """

    def __init__(self, what: str, owner: str = ""):
        self.what = what
        self.owner = owner
        self._callbacks: list[Callable[..., None]] = []
        self._lock = threading.Lock()

    def add(self, listener: Callable[..., None]) -> Subscription:
        with self._lock:
            self._callbacks.append(listener)
        return Subscription(lambda: self.remove(listener))

    def remove(self, listener: Callable[..., None]) -> None:
        with self._lock:
            if listener in self._callbacks:
                self._callbacks.remove(listener)

    def __len__(self) -> int:
        return len(self._callbacks)

    def publish(self, *event: Any) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for listener in callbacks:
            try:
                listener(*event)
            except Exception:
                log.exception(f"{self.what} listener failed", extra={"fields": {"owner": self.owner}})
