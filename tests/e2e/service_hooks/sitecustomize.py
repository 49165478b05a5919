"""Test hooks for a kiosk run by a service manager (tests/e2e/test_service_manager.py).

Loaded through ``PYTHONPATH`` by the test's drop-in only; never installed. Python imports
``sitecustomize`` at start-up, before the kiosk:

- SIGUSR1 freezes the main thread — the Kivy loop — for good, while the other threads go on:
  what a hang in the UI looks like. The watchdog must notice.
- SIGUSR2 writes ``$KIOSK_TEST_REPORT`` (JSON): whether the kiosk's session held personal data
  before, and the session's scratch folder after it was given a resident's data — a form value
  in memory and a page image on disk, through the session's own API.
"""
import json
import os
import signal
import threading


def _freeze(_signum, _frame):
    threading.Event().wait()


def _resident(_signum, _frame):
    import gc

    from kiosk.session import Session

    sessions = [obj for obj in gc.get_objects() if isinstance(obj, Session)]
    report = {"sessions": len(sessions)}
    if sessions:
        session = sessions[0]
        report["held_before"] = session.holds_personal_data()
        folder = session.scratch_dir()
        (folder / "material-1-page-1.jpg").write_bytes(b"\xff\xd8\xff\xe0 resident's ID card page")
        session.values["phone"] = "13800138000"
        report["scratch"] = str(folder)
        report["held_after"] = session.holds_personal_data()
    path = os.environ["KIOSK_TEST_REPORT"]
    with open(path + ".tmp", "w") as handle:
        json.dump(report, handle)
    os.replace(path + ".tmp", path)


signal.signal(signal.SIGUSR1, _freeze)
signal.signal(signal.SIGUSR2, _resident)
