"""Pictures as printer dots: logos and fallback QR codes as ``GS v 0`` raster bands.

A thermal printer prints black dots only. ``to_monochrome`` turns any Pillow image into
1-bit (Floyd–Steinberg dithering for photos, a plain threshold for line art), fitted to the
printable width; ``raster_bytes`` packs it 8 dots to a byte, MSB first, in bands of at most
``BAND_ROWS`` rows (cheap printers have small receive buffers).
"""
from __future__ import annotations

from PIL import Image, ImageOps

from drivers.printer.commands import QrErrorLevel, raster

BAND_ROWS = 256

_QR_LEVELS = {QrErrorLevel.L: 1, QrErrorLevel.M: 0, QrErrorLevel.Q: 3, QrErrorLevel.H: 2}  # qrcode's constants


def to_monochrome(image: Image.Image, max_width: int, dither: bool = False) -> Image.Image:
    """A 1-bit copy (black = 0) no wider than ``max_width`` dots, transparency on white."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    gray = image.convert("L")
    if gray.width > max_width:
        height = max(1, round(gray.height * max_width / gray.width))
        gray = gray.resize((max_width, height), Image.LANCZOS)
    if dither:
        return gray.convert("1")
    return gray.point(lambda v: 255 if v >= 128 else 0).convert("1", dither=Image.Dither.NONE)


def pack_rows(mono: Image.Image) -> tuple[int, bytes]:
    """(bytes per row, packed rows) with 1 = a black dot, padded with white to whole bytes."""
    width_bytes = (mono.width + 7) // 8
    padded = Image.new("1", (width_bytes * 8, mono.height), 1)
    padded.paste(mono, (0, 0))
    # Pillow packs mode "1" with 1 = white; the printer wants 1 = black.
    return width_bytes, ImageOps.invert(padded.convert("L")).convert("1").tobytes()


def raster_bytes(image: Image.Image, max_width: int, dither: bool = False) -> bytes:
    """``GS v 0`` commands printing ``image`` at most ``max_width`` dots wide."""
    mono = to_monochrome(image, max_width, dither)
    width_bytes, packed = pack_rows(mono)
    out = bytearray()
    for top in range(0, mono.height, BAND_ROWS):
        rows = min(BAND_ROWS, mono.height - top)
        out += raster(width_bytes, rows, packed[top * width_bytes:(top + rows) * width_bytes])
    return bytes(out)


def qr_image(data: bytes, module_size: int, level: QrErrorLevel, border: int = 2) -> Image.Image:
    """The QR symbol a printer would draw for ``data`` (byte mode, smallest version)."""
    import qrcode

    code = qrcode.QRCode(version=None, error_correction=_QR_LEVELS[QrErrorLevel(level)],
                         box_size=module_size, border=border)
    code.add_data(data, optimize=0)  # one byte-mode segment: no Kanji mode, exactly these bytes
    code.make(fit=True)
    matrix = code.get_matrix()  # includes the border
    cells = Image.new("L", (len(matrix), len(matrix)))
    cells.putdata([0 if dark else 255 for row in matrix for dark in row])
    size = len(matrix) * module_size
    image = cells.resize((size, size), Image.NEAREST).convert("1", dither=Image.Dither.NONE)
    return image


def qr_raster_bytes(data: bytes, module_size: int, level: QrErrorLevel, max_width: int) -> bytes:
    """The raster fallback for printers without native ``GS ( k`` QR."""
    image = qr_image(data, module_size, level, border=0)
    while image.width > max_width and module_size > 1:
        module_size -= 1
        image = qr_image(data, module_size, level, border=0)
    return raster_bytes(image, max_width)
