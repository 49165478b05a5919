"""One meaning for scanned data: the same bytes give the same text, or the same refusal, whether
a serial scanner sends them, they are classified directly, or a camera photographs the code."""
from __future__ import annotations

import io
import queue
from dataclasses import dataclass

import numpy as np
import pytest

from drivers.camera.scanner import CameraCodeScanner
from drivers.scanner.serial_scanner import SerialScanner
from drivers.scanner.simulator import ScannerSimulator
from kiosk.payloads import classify
from kiosk.vision.codes import read_codes

# (name, the code's bytes, the text every path must give — None: every path refuses, with this problem)
CASES = [
    ("utf8-chinese", "河易办 受理回执 HK1".encode("utf-8"), "河易办 受理回执 HK1", ""),
    ("gb18030-chinese", "东营市河口区便民服务中心".encode("gb18030"), "东营市河口区便民服务中心", ""),
    ("ascii-receipt", b"370503-20260612-000123", "370503-20260612-000123", ""),
    ("ascii-identity", b"HYBID:Ab3_x-9QrT5vWz0LmN2", "HYBID:Ab3_x-9QrT5vWz0LmN2", ""),
    # '河易办' in UTF-8 read by zbar as Shift-JIS and passed on as UTF-8
    ("zbar-mojibake", "豐ｳ譏灘萱".encode("utf-8"), "河易办", ""),
    ("binary-garbage", bytes([0x80, 0xFF, 0x81, 0x30, 0xFE, 0x01, 0x02]), None, "payload.undecodable"),
    ("control-garbage", b"HK\x1b[2J", None, "payload.garbage"),
    ("latin-1", "café crème".encode("latin-1"), "café crème", ""),
    ("shift-jis", "ご来店ありがとうございます 12".encode("shift_jis"), "ご来店ありがとうございます 12", ""),
    ("gb-or-katakana", "必不".encode("gb18030"), None, "payload.undecodable"),  # = ｱﾘｲｻ in Shift_JIS
]
IDS = [case[0] for case in CASES]


def _qr_image(raw: bytes) -> np.ndarray:
    """A QR code holding exactly ``raw`` in byte mode (segno, no ECI, no Kanji mode)."""
    import segno
    from PIL import Image

    buffer = io.BytesIO()
    segno.make(raw, mode="byte", micro=False, error="m").save(buffer, kind="png", scale=6, border=4)
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("L"))


@dataclass
class _Frame:
    seq: int
    image: np.ndarray


class StillCamera:
    """A camera that shows one picture, as a DocumentCamera's frames look to the scanner."""

    name = "still"
    is_open = True
    enabled = True

    def __init__(self, image: np.ndarray):
        self.image = image
        self.seq = 0

    def wait_frame(self, after: int, timeout: float = 1.0) -> _Frame:
        self.seq += 1
        return _Frame(self.seq, self.image)


@pytest.fixture(scope="module")
def serial_line(tmp_path_factory):
    simulator = ScannerSimulator(link=tmp_path_factory.mktemp("paths") / "scanner", wire_time=False).start()
    scanner = SerialScanner(simulator.path)
    events: queue.Queue = queue.Queue()
    scanner.subscribe_scans(events.put)
    scanner.open()
    scanner.enable()
    yield simulator, events
    scanner.close()
    simulator.stop()


def _expect(payload, text, problem):
    if text is None:
        assert payload.kind == "rejected" and payload.problem == problem
    else:
        assert payload.accepted and payload.text == text


@pytest.mark.parametrize("name,raw,text,problem", CASES, ids=IDS)
def test_serial_scanner_over_a_pty(serial_line, name, raw, text, problem):
    simulator, events = serial_line
    simulator.scan(raw)
    event = events.get(timeout=3)
    assert event.raw == raw and event.text == text and event.source == "scanner"
    assert bool(event.error) == (text is None)
    _expect(classify(event), text, problem)


@pytest.mark.parametrize("name,raw,text,problem", CASES, ids=IDS)
def test_classify_bytes(name, raw, text, problem):
    _expect(classify(raw, source="test"), text, problem)


def _camera_event(image: np.ndarray):
    """What the camera code scanner publishes for a picture, with the kiosk's pipeline as decoder."""
    scanner = CameraCodeScanner(StillCamera(image), lambda picture: read_codes(picture, mode="frame", refused=True),
                                name="camera_scanner")
    heard = []
    scanner.subscribe_scans(heard.append)
    scanner.open()
    published = scanner.scan_once()
    scanner.close()
    assert published == heard and len(heard) == 1
    return heard[0]


@pytest.mark.parametrize("name,raw,text,problem", CASES, ids=IDS)
def test_camera_scanner_and_vision_pipeline(name, raw, text, problem):
    image = _qr_image(raw)
    for mode in ("still", "frame"):
        codes = read_codes(image, mode=mode, refused=True)
        assert [(c.format, c.raw) for c in codes] == [("QR_CODE", raw)]
        assert codes[0].text == (text or "")
        assert [c.text for c in read_codes(image, mode=mode)] == ([text] if text else [])
    event = _camera_event(image)
    assert (event.format, event.raw, event.text, event.source) == ("QR_CODE", raw, text, "camera_scanner")
    _expect(classify(event), text, problem)


@pytest.mark.parametrize("name,raw,text,problem", CASES, ids=IDS)
def test_every_path_classifies_alike(serial_line, name, raw, text, problem):
    simulator, events = serial_line
    simulator.scan(raw)
    payloads = [classify(events.get(timeout=3)), classify(raw), classify(_camera_event(_qr_image(raw)))]
    assert len({(p.kind, p.text, p.value, p.problem) for p in payloads}) == 1
