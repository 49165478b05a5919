"""Read QR and bar codes from camera frames and still images, better than any one decoder.

Two decoders and a ladder of preprocessing steps; the ladder stops at the first step that
gives a trustworthy result:

1. the grey image, QR codes only: zxing-cpp (it tries rotations by 90°, downscaling and
   inversion itself) — fast, and most frames end here — then zbar in *binary* mode
   (pyzbar's own ``decode`` does not offer it, so zbar is driven through pyzbar's ctypes
   wrapper): raw bytes instead of zbar's Shift-JIS guess;
2. the grey image, every symbology (1-D barcodes, Data Matrix, Aztec, PDF417), both decoders
   — so the pipeline reads everything either decoder reads on its own;
3. contrast-equalised (CLAHE) grey;
4. adaptive threshold;
5. rescaled (×2 for small frames / codes, ×0.5 for large blurred ones);
6. sharpened (unsharp mask);
7. turned by 45° (zbar reads 1-D codes only along rows and columns).

``mode="frame"`` (live camera frames: residents hold up QR codes) runs zxing-cpp on the grey
frame, zbar on a half-size copy and zxing-cpp on a CLAHE copy, QR codes only, to keep the
frame rate; ``mode="still"`` runs the whole ladder. Every result's bytes go through the one
code decoder, ``drivers.codetext.decode_code_text`` — the same as a serial scanner's bytes:
UTF-8 first, GB18030 only where the bytes say so, zbar's Shift-JIS mojibake repaired, and a
payload that would come out as mojibake is refused. The decoders' own text is never used.
A code found but refused is skipped, or, with ``refused=True``, returned after the readable
ones with ``text=""`` and the decoder's ``problem``. Corners are in the input image's pixels.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import cv2
import numpy as np

from drivers.codetext import decode_code_text

log = logging.getLogger(__name__)

ZBAR_CFG_BINARY = 4  # zbar_config_e.ZBAR_CFG_BINARY (zbar ≥ 0.22): keep QR bytes as they are


@dataclass(frozen=True)
class Code:
    format: str  # QR_CODE, EAN_13, CODE_128, DATA_MATRIX, PDF_417, …
    text: str  # "" when the bytes hold no trustworthy text (see ``problem``)
    corners: tuple[tuple[float, float], ...]  # in the input image's pixels
    encoding: str  # as drivers.codetext reports it: ascii | utf-8 | gb18030 | …; "" when refused
    decoder: str  # zxing | zbar
    raw: bytes = field(repr=False, default=b"")
    problem: str = ""  # "" for a readable code; else empty | undecodable | garbage (drivers.codetext)

    def as_json(self) -> dict:
        corners = [[round(x, 1), round(y, 1)] for x, y in self.corners]
        if self.problem:
            return {"format": self.format, "problem": self.problem, "corners": corners}
        return {"format": self.format, "text": self.text, "corners": corners}


@dataclass
class ReadStats:
    stage: str = ""  # the step that produced the result ("" when nothing was read)
    attempts: int = 0
    rejected: int = 0  # decoded symbols whose bytes were not trustworthy text
    ms: float = 0.0


# ---------------------------------------------------------------------------------------
# The two decoders, as raw symbols: (format, raw bytes, corners, decoder)


@dataclass(frozen=True)
class _Symbol:
    format: str
    raw: bytes
    corners: np.ndarray  # (n, 2) in the image the decoder saw
    decoder: str


_ZXING_NAMES = {"QRCode": "QR_CODE", "MicroQRCode": "MICRO_QR_CODE", "RMQRCode": "RMQR_CODE",
                "DataMatrix": "DATA_MATRIX", "PDF417": "PDF_417", "Aztec": "AZTEC", "EAN13": "EAN_13",
                "EAN8": "EAN_8", "UPCA": "UPC_A", "UPCE": "UPC_E", "Code128": "CODE_128", "Code39": "CODE_39",
                "Code93": "CODE_93", "Codabar": "CODABAR", "ITF": "ITF", "DataBar": "DATABAR",
                "DataBarExpanded": "DATABAR_EXPANDED", "MaxiCode": "MAXICODE"}
_ZBAR_NAMES = {"QRCODE": "QR_CODE", "EAN13": "EAN_13", "EAN8": "EAN_8", "UPCA": "UPC_A", "UPCE": "UPC_E",
               "CODE128": "CODE_128", "CODE39": "CODE_39", "CODE93": "CODE_93", "CODABAR": "CODABAR",
               "I25": "ITF", "PDF417": "PDF_417", "DATABAR": "DATABAR", "DATABAR_EXP": "DATABAR_EXPANDED",
               "ISBN10": "ISBN_10", "ISBN13": "ISBN_13", "SQCODE": "SQ_CODE"}


def _zxing_format(fmt) -> str:
    name = getattr(fmt, "name", None) or str(fmt)
    return _ZXING_NAMES.get(name, name.upper().replace(" ", "_").replace("-", "_"))


def zxing_symbols(grey: np.ndarray, qr_only: bool = False) -> list[_Symbol]:
    import zxingcpp

    out = []
    found = (zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormat.QRCode) if qr_only
             else zxingcpp.read_barcodes(grey))
    for result in found:
        if not getattr(result, "valid", True):
            continue
        pos = result.position
        corners = np.array([[pos.top_left.x, pos.top_left.y], [pos.top_right.x, pos.top_right.y],
                            [pos.bottom_right.x, pos.bottom_right.y], [pos.bottom_left.x, pos.bottom_left.y]],
                           np.float64)
        out.append(_Symbol(_zxing_format(result.format), bytes(result.bytes), corners, "zxing"))
    return out


_ZBAR_OFF: tuple = ()


def _zbar_raw(grey: np.ndarray, binary: bool = True, qr_only: bool = False) -> list:
    from ctypes import c_void_p, cast

    from pyzbar import pyzbar as pz
    from pyzbar.wrapper import (ZBarSymbol, zbar_image_scanner_set_config, zbar_image_set_data,
                                zbar_image_set_format, zbar_image_set_size, zbar_scan_image)

    global _ZBAR_OFF
    if not _ZBAR_OFF:
        _ZBAR_OFF = tuple(getattr(ZBarSymbol, name) for name in ("DATABAR", "DATABAR_EXP") if hasattr(ZBarSymbol, name))
    grey = np.ascontiguousarray(grey)
    pixels = grey.tobytes()
    height, width = grey.shape
    with pz._image_scanner() as scanner:
        if binary:
            zbar_image_scanner_set_config(scanner, ZBarSymbol.QRCODE, ZBAR_CFG_BINARY, 1)
        if qr_only:  # ZBAR_NONE (0) addresses every symbology
            zbar_image_scanner_set_config(scanner, 0, 0, 0)
            zbar_image_scanner_set_config(scanner, ZBarSymbol.QRCODE, 0, 1)
        for noisy in _ZBAR_OFF:  # zbar's DataBar decoder prints assertion noise on busy frames
            zbar_image_scanner_set_config(scanner, noisy, 0, 0)
        with pz._image() as image:
            zbar_image_set_format(image, pz._FOURCC["L800"])
            zbar_image_set_size(image, width, height)
            zbar_image_set_data(image, cast(pixels, c_void_p), len(pixels), None)
            if zbar_scan_image(scanner, image) < 0:
                return []
            return list(pz._decode_symbols(pz._symbols_for_image(image)))


def zbar_symbols(grey: np.ndarray, qr_only: bool = False) -> list[_Symbol]:
    try:
        decoded = _zbar_raw(grey, binary=True, qr_only=qr_only)
    except (AttributeError, ImportError):  # a pyzbar without the private helpers
        from pyzbar import pyzbar

        decoded = pyzbar.decode(grey, symbols=[pyzbar.ZBarSymbol.QRCODE] if qr_only else None)
    out = []
    for item in decoded:
        # without binary mode zbar hands over its own conversion (UTF-8 of a Shift-JIS guess):
        # the one decoder repairs that mojibake as it does for a scanner that sends it
        corners = np.array([[p.x, p.y] for p in item.polygon], np.float64).reshape(-1, 2)
        out.append(_Symbol(_ZBAR_NAMES.get(item.type, str(item.type)), bytes(item.data), corners, "zbar"))
    return out


# ---------------------------------------------------------------------------------------
# Preprocessing steps: each returns (image for the decoders, matrix mapping its pixels back)


Step = tuple[str, Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None]], tuple[str, ...]]


def _identity(grey):
    return grey, None


def _clahe(grey):
    return cv2.createCLAHE(clipLimit=2.5, tileGridSize=(8, 8)).apply(grey), None


def _adaptive(grey):
    block = max(15, (min(grey.shape) // 30) | 1)
    return cv2.adaptiveThreshold(cv2.GaussianBlur(grey, (3, 3), 0), 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C,
                                 cv2.THRESH_BINARY, block, 5), None


def _scaled(factor: float):
    def step(grey):
        resized = cv2.resize(grey, None, fx=factor, fy=factor,
                             interpolation=cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA)
        back = np.array([[1 / factor, 0, 0], [0, 1 / factor, 0]], np.float64)
        return resized, back
    return step


def _rescale(grey):
    # small frames (or far-away codes) gain from ×2; big blurred ones from ×0.5
    return _scaled(2.0)(grey) if max(grey.shape) <= 1000 else _scaled(0.5)(grey)


def _sharpen(grey):
    blurred = cv2.GaussianBlur(grey, (0, 0), 2.0)
    return cv2.addWeighted(grey, 1.8, blurred, -0.8, 0), None


def _turn45(grey):
    h, w = grey.shape
    size = int(np.ceil(np.hypot(h, w)))
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), 45, 1.0)
    matrix[:, 2] += [(size - w) / 2, (size - h) / 2]
    turned = cv2.warpAffine(grey, matrix, (size, size), borderValue=255)
    return turned, cv2.invertAffineTransform(matrix)


# "…_qr" decoders look for QR codes only: on a textured 1920×1080 frame zxing-cpp takes about
# 5 ms for QR alone and 80–90 ms with every 1-D symbology, zbar 50 ms against 150 ms.
# Live frames mostly hold no code at all, so every step counts: zbar looks at a half-size
# copy there (12 ms instead of 45 ms on 1920×1080; a code held up to the camera is large).
FRAME_STEPS: tuple[Step, ...] = (
    ("grey", _identity, ("zxing_qr",)),
    ("half", _scaled(0.5), ("zbar_qr",)),
    ("clahe", _clahe, ("zxing_qr",)),
)
STILL_STEPS: tuple[Step, ...] = (
    ("grey", _identity, ("zxing_qr", "zbar_qr")),
    ("grey_all", _identity, ("zxing", "zbar")),  # 1-D barcodes, Data Matrix, Aztec, PDF417
    ("clahe", _clahe, ("zxing_qr", "zbar_qr")),
    ("adaptive", _adaptive, ("zxing_qr", "zbar_qr")),
    ("rescale", _rescale, ("zxing", "zbar")),
    ("sharpen", _sharpen, ("zxing_qr", "zbar_qr")),
    ("turn45", _turn45, ("zxing", "zbar")),  # zbar reads 1-D codes only along rows and columns
)
_DECODERS = {"zxing": zxing_symbols, "zbar": zbar_symbols,
             "zxing_qr": lambda grey: zxing_symbols(grey, qr_only=True),
             "zbar_qr": lambda grey: zbar_symbols(grey, qr_only=True)}


def to_grey(image: np.ndarray) -> np.ndarray:
    if image is None or not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        raise ValueError("not an image")
    if image.dtype != np.uint8:
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if image.ndim == 3:
        if image.shape[2] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
        elif image.shape[2] == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        else:
            image = image[..., 0]
    return np.ascontiguousarray(image)


def _code(symbol: _Symbol, back: np.ndarray | None) -> Code:
    decoded = decode_code_text(symbol.raw)
    corners = symbol.corners
    if back is not None and len(corners):
        corners = np.hstack([corners, np.ones((len(corners), 1))]) @ back.T
    return Code(symbol.format, decoded.text or "", tuple((float(x), float(y)) for x, y in corners),
                decoded.encoding, symbol.decoder, symbol.raw, decoded.problem)


def read_codes(image: np.ndarray, mode: str = "still", stats: ReadStats | None = None,
               steps: Iterable[Step] | None = None, refused: bool = False) -> list[Code]:
    """Every trustworthy code found by the first step of the ladder that finds any.

    With ``refused=True``, codes found but refused by the text decoder follow (``text=""``,
    ``problem`` set), each once.
    """
    started = time.perf_counter()
    stats = stats if stats is not None else ReadStats()
    grey = to_grey(image)
    ladder = steps if steps is not None else (FRAME_STEPS if mode == "frame" else STILL_STEPS)
    found: list[Code] = []
    unreadable: list[Code] = []
    for name, prepare, decoders in ladder:
        prepared, back = prepare(grey)
        for decoder in decoders:
            stats.attempts += 1
            try:
                symbols = _DECODERS[decoder](prepared)
            except Exception as exc:  # a decoder crash on a strange picture costs this attempt only
                log.warning("decoder failed", extra={"fields": {"decoder": decoder, "error": type(exc).__name__}})
                continue
            for symbol in symbols:
                code = _code(symbol, back)
                if code.problem:
                    stats.rejected += 1
                    if not any(c.raw == code.raw and c.format == code.format for c in unreadable):
                        unreadable.append(code)
                elif not any(c.text == code.text and c.format == code.format for c in found):
                    found.append(code)
            if found:
                stats.stage = f"{name}/{decoder}"
                stats.ms = (time.perf_counter() - started) * 1000
                return found + unreadable if refused else found
    stats.ms = (time.perf_counter() - started) * 1000
    return unreadable if refused else []
