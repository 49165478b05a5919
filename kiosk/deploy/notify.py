"""Talk to the service manager: READY once the kiosk is up, watchdog pings, STOPPING.

systemd gives a ``Type=notify`` service ``$NOTIFY_SOCKET`` and, with ``WatchdogSec=``,
``$WATCHDOG_USEC`` (and ``$WATCHDOG_PID``). ``ServiceNotifier.from_environment()`` reads them
once and removes them from the environment, so that programs the kiosk starts do not speak
for it. Without ``$NOTIFY_SOCKET`` (a developer's shell, a test) every call does nothing.

Who calls what: the UI (``screens.service_watch``) calls ``ready()`` after the home screen's
first frame and ``ping()`` from the Kivy clock every ``ping_interval()`` seconds — half the
watchdog time — so that a UI loop that stops turning stops the pings and systemd restarts the
kiosk.
"""
from __future__ import annotations

import logging
import os
from typing import Callable

log = logging.getLogger(__name__)

_VARIABLES = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


class ServiceNotifier:
    def __init__(self, send: Callable[[str], None] | None, watchdog_usec: int = 0):
        self._send = send
        self.watchdog_usec = watchdog_usec
        self.ready_sent = False

    @classmethod
    def from_environment(cls, pid: int | None = None) -> "ServiceNotifier":
        """Read ``$NOTIFY_SOCKET`` and the watchdog variables, then remove them from ``os.environ``."""
        values = {name: os.environ.get(name, "") for name in _VARIABLES}
        watchdog = 0
        if values["WATCHDOG_USEC"].isdigit() and values["WATCHDOG_PID"] in ("", str(pid or os.getpid())):
            watchdog = int(values["WATCHDOG_USEC"])
        notifier = None
        if values["NOTIFY_SOCKET"]:
            import sdnotify

            notifier = sdnotify.SystemdNotifier()  # connects to $NOTIFY_SOCKET
            if notifier.socket is None:
                log.warning("the service manager's notify socket cannot be reached")
                notifier = None
        for name in _VARIABLES:
            os.environ.pop(name, None)
        if notifier is None:
            return cls(None, 0)
        return cls(notifier.notify, watchdog)

    @property
    def enabled(self) -> bool:
        return self._send is not None

    def ping_interval(self) -> float | None:
        """Seconds between watchdog pings (half of ``WatchdogSec``), or None without a watchdog."""
        if not self.enabled or self.watchdog_usec <= 0:
            return None
        return self.watchdog_usec / 2_000_000

    def ready(self, status: str = "") -> None:
        """The kiosk is up (its home screen is drawn)."""
        self._notify("READY=1" + (f"\nSTATUS={status}" if status else ""))
        self.ready_sent = True

    def ping(self) -> None:
        self._notify("WATCHDOG=1")

    def status(self, text: str) -> None:
        self._notify(f"STATUS={text}")

    def stopping(self) -> None:
        self._notify("STOPPING=1")

    def _notify(self, message: str) -> None:
        if self._send is not None:
            self._send(message)
