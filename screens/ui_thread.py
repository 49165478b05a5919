"""Hop onto the Kivy thread: the deliverer that ``kiosk.tasks.TaskRunner`` uses in the UI."""
from __future__ import annotations

from typing import Callable

from kivy.clock import Clock


def kivy_deliver(callback: Callable[[], None]) -> None:
    """Run ``callback`` on the Kivy thread at the next frame (safe to call from any thread)."""
    Clock.schedule_once(lambda _dt: callback(), 0)
