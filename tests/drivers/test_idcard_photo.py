"""The card photo: raw WLT kept, a decoder plug-in used when present, a silhouette otherwise."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from drivers.idcard import photo


@pytest.fixture(autouse=True)
def no_decoder():
    photo.set_photo_decoder(None)
    yield
    photo.set_photo_decoder(None)


def test_without_a_decoder_the_silhouette_is_shown_at_card_photo_size():
    shown = photo.photo_for(b"\x01" * 1024)
    assert not shown.decoded
    assert Image.open(io.BytesIO(shown.png)).size == (102, 126)


def test_an_installed_decoder_gets_the_raw_bytes():
    seen = []
    png = io.BytesIO()
    Image.new("RGB", (102, 126), (200, 0, 0)).save(png, format="PNG")

    def decoder(wlt: bytes) -> bytes:
        seen.append(wlt)
        return png.getvalue()

    photo.set_photo_decoder(decoder)
    shown = photo.photo_for(b"WLT" + bytes(1021))
    assert shown.decoded and shown.png == png.getvalue() and seen == [b"WLT" + bytes(1021)]


@pytest.mark.parametrize("result", [RuntimeError("broken"), b"not a png"])
def test_a_failing_decoder_falls_back_to_the_silhouette(result):
    def decoder(_wlt):
        if isinstance(result, Exception):
            raise result
        return result

    photo.set_photo_decoder(decoder)
    assert not photo.photo_for(bytes(1024)).decoded
