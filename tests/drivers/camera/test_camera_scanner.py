"""The camera code scanner publishes each code once as a ScanEvent, like every code scanner,
with the one decoder's text, and survives bad decoders and bad listeners."""
from __future__ import annotations

import time

import numpy as np

from drivers.base import State
from drivers.camera.device import DocumentCamera
from drivers.camera.scanner import CameraCodeScanner
from drivers.camera.simulator import SimulatedSource


class Clock:
    now = 0.0

    def __call__(self):
        return self.now


def _scanner(decode, **kwargs):
    camera = DocumentCamera(SimulatedSource(320, 240, fps=60, scene="empty"))
    clock = Clock()
    received = []
    scanner = CameraCodeScanner(camera, decode, clock=clock, **kwargs)
    scanner.subscribe_scans(lambda event: received.append((event.text, event.format)))
    scanner.open()
    camera.enable()
    return scanner, camera, clock, received


def test_code_is_delivered_once_while_held_up_and_again_later():
    scanner, camera, clock, received = _scanner(lambda image: [("QR_CODE", "河易办:HK1".encode())],
                                                repeat_seconds=2.0)
    for _ in range(5):
        clock.now += 0.1
        scanner.scan_once()
    assert received == [("河易办:HK1", "QR_CODE")]
    assert scanner.counters["repeats"] == 4
    clock.now += 5
    scanner.scan_once()
    assert len(received) == 2
    scanner.close()
    camera.close()


def test_bytes_with_no_trustworthy_text_are_published_as_a_bad_scan_once():
    scanner, camera, clock, received = _scanner(lambda image: [("QR_CODE", b"\x80\xff\x81\x30\xfe"),
                                                               ("QR_CODE", "东营".encode("gb18030"))])
    events = scanner.scan_once()
    assert [(e.text, e.error, e.encoding) for e in events] == [(None, "undecodable", ""), ("东营", "", "gb18030")]
    clock.now += 0.1
    assert scanner.scan_once() == []
    assert scanner.counters["bad_scans"] == 1 and scanner.counters["scans"] == 1 and scanner.counters["repeats"] == 2
    scanner.close()
    camera.close()


def test_decoder_and_receiver_failures_cost_one_frame_only():
    calls = {"n": 0}

    def flaky(image):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("decoder crashed")
        return [("QR_CODE", f"code{calls['n']}".encode())]

    scanner, camera, clock, received = _scanner(flaky)
    scanner.subscribe_scans(lambda event: 1 / 0)
    assert scanner.scan_once() == []
    assert [(e.format, e.text, e.source) for e in scanner.scan_once()] == [("QR_CODE", "code2", "camera_scanner")]
    assert received == [("code2", "QR_CODE")] and scanner.counters["decode_errors"] == 1
    scanner.close()
    camera.close()


def test_real_pipeline_reads_a_code_held_up_to_the_simulated_camera():
    from kiosk.vision.codes import read_codes

    camera = DocumentCamera(SimulatedSource(1280, 720, fps=30, scene="qr", qr_text="取件码 4711 柜门 12"))
    received = []
    scanner = CameraCodeScanner(camera, lambda image: read_codes(image, mode="frame"))
    scanner.subscribe_scans(lambda event: received.append(event.text))
    scanner.open()
    scanner.enable()
    assert scanner.status.state is State.ONLINE and scanner.status.detail["scanning"]
    deadline = time.monotonic() + 5
    while not received and time.monotonic() < deadline:
        time.sleep(0.05)
    scanner.close()
    camera.close()
    assert received == ["取件码 4711 柜门 12"]
    assert np.all([isinstance(t, str) for t in received])
