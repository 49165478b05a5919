"""The document camera as the apply flow sees it: the device, on and off, and whether it works.

``CameraAccess`` is built by the composition root from the device manager and the status
board: ``device()`` is the ``DocumentCamera`` (or None), ``start()``/``stop()`` run it only
while a material is being captured (streaming costs a core), ``available()`` and
``subscribe(listener)`` follow the camera's availability on the status board.
"""
from __future__ import annotations

from typing import Any, Callable

from drivers.events import Subscription

NAME = "camera"


class CameraAccess:
    def __init__(self, devices: Any | None, status: Any):
        self.devices = devices
        self.status = status

    def device(self) -> Any | None:
        return self.devices.device(NAME) if self.devices is not None else None

    def start(self) -> None:
        if self.devices is not None:
            self.devices.enable(NAME)

    def stop(self) -> None:
        if self.devices is not None:
            self.devices.disable(NAME)

    def available(self) -> bool:
        return self.status.is_available(NAME)

    def subscribe(self, listener: Callable[[bool], None]) -> Subscription:
        """``listener(available)`` when the camera's availability changes."""
        return self.status.subscribe(lambda item: listener(bool(item.available)) if item.component == NAME else None)
