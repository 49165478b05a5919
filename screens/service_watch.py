"""Keep the service manager informed from the Kivy clock.

After the home screen's first frame the kiosk tells systemd ``READY=1`` and confirms its
release (``kiosk.deploy.running.confirm_ready``); from then on a Kivy clock event sends a
watchdog ping every half ``WatchdogSec``. The pings come from the UI loop itself, so a loop
that hangs (a blocking call on the Kivy thread, a deadlock) stops them, and systemd kills and
restarts the kiosk. With a watchdog, ``faulthandler`` is on: the SIGABRT of a watchdog timeout
writes every thread's stack to the journal (code locations only, no data).
"""
from __future__ import annotations

import faulthandler
import logging
from typing import Callable

from kivy.clock import Clock

from kiosk.deploy.notify import ServiceNotifier
from kiosk.deploy.running import confirm_ready

log = logging.getLogger(__name__)


def watch_service(app, notifier: ServiceNotifier | None = None,
                  on_ready: Callable[[], object] = confirm_ready) -> ServiceNotifier:
    """Hook ``notifier`` (by default from the environment) into ``app``'s first frame and clock."""
    notifier = notifier or ServiceNotifier.from_environment()
    if not notifier.enabled:
        return notifier
    interval = notifier.ping_interval()
    if interval:
        faulthandler.enable()

    def ready() -> None:
        notifier.ready("home screen drawn")
        release = on_ready()
        log.info("service ready", extra={"fields": {"release": release or "checkout",
                                                    "watchdog_seconds": interval}})
        if interval:
            notifier.ping()
            event = Clock.schedule_interval(lambda _dt: notifier.ping(), interval)
            app.bind(on_stop=lambda *_: event.cancel())

    app.after_first_frame.append(ready)
    app.bind(on_stop=lambda *_: notifier.stopping())
    return notifier
