"""A multi-page material captured from the camera simulator lands as correct JPEG and PDF
files; auto-capture waits for a steady page and never takes the same page twice; retake
replaces a page; manual capture works without an outline."""
from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from drivers.camera.device import DocumentCamera
from drivers.camera.simulator import SimulatedSource
from kiosk.vision.capture import CaptureError, CaptureOptions, MaterialCapture
from kiosk.vision.live import LiveDetector


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def camera():
    source = SimulatedSource(1280, 720, fps=30, scene="document", tremor=0.3)
    cam = DocumentCamera(source)
    cam.open()
    cam.enable()
    yield cam, source
    cam.close()


def _run(live: LiveDetector, clock: FakeClock, cam: DocumentCamera, frames: int, on_ready):
    states = []
    for _ in range(frames):
        frame = cam.wait_frame(live.latest.seq if live.latest else 0)
        clock.now += 0.1
        result = live.step()
        if result is None:
            continue
        states.append(result.hint.state)
        if result.hint.state == "ready":
            on_ready(frame, result)
    return states


def test_two_pages_auto_captured_and_saved_as_jpeg_and_pdf(camera, tmp_path):
    cam, source = camera
    clock = FakeClock()
    material = MaterialCapture(CaptureOptions(dpi=120, steady_seconds=0.8, max_file_kb=400, enhance="scan"),
                               clock=clock)
    live = LiveDetector(cam.latest, material)

    def take(frame, result):
        material.capture(frame.image, result.detection, auto=True)

    states = _run(live, clock, cam, 14, take)
    assert "hold_still" in states and states.count("ready") == 1
    assert states[-1] == "captured"  # the same page is not taken again
    source.next_page()
    cam.wait_frame(cam.latest().seq + 1)
    states = _run(live, clock, cam, 14, take)
    assert states.count("ready") == 1
    assert len(material.pages) == 2 and all(p.auto and p.corners for p in material.pages)

    saved = material.save(tmp_path, "居住证申请-材料1")
    assert [p.name for p in saved.jpegs] == ["居住证申请-材料1-01.jpg", "居住证申请-材料1-02.jpg"]
    for path in saved.jpegs:
        data = path.read_bytes()
        assert len(data) <= 400 * 1024
        with Image.open(io.BytesIO(data)) as im:
            assert im.format == "JPEG" and im.info["dpi"][0] == pytest.approx(120, abs=1)
            assert im.size == (round(210 / 25.4 * 120), round(297 / 25.4 * 120))  # upright A4
            page = np.asarray(im.convert("L"), np.float32)
            assert page.mean() > 200  # a white page, not the desk
    pdf = saved.pdf.read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) <= 400 * 1024
    assert len(re.findall(rb"/Type /Page\b", pdf)) == 2
    # the two pages differ: page two is a form, not page one again
    one, two = (np.asarray(Image.open(p).convert("L"), np.float32) for p in saved.jpegs)
    assert np.abs(one - two).mean() > 5


def test_retake_replaces_the_page_and_manual_capture_needs_no_outline(camera):
    cam, source = camera
    material = MaterialCapture(CaptureOptions(dpi=100, steady_seconds=0, max_pages=2))
    first = material.capture(cam.wait_frame(0).image)
    assert first.corners is not None and not first.auto
    source.set_scene("empty")
    frame = cam.wait_frame(cam.latest().seq + 1)
    frame = cam.wait_frame(frame.seq)
    bare = material.capture(frame.image)
    assert bare.corners is None and bare.image.shape[:2] == frame.image.shape[:2]
    assert material.full
    with pytest.raises(CaptureError):
        material.capture(frame.image)
    material.retake(1)
    source.set_scene("document")
    frame = cam.wait_frame(cam.wait_frame(cam.latest().seq).seq)
    again = material.capture(frame.image)
    assert len(material.pages) == 2 and material.pages[1] is again and again.corners is not None
    with pytest.raises(CaptureError):
        material.retake(5)
    material.remove(0)
    assert len(material.pages) == 1


def test_auto_capture_off_and_no_pages_to_save(tmp_path):
    material = MaterialCapture(CaptureOptions(steady_seconds=0))
    with pytest.raises(CaptureError):
        material.save(tmp_path, "x")
    assert list(tmp_path.iterdir()) == []


def _steady(material: MaterialCapture, clock: FakeClock, frame, detection, times: int = 12) -> list[str]:
    states = []
    for _ in range(times):
        clock.now += 0.1
        states.append(material.observe(frame, detection).state)
    return states


def test_a_camera_starting_from_standby_takes_the_first_page_it_sees_unless_it_is_the_last_one_taken():
    """A document camera in standby shows nothing when a material is asked for: the page it
    sees first was laid down after the request (auto-captured), unless it is the page the last
    capture took, still lying where it was (not taken again until replaced)."""
    from kiosk.vision.detect import detect_document

    source = SimulatedSource(1280, 720, fps=30, scene="document", tremor=0.0)
    source.open()
    page_one = source.read()
    source.next_page()
    source.open()
    page_two = source.read()
    found_one, found_two = detect_document(page_one), detect_document(page_two)
    assert found_one is not None and found_two is not None
    clock = FakeClock()
    options = CaptureOptions(dpi=100, steady_seconds=0.5)

    asked_in_view = MaterialCapture(options, clock=clock)
    asked_in_view.wait_for_new_page()  # the camera was streaming: what lies there is the old page
    assert "ready" not in _steady(asked_in_view, clock, page_one, found_one)

    first = MaterialCapture(options, clock=clock)
    first.wait_for_new_page(None, in_view=False)  # nothing captured yet, nothing in view
    assert "ready" in _steady(first, clock, page_one, found_one)
    first.capture(page_one, found_one, auto=True)

    second = MaterialCapture(options, clock=clock)
    second.wait_for_new_page(first, in_view=False)
    assert "ready" not in _steady(second, clock, page_one, found_one)  # material one still lying there
    assert "ready" in _steady(second, clock, page_two, found_two)  # replaced by the next material
