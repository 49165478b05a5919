"""Pictures in an ESC/POS stream, as 1-bit PIL images (black = 0): ``ESC *`` column images,
``GS ( L`` / ``GS 8 L`` raster graphics, ``GS ( k`` PDF417 symbols and ``GS k`` barcodes.

Dot sizes follow a 203 dpi printer (TM-T20 class): ``ESC *`` 8-dot modes print each dot
3 dots tall, single-density modes 2 dots wide; ``GS ( L`` scales by its ``bx``/``by``.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

#: ESC * m → (bytes per column, horizontal scale, vertical scale)
BIT_IMAGE_MODES = {0: (1, 2, 3), 1: (1, 1, 3), 32: (3, 2, 1), 33: (3, 1, 1)}


def _from_ink(ink: np.ndarray) -> Image.Image:
    """A boolean array (True = black dot) → mode "1" image with black as 0."""
    return Image.fromarray(np.where(ink, 0, 255).astype(np.uint8)).convert("1", dither=Image.Dither.NONE)


def bit_image(m: int, data: bytes) -> Image.Image:
    """``ESC * m nL nH d…``: columns of 8 (m 0, 1) or 24 (m 32, 33) dots, most significant bit on top."""
    per_column, scale_x, scale_y = BIT_IMAGE_MODES[m]
    columns = len(data) // per_column
    bits = np.unpackbits(np.frombuffer(data[:columns * per_column], dtype=np.uint8))
    ink = bits.reshape(columns, per_column * 8).T.astype(bool)
    ink = ink.repeat(scale_y, axis=0).repeat(scale_x, axis=1)
    return _from_ink(ink)


class GraphicsError(ValueError):
    """A graphics function the simulator does not draw (the message says which)."""


def raster_graphics(body: bytes) -> Image.Image:
    """``GS ( L`` function 112 body (``m fn a bx by c xL xH yL yH d…``) → the stored picture."""
    if len(body) < 10:
        raise GraphicsError("GS ( L 112: too short")
    _m, _fn, tone, bx, by, colour = body[:6]
    width, height = body[6] | body[7] << 8, body[8] | body[9] << 8
    if tone not in (48, 52):
        raise GraphicsError(f"GS ( L 112: tone {tone} (only monochrome 48 is drawn)")
    if bx not in (1, 2) or by not in (1, 2):
        raise GraphicsError("GS ( L 112: scale must be 1 or 2")
    row_bytes = (width + 7) // 8
    data = body[10:10 + row_bytes * height]
    if len(data) < row_bytes * height or not width or not height:
        raise GraphicsError("GS ( L 112: data shorter than its size")
    if colour != 49:  # colours 2–4 print nothing on a one-colour thermal head
        return Image.new("1", (width * bx, height * by), 1)
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8)).reshape(height, row_bytes * 8)[:, :width]
    return _from_ink(bits.astype(bool).repeat(by, axis=0).repeat(bx, axis=1))


def bars(modules: str, module_width: int, height: int) -> Image.Image:
    """A 1-D barcode's modules drawn ``module_width`` dots each, ``height`` dots tall."""
    row = np.array([c == "1" for c in modules], dtype=bool).repeat(module_width)
    return _from_ink(np.tile(row, (max(1, height), 1)))


def pdf417(data: bytes, columns: int, rows: int, module_width: int, row_height: int, level: int | None,
           ratio: int | None, truncated: bool, max_width: int) -> Image.Image:
    """A PDF417 symbol as ``GS ( k`` (cn 48) parameters describe it, drawn with pdf417gen.

    ``columns`` 0 means automatic (the widest that fits); ``rows`` is left to the encoder; ``level`` is the error-correction level 0–8, or
    ``ratio`` (1–40, tenths of the data) chooses it; the symbol is narrowed to fit ``max_width``.
    A truncated symbol (``truncated``) is drawn as a standard one: it reads the same."""
    from pdf417gen import encode, render_image

    if level is None:
        words = max(1, len(data) // 2)
        wanted = words * (ratio or 1) // 10
        level = next((lv for lv in range(9) if 2 ** (lv + 1) >= wanted), 8)
    text = data.decode("latin-1")
    choices = [columns] if columns else list(range(min(30, max(1, max_width // (17 * module_width) - 4)), 0, -1))
    last_error: Exception | None = None
    for cols in choices:
        try:
            codes = encode(text, columns=cols, security_level=level, encoding="latin-1")
        except Exception as exc:  # too much data for this many columns
            last_error = exc
            continue
        image = render_image(codes, scale=module_width, ratio=row_height, padding=0).convert("L")
        if image.width <= max_width:
            return image.point(lambda v: 0 if v < 128 else 255).convert("1", dither=Image.Dither.NONE)
    raise GraphicsError(f"GS ( k PDF417: cannot be drawn within the paper ({last_error or 'too wide'})")
