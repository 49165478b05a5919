"""The common device model: lifecycle, status events, health reports, error codes."""
from __future__ import annotations

import pytest

from drivers.base import (ERROR_CODES, Device, DeviceError, HealthLevel, HealthReport, NoDeviceError,
                          NotOpenError, State)


class FakeLamp(Device):
    device_class = "lamp"

    def __init__(self, present: bool = True):
        super().__init__()
        self.present = present
        self.closed_times = 0

    def _open(self):
        if not self.present:
            raise NoDeviceError("nothing at /dev/ttyUSB9")

    def _close(self):
        self.closed_times += 1

    def _health(self, level):
        self._require_open()
        return HealthReport(self.name, level, True, "lamp answers", [("echo", True, "ok")])


def test_lifecycle_publishes_status_and_close_is_idempotent():
    lamp = FakeLamp()
    events = []
    lamp.subscribe(events.append)
    lamp.open()
    lamp.enable()
    assert lamp.status.state is State.ONLINE and lamp.status.usable
    lamp.close()
    lamp.close()
    assert lamp.closed_times == 1
    assert [e.current.state for e in events] == [State.ONLINE, State.CLOSED]


def test_missing_device_is_no_device_with_stable_code():
    lamp = FakeLamp(present=False)
    with pytest.raises(NoDeviceError) as caught:
        lamp.open()
    assert lamp.status.state is State.NO_DEVICE
    assert caught.value.code == "DEV-002" and caught.value.explanation == ERROR_CODES["DEV-002"]
    assert lamp.counters["open_failures"] == 1


def test_health_of_closed_device_is_a_readable_fault_not_an_exception():
    report = FakeLamp().check_health(HealthLevel.INTERNAL)
    assert not report.ok
    assert "DEV-001" in report.text()
    lamp = FakeLamp()
    lamp.open()
    assert lamp.check_health("internal").ok
    assert "opens=1" in lamp.check_health("internal").text()


def test_enable_needs_open():
    with pytest.raises(NotOpenError):
        FakeLamp().enable()


def test_errors_carry_raw_bytes_and_every_code_is_documented():
    error = DeviceError("bad", raw=b"\xaa\x55", code="DEV-004")
    assert error.raw == b"\xaa\x55" and str(error).startswith("DEV-004")
    for cls in DeviceError.__subclasses__():
        assert cls.code in ERROR_CODES


def test_a_status_listener_waiting_for_a_lock_held_by_a_caller_of_the_device_does_not_deadlock():
    """The camera's supervisor closed it (status CLOSED told to the apply flow, which takes its
    own lock) while the flow, holding that lock, stopped the camera: both waited for ever (found
    in a full test run; the soak met a hang like it). Status is told once the device is let go."""
    import threading
    import time

    inside_close = threading.Event()

    class SlowToClose(FakeLamp):
        def _close(self):
            inside_close.set()
            time.sleep(0.3)  # the flow arrives while the device is still closing
            super()._close()

    lamp = SlowToClose()
    lamp.open()
    lamp.enable()
    flow_lock = threading.RLock()
    heard = []

    def flow_listener(event):
        with flow_lock:
            heard.append(event.current.state)
    lamp.subscribe(flow_listener)

    def flow_stops_the_device():
        with flow_lock:
            closer = threading.Thread(target=lamp.close, daemon=True)
            closer.start()
            inside_close.wait(5)
            lamp.disable()

    flow = threading.Thread(target=flow_stops_the_device, daemon=True)
    flow.start()
    flow.join(5)
    assert not flow.is_alive(), "the flow and the device's closer wait for each other"
    deadline = time.monotonic() + 5
    while State.CLOSED not in heard and time.monotonic() < deadline:
        time.sleep(0.01)
    assert heard and heard[-1] is State.CLOSED
