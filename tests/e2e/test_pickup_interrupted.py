"""A kiosk that stopped between unlocking a door and confirming the pickup (power cut, kill -9)
tells staff when it starts again: nobody knows whether the resident took the result."""
from __future__ import annotations

import time

from backend_support import settings_for, start_reference_backend
from kiosk.pickup_ledger import PickupLedger
from kiosk.runtime import build_kiosk


def wait_for(condition, seconds: float = 20.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_door_unlocked_by_a_kiosk_that_stopped_is_reported_to_staff_once(tmp_path):
    backend = start_reference_backend(tmp_path / "backend.sqlite3")
    state = tmp_path / "state"
    state.mkdir()
    # the last life of the kiosk: door 7 unlocked and opened, door 3 confirmed, door 5 jammed (already told)
    ledger = PickupLedger(state / "pickup-ledger.sqlite3")
    for pickup_id, door, outcome in (("PU-OPENED", 7, "opened"), ("PU-DONE", 3, "confirmed"),
                                     ("PU-JAMMED", 5, "jammed"), ("PU-SENT", 9, None)):
        ledger.claim(pickup_id, door)
        if outcome:
            ledger.note(pickup_id, outcome)
    ledger.close()

    def interrupted_calls():
        return sorted(call.door for call in backend.store.staff_calls(open_only=False).calls
                      if call.alert == "pickup_interrupted")
    try:
        for _life in range(2):  # started again, then once more: each door is reported once
            kiosk = build_kiosk(settings_for(backend, state), start_devices=False)
            try:
                assert kiosk.services_ready.wait(20)
                assert wait_for(lambda: interrupted_calls() == [7, 9])
                assert kiosk.pickup_ledger().outcome("PU-OPENED") == "reported"
                assert kiosk.pickup_ledger().outcome("PU-DONE") == "confirmed"
            finally:
                kiosk.shutdown()
        assert interrupted_calls() == [7, 9]
    finally:
        backend.stop()
