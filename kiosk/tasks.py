"""Run slow work (device I/O, HTTP, image processing) off the UI thread.

``TaskRunner.submit(fn, on_done=..., on_error=...)`` runs ``fn`` on a worker thread and
hands the result to ``on_done`` (or the exception to ``on_error``) through ``deliver``:
a function that schedules a callable on the UI thread. The Kivy layer passes a deliverer
built on ``Clock.schedule_once`` (``screens.ui_thread``); tests pass one that queues.
Core code therefore never touches a Kivy object, and UI callbacks never run on a worker.
"""
from __future__ import annotations

import logging
import queue
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

log = logging.getLogger(__name__)

Deliver = Callable[[Callable[[], None]], None]


class TaskRunner:
    def __init__(self, deliver: Deliver, max_workers: int = 4, name: str = "kiosk-worker"):
        self._deliver = deliver
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name)

    def submit(self, fn: Callable[..., Any], *args: Any,
               on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None, **kwargs: Any) -> Future:
        future = self._pool.submit(fn, *args, **kwargs)

        def finished(done: Future) -> None:
            if done.cancelled():
                return
            error = done.exception()
            if error is not None:
                if on_error is None:
                    log.error("background task failed", exc_info=(type(error), error, error.__traceback__))
                    return
                self._deliver(lambda: on_error(error))
            elif on_done is not None:
                result = done.result()
                self._deliver(lambda: on_done(result))

        future.add_done_callback(finished)
        return future

    def shutdown(self, wait: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)


class QueueDeliverer:
    """A deliverer for code without a UI loop: callables wait until ``drain()`` runs them."""

    def __init__(self) -> None:
        self.pending: "queue.Queue[Callable[[], None]]" = queue.Queue()

    def __call__(self, callback: Callable[[], None]) -> None:
        self.pending.put(callback)

    def drain(self, timeout: float = 0.0) -> int:
        ran = 0
        try:
            callback = self.pending.get(timeout=timeout) if timeout else self.pending.get_nowait()
            while True:
                callback()
                ran += 1
                callback = self.pending.get_nowait()
        except queue.Empty:
            return ran
