"""Background work hands its result back through the deliverer, never on the worker thread."""
from __future__ import annotations

import threading

from kiosk.tasks import QueueDeliverer, TaskRunner


def test_result_and_error_are_delivered_on_the_draining_thread():
    deliver = QueueDeliverer()
    runner = TaskRunner(deliver)
    seen = []

    def work(x):
        return x * 2, threading.current_thread().name

    def boom():
        raise RuntimeError("device gone")

    runner.submit(work, 21, on_done=lambda r: seen.append(("done", r[0], r[1], threading.current_thread().name)))
    runner.submit(boom, on_error=lambda e: seen.append(("error", str(e), threading.current_thread().name)))
    while len(seen) < 2:
        deliver.drain(timeout=5)
    runner.shutdown(wait=True)
    done = next(s for s in seen if s[0] == "done")
    error = next(s for s in seen if s[0] == "error")
    assert done[1] == 42 and done[2].startswith("kiosk-worker") and done[3] == threading.current_thread().name
    assert error[1] == "device gone" and error[2] == threading.current_thread().name
