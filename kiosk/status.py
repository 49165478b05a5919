"""What is working right now: the network and each device, for the top bar and for flows.

Components publish their availability (``StatusBoard.publish``); the UI reads a summary
and subscribes to changes. A flow that needs a device asks ``is_available`` and shows the
published reason when it is not.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from drivers.events import Listeners, Subscription


@dataclass(frozen=True)
class Availability:
    component: str  # "network", "idcard", "printer", ...
    available: bool | None  # None: not configured / unknown
    reason: str = ""  # a translation key or short technician text when unavailable


class StatusBoard:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, Availability] = {}
        self._listeners: Listeners[Availability] = Listeners("availability")

    def publish(self, item: Availability) -> None:
        with self._lock:
            changed = self._items.get(item.component) != item
            self._items[item.component] = item
        if changed:
            self._listeners.publish(item)

    def get(self, component: str) -> Availability:
        with self._lock:
            return self._items.get(component, Availability(component, None))

    def is_available(self, component: str) -> bool:
        return self.get(component).available is True

    def devices(self) -> list[Availability]:
        with self._lock:
            return [item for name, item in sorted(self._items.items()) if name != "network"]

    def subscribe(self, listener: Callable[[Availability], None]) -> Subscription:
        return self._listeners.add(listener)
