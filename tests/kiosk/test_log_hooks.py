"""Uncaught errors and repeated messages go through the masking handler (issue 15)."""
from __future__ import annotations

import io
import logging
import sys
import threading

import pytest

from kiosk.logs import RepeatLimit, setup_logging

ID_NUMBER = "370503194003050029"


@pytest.fixture
def captured():
    stream = io.StringIO()
    saved = (sys.excepthook, threading.excepthook, logging.getLogger().level)
    handler = setup_logging("INFO", "text", stream)
    yield stream
    logging.getLogger().removeHandler(handler)
    sys.excepthook, threading.excepthook = saved[0], saved[1]
    logging.getLogger().setLevel(saved[2])


def test_an_uncaught_error_in_a_thread_is_logged_masked(captured):
    def crash():
        raise ValueError(f"bad card {ID_NUMBER}")

    thread = threading.Thread(target=crash, name="card-reader")
    thread.start()
    thread.join()
    text = captured.getvalue()
    assert "uncaught exception in a thread" in text and "card-reader" in text
    assert ID_NUMBER not in text and "3705**********0029" in text


def test_an_uncaught_error_on_the_main_thread_is_logged_masked(captured):
    try:
        raise RuntimeError(f"holder {ID_NUMBER}")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    text = captured.getvalue()
    assert "uncaught exception" in text and ID_NUMBER not in text


def test_a_message_repeated_in_a_tight_loop_is_limited_and_counted():
    now = {"t": 0.0}
    limit = RepeatLimit(per_minute=5, clock=lambda: now["t"])
    records = [logging.LogRecord("kiosk.devices", logging.ERROR, "", 0, "port gone", None, None) for _ in range(50)]
    passed = [limit.filter(record) for record in records]
    assert sum(passed) == 5
    other = logging.LogRecord("kiosk.devices", logging.ERROR, "", 0, "something else", None, None)
    assert limit.filter(other)
    now["t"] = 61.0
    assert limit.filter(records[0])  # a new minute
