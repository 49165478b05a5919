"""Work runs on a worker; its result reaches the UI on the Kivy thread."""
from __future__ import annotations

import threading
import time

from kivy.config import Config
from kivy.core.window import Window


def test_task_result_arrives_on_the_kivy_thread(kiosk_app):
    seen = {}

    def slow_device_read():
        seen["worker"] = threading.current_thread()
        time.sleep(0.05)
        return "card"

    kiosk_app.app.tasks.submit(slow_device_read,
                               on_done=lambda result: seen.update(result=result, ui=threading.current_thread()))
    deadline = time.monotonic() + 5
    while "ui" not in seen and time.monotonic() < deadline:
        kiosk_app.wait(0.02)
    assert seen["result"] == "card"
    assert seen["worker"] is not threading.main_thread()
    assert seen["ui"] is threading.main_thread()


def test_kiosk_window_settings_and_hidden_pointer(start_app):
    start_app(display={"hide_cursor": True})
    # no screen blanking, Esc never exits, borderless at the screen's size, no pointer
    assert Config.get("graphics", "allow_screensaver") == "0"
    assert Config.get("kivy", "exit_on_escape") == "0"
    assert Config.get("graphics", "borderless") == "1"
    assert Window.size == (1080, 1920)
    assert Window.show_cursor is False
