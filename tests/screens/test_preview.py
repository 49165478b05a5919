"""The camera preview: one texture for all frames, the picture as the camera sees it, and the
outline drawn where the page is."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("kivy")


@pytest.fixture
def preview():
    from kivy.core.window import Window

    from screens.preview import CameraPreview

    kiosk_size = Window.size
    Window.size = (800, 600)
    widget = CameraPreview(size=(800, 600), pos=(0, 0))
    yield widget
    widget.detach()
    Window.size = kiosk_size  # the other screen tests run on the kiosk's portrait window


def _frame(seq: int) -> np.ndarray:
    image = np.zeros((720, 1280, 3), np.uint8)
    image[:360, :640] = (0, 0, 255)  # red top-left quarter (BGR)
    image[360:, 640:] = (255, 0, 0)  # blue bottom-right quarter
    image[0, 0] = (seq % 256, 0, 0)
    return image


def test_texture_is_created_once_and_updated_in_place(preview):
    for seq in range(5):
        preview.show_frame(_frame(seq))
    assert preview.textures_created == 1 and preview.frames_shown == 5
    assert preview.texture.size == (1280, 720)


def test_picture_is_drawn_upright_and_in_its_colours(preview):
    from kivy.lang import Builder

    preview.show_frame(_frame(1))
    Builder.sync()  # kv canvas expressions are applied just before a frame is drawn
    shot = preview.export_as_image()
    w, h = shot.texture.size
    pixels = np.frombuffer(shot.texture.pixels, np.uint8).reshape(h, w, 4)  # top row first

    def at(x, y):  # widget coordinates, y up
        return tuple(int(v) for v in pixels[h - 1 - y, x, :3])

    # the frame fills x 0..800, y 75..525; its red quarter is the top left, blue the bottom right
    assert at(100, 450) == (255, 0, 0)
    assert at(700, 150) == (0, 0, 255)
    assert at(700, 450) == (0, 0, 0)
    assert at(400, 20) == (18, 23, 38)  # letterbox background


def test_frame_is_letterboxed_at_its_aspect(preview):
    preview.show_frame(_frame(1))
    x, y, w, h = preview.display_rect
    assert (w, h) == pytest.approx((800, 450))
    assert (x, y) == pytest.approx((0, 75))


def test_outline_lands_on_the_page_and_disappears_without_one(preview):
    preview.show_frame(_frame(1))
    corners = [[100, 50], [1180, 60], [1170, 700], [110, 690]]
    preview.show_outline(corners, (1280, 720), "hold_still")
    points = np.array(preview.outline_points).reshape(4, 2)
    scale = 800 / 1280
    assert points[0] == pytest.approx((100 * scale, 75 + (720 - 50) * scale))  # TL near the top left
    assert points[2] == pytest.approx((1170 * scale, 75 + (720 - 700) * scale))
    assert preview.outline_colour[3] == 1
    preview.show_outline(corners, (1280, 720), "ready")
    assert preview.outline_colour[1] > preview.outline_colour[0]  # green when steady
    preview.show_outline(None, None, "searching")
    assert preview.outline_points == [] and preview.outline_colour[3] == 0


def test_large_frames_are_scaled_to_the_preview_width(preview):
    preview.show_frame(np.zeros((1080, 1920, 3), np.uint8))
    assert preview.texture.size == (1280, 720)
