"""The document camera device: lifecycle and status, the latest frame, dropped frames,
unplug → OFFLINE and recovery by reopening, no device, and the real OpenCV source."""
from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from drivers.base import ConnectionLost, DeviceTimeout, HealthLevel, NoDeviceError, NotOpenError, State
from drivers.camera.device import DocumentCamera
from drivers.camera.simulator import SimulatedSource
from drivers.camera.sources import OpenCVSource


def _wait(predicate, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_lifecycle_frames_and_status_events():
    camera = DocumentCamera(SimulatedSource(640, 360, fps=30))
    events = []
    camera.subscribe(events.append)
    with pytest.raises(NotOpenError):
        camera.wait_frame(0)
    camera.open()
    assert camera.status.state is State.ONLINE
    assert camera.status.detail["width"] == 640 and camera.status.detail["fourcc"] == "MJPG"
    camera.enable()
    first = camera.wait_frame(0)
    later = camera.wait_frame(first.seq)
    assert later.seq > first.seq and later.image.shape == (360, 640, 3)
    assert camera.latest().seq >= later.seq
    assert camera.counters["frames"] >= 2
    report = camera.check_health(HealthLevel.EXTERNAL)
    assert report.ok, report.text()
    camera.close()
    camera.close()
    assert camera.status.state is State.CLOSED
    streaming = [e.current.detail.get("streaming") for e in events if e.current.state is State.ONLINE]
    assert streaming[:3] == [False, True, False]  # opened, enabled, disabled on the way to closed


def test_slow_camera_counts_dropped_frames():
    source = SimulatedSource(320, 240, fps=30, fault="slow")
    camera = DocumentCamera(source)
    camera.open()
    camera.enable()
    assert _wait(lambda: camera.counters["frames"] >= 4, 5)
    assert camera.counters["dropped_frames"] >= 10  # 3 fps delivered of 30 promised
    camera.close()


def test_unplug_mid_stream_goes_offline_and_reopen_recovers():
    source = SimulatedSource(320, 240, fps=30)
    camera = DocumentCamera(source)
    camera.open()
    camera.enable()
    camera.wait_frame(0)
    source.set_fault("unplug")
    assert _wait(lambda: camera.status.state is State.OFFLINE)
    assert camera.status.error_code == "DEV-010" and camera.counters["disconnects"] == 1
    with pytest.raises(ConnectionLost):
        camera.wait_frame(camera.latest().seq, timeout=0.5)
    assert not camera.check_health().ok
    # replugged: the device manager closes and reopens
    source.set_fault("none")
    camera.close()
    camera.open()
    camera.enable()
    assert camera.status.state is State.ONLINE
    assert camera.wait_frame(0).image.shape == (240, 320, 3)
    camera.close()


def test_no_device_is_reported_as_such():
    camera = DocumentCamera(SimulatedSource(320, 240, fault="no_device"))
    with pytest.raises(NoDeviceError):
        camera.open()
    assert camera.status.state is State.NO_DEVICE and camera.status.error_code == "DEV-002"


def test_missing_v4l2_device_is_no_device():
    camera = DocumentCamera(OpenCVSource("/dev/video97"))
    with pytest.raises(NoDeviceError):
        camera.open()
    assert camera.status.state is State.NO_DEVICE


class SilentSource:
    def open(self):
        from drivers.camera.sources import StreamFormat

        return StreamFormat(320, 240, "MJPG", 30)

    def read(self):
        time.sleep(0.01)
        return None

    def close(self):
        pass


def test_camera_that_delivers_nothing_is_refused():
    camera = DocumentCamera(SilentSource(), first_frame_timeout=0.2)
    with pytest.raises(DeviceTimeout):
        camera.open()
    assert camera.status.state is State.OFFLINE


def test_opencv_source_reads_an_mjpg_stream_and_end_of_stream_is_a_disconnect(tmp_path):
    path = tmp_path / "camera.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (320, 240))
    assert writer.isOpened()
    for i in range(12):
        frame = np.full((240, 320, 3), 20 * i % 255, np.uint8)
        cv2.putText(frame, str(i), (100, 150), cv2.FONT_HERSHEY_SIMPLEX, 3, (255, 255, 255), 5)
        writer.write(frame)
    writer.release()
    camera = DocumentCamera(OpenCVSource(str(path), 320, 240, "MJPG", 30), max_failed_reads=2)
    camera.open()
    assert camera.format.width == 320 and camera.format.fourcc == "MJPG"
    camera.enable()
    assert _wait(lambda: camera.status.state is State.OFFLINE)
    assert camera.counters["frames"] == 12 and camera.counters["disconnects"] == 1
    camera.close()


def test_tester_drives_the_simulator_through_its_control_file(tmp_path):
    import json

    control = tmp_path / "camera-sim.json"
    camera = DocumentCamera(SimulatedSource(320, 240, 30, control_path=str(control)))
    source = camera.source
    control.write_text(json.dumps({"scene": "qr", "qr_text": "取件码 8841"}), encoding="utf-8")
    camera.open()
    assert (source.scene, source.qr_text) == ("qr", "取件码 8841")
    control.write_text("{not json", encoding="utf-8")
    source._poll_control(force=True)  # a broken file is ignored, the stream goes on
    assert source.scene == "qr"
    camera.close()


# -- standby (issue 16, memory): probed at open, streaming only while enabled ----------------------

class _CountingSource(SimulatedSource):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.opens = 0

    def open(self):
        self.opens += 1
        return super().open()


def test_a_camera_in_standby_is_probed_at_open_and_streams_only_while_enabled():
    source = _CountingSource(640, 360, fps=30)
    camera = DocumentCamera(source, standby=True)
    camera.open()
    assert camera.status.state is State.ONLINE and camera.status.detail["standby"] is True
    assert camera.format.width == 640
    assert source.opens == 0 and not source.is_open and camera.latest() is None  # no stream, no frame
    assert source._base is None and not source._noise_frames  # nothing rendered
    camera.enable()  # the stream opens on the capture thread
    first = camera.wait_frame(0, timeout=5.0)
    assert first.image.shape == (360, 640, 3) and source.opens == 1
    camera.disable()
    assert not source.is_open and camera.latest() is None  # the frames are dropped
    assert source._base is None and not source._noise_frames
    camera.enable()
    assert camera.wait_frame(0, timeout=5.0).image.shape == (360, 640, 3) and source.opens == 2
    camera.close()
    assert not source.is_open


def test_a_camera_in_standby_that_is_not_there_is_no_device():
    camera = DocumentCamera(SimulatedSource(320, 240, fault="no_device"), standby=True)
    with pytest.raises(NoDeviceError):
        camera.open()
    assert camera.status.state is State.NO_DEVICE
    with pytest.raises(NoDeviceError):
        DocumentCamera(OpenCVSource("/dev/video-that-is-not-there"), standby=True).open()


def test_a_camera_in_standby_whose_stream_fails_goes_offline():
    source = SimulatedSource(320, 240)
    camera = DocumentCamera(source, standby=True, first_frame_timeout=0.5)
    camera.open()
    source.set_fault("no_device")  # unplugged after the probe
    camera.enable()
    assert _wait(lambda: camera.status.state is State.OFFLINE, 3)
    camera.close()


def test_the_external_health_check_of_a_camera_in_standby_looks_at_one_frame():
    source = SimulatedSource(320, 240)
    camera = DocumentCamera(source, standby=True)
    camera.open()
    report = camera.check_health(HealthLevel.EXTERNAL)
    assert report.ok, report.text()
    assert any(name == "picture" for name, _ok, _detail in report.checks)
    assert not source.is_open and camera.latest() is None  # opened for the check, closed after
    camera.close()


def test_building_a_camera_in_standby_loads_neither_opencv_nor_numpy(tmp_path):
    """What keeps the kiosk under 250 MiB with a document camera: measured by
    benchmarks/startup.py; here, that nothing heavy is imported before a capture."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from drivers.camera.device import DocumentCamera\n"
            "from drivers.camera.simulator import SimulatedSource\n"
            "camera = DocumentCamera(SimulatedSource(320, 240), standby=True)\n"
            "camera.open()\n"
            "print(sorted(m for m in ('cv2', 'numpy', 'PIL') if m in sys.modules))\n"
            "camera.enable(); camera.wait_frame(0, timeout=5.0); camera.close()\n"
            "print(sorted(m for m in ('cv2', 'numpy') if m in sys.modules))\n")
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-800:]
    assert out.stdout.split("\n")[:2] == ["[]", "['cv2', 'numpy']"]
